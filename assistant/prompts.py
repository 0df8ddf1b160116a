"""Prompts are text files in prompts/, loaded by name into LangChain chat prompt templates."""

from dataclasses import dataclass
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

from assistant.errors import ConfigError
from assistant.settings import shipped_dir

# What each template is filled with; a prompt file naming anything else is a mistake to catch at start-up,
# not a KeyError in the middle of the first answer.
_PASSAGES_AND_QUESTION = frozenset({"passages", "question"})
_CONVERSATION_AND_QUESTION = frozenset({"conversation", "question"})


@dataclass(frozen=True)
class Prompts:
    answer: ChatPromptTemplate  # system instructions, then the numbered passages and the question
    briefing: ChatPromptTemplate  # the same passages, with the briefing instructions
    rewrite: ChatPromptTemplate  # a follow-up made standalone from the conversation

    @property
    def answer_system(self) -> str:
        """The answer instructions as the model reads them (they take no variables)."""
        return str(self.answer.messages[0].prompt.template)  # type: ignore[union-attr]

    @classmethod
    def load(cls, directory: Path | None = None) -> "Prompts":
        """The prompts in ``directory`` (settings.prompts_dir); by default the ones that ship with the code."""
        shipped = shipped_dir("prompts")
        directory = directory or shipped

        def read(name: str) -> str:
            # A folder of one's own prompts made before a prompt was added (rewrite_user) keeps working: a file
            # it lacks is the shipped one.
            path = directory / f"{name}.txt"
            try:
                return (path if path.exists() else shipped / f"{name}.txt").read_text(encoding="utf-8").strip()
            except OSError:
                raise ConfigError(f"The prompt file {path} is missing.") from None

        def template(system: str, user: str, variables: frozenset[str]) -> ChatPromptTemplate:
            try:
                prompt = ChatPromptTemplate.from_messages([("system", read(system)), ("human", read(user))])
            except ValueError as error:
                raise ConfigError(f"The prompt files {system}.txt and {user}.txt cannot be read: {error}") from None
            if set(prompt.input_variables) != variables:
                wanted = ", ".join("{" + name + "}" for name in sorted(variables))
                raise ConfigError(
                    f"The prompt files {system}.txt and {user}.txt must use exactly {wanted}; "
                    "write a literal brace as {{ or }}."
                )
            return prompt

        return cls(
            answer=template("answer_system", "answer_user", _PASSAGES_AND_QUESTION),
            briefing=template("briefing_system", "answer_user", _PASSAGES_AND_QUESTION),
            rewrite=template("rewrite", "rewrite_user", _CONVERSATION_AND_QUESTION),
        )
