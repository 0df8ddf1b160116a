"""Follow-ups: a question that leans on the conversation ("can I contact them?") made standalone, from
the organisations, projects, events and acronyms the previous answer named; a model may rewrite it first."""

import re
from collections.abc import Sequence

from assistant.gate import Gate
from assistant.generation import ModelText
from assistant.grounding import strip_citations, subject_of
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.text import tokenize

PRONOUN = re.compile(r"\b(it|its|they|them|their|this|that|these|those|he|she|there|else)\b", re.IGNORECASE)
# A name in an answer: capitalised words, possibly joined by "of", "and", "for" ("Plan 21-24", "Bright Spots").
_NAME_IN_ANSWER = re.compile(r"\b[A-Z][\w'’#-]*(?:\s+(?:of\s+|and\s+|for\s+)?[A-Z0-9][\w'’#-]*)*")
# An acronym the previous answer used ("CARM", "SPRAG"): a follow-up may ask what it stands for.
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,7}\b")
_REWRITE_TOKENS = 60
_TURNS_SHOWN = 4
_TURN_CHARACTERS = 400


class FollowUps:
    def __init__(
        self,
        retriever: HybridRetriever,
        gate: Gate,
        settings: Settings,
        prompts: Prompts,
        model: ModelText | None = None,
    ) -> None:
        self.retriever = retriever
        self.gate = gate
        self.settings = settings
        self.prompts = prompts
        self.model = model

    def standalone(self, question: str, history: Sequence[dict[str, str]]) -> str:
        """The question as it would be asked without the conversation; raises GeneratorFailed."""
        if not history:
            return question
        if self.model is not None:
            rewritten = self._rewritten(question, history)
            if rewritten:
                return rewritten
        return self.carry_entities(question, history)

    def _rewritten(self, question: str, history: Sequence[dict[str, str]]) -> str | None:
        assert self.model is not None
        conversation = "\n".join(
            f"{turn['role']}: {turn['content'][:_TURN_CHARACTERS]}" for turn in history[-_TURNS_SHOWN:]
        )
        messages = self.prompts.rewrite.format_messages(conversation=conversation, question=question)
        text = "".join(self.model.stream(messages, max_tokens=_REWRITE_TOKENS)).strip().strip('"')
        first_line = text.splitlines()[0].strip() if text else ""
        if not first_line or len(first_line) > 3 * len(question) + 200:
            return None
        return self.carry_entities(first_line, history) if PRONOUN.search(first_line) else first_line

    def carry_entities(self, question: str, history: Sequence[dict[str, str]]) -> str:
        """A question that leans on the conversation ('can I contact them?') takes its subject from it.

        The subject is what the previous answer was about: the organisations, projects and events it
        named and the acronyms it used; failing those, the last question's subject. A short question
        without a pronoun ('and the funding?') leans on it too, unless it names something the notes
        never mention ('capital of France?'): that is a new topic, not a follow-up.
        """
        previous = [turn["content"] for turn in history if turn.get("role") == "user"]
        answers = [turn["content"] for turn in history if turn.get("role") == "assistant"]
        if not previous and not answers:
            return question
        short_follow_up = len(question.split()) <= 8 and self.gate.grounding.uses_only_known_words(question)
        if not (PRONOUN.search(question) or short_follow_up):
            return question
        named = self.named_in(answers[-1])[: self.settings.follow_up_names] if answers else []
        subject = "; ".join(named) if named else subject_of(previous[-1]) if previous else ""
        return f"{question} ({subject})" if subject else question

    def named_in(self, answer: str) -> list[str]:
        """The organisations, projects and events of the notes that an answer names, and its acronyms."""
        text, _ = strip_citations(answer)
        names: dict[str, int] = {}
        for passage in self.retriever.passages:
            meta = passage.metadata
            for name in (meta.organisation, meta.project, meta.event):
                if name and len(name) > 3 and name not in names:
                    position = text.replace("’", "'").find(name.replace("’", "'"))
                    if position >= 0:
                        names[name] = position
        idf = self.retriever.idf()
        # Other names the answer gives that the notes use ("Bright Spots", "Plan 21-24"), and its acronyms.
        for match in [*_NAME_IN_ANSWER.finditer(text), *_ACRONYM.finditer(text)]:
            name = match.group()
            words = tokenize(name)
            sentence_start = match.start() == 0 or text[: match.start()].rstrip().endswith((".", "!", "?", ":"))
            known = (len(name.split()) > 1 or name.isupper()) and bool(words) and all(word in idf for word in words)
            if known and not (sentence_start and len(name.split()) == 1) and name not in names:
                names[name] = match.start()
        ordered = sorted(names, key=lambda name: names[name])
        # A name inside a longer one ("Promise" in "Promise Learning Collaborative") adds nothing.
        return [name for name in ordered if not any(name != other and name in other for other in ordered)][:4]
