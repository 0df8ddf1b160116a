"""The generator's side of an answer: the prompt with lean passages, and the model's text as it streams,
with one restart of a local server that died. What the model writes is only ever a draft: the callers
verify every sentence of it against the passages."""

import logging
import re
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from typing import cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, BaseMessageChunk
from langchain_core.prompts import ChatPromptTemplate

from assistant.answer.gate import Gate
from assistant.answer.picking import leans_back
from assistant.errors import AnswerStopped, GeneratorFailed
from assistant.models import Passage
from assistant.sentences import quotes_of
from assistant.settings import Settings

# Failures go to the log file the edge configures, with their tracebacks; questions never do.
log = logging.getLogger(__name__)
GENERATOR_FAILED = "The model did not answer ({error}); these sentences are taken from the notes directly."
# A passage reaches the model as a quotation between these tags, which the prompt says hold data, never
# instructions; a tag in a document's own text is taken out, so no document can close its quotation early.
_QUOTATION_TAG = re.compile(r"<\s*/?\s*passage\b[^>]*>", re.IGNORECASE)


def passage_units(passage: Passage) -> list[str]:
    """A passage as quotable units: sentences, with a list joined to the line that introduces it; none from a
    line that talks to an AI, so a model never reads one."""
    meta = passage.metadata
    return [quote.text for quote in quotes_of(passage.text, meta.context) if not meta.marked(quote.start, quote.end)]


class ModelText:
    """A chat model as the answerer uses it: prompts filled with lean passages, text streamed back."""

    def __init__(
        self,
        llm: BaseChatModel,
        name: str,
        gate: Gate,
        settings: Settings,
        restart: Callable[[], None] | None = None,
    ) -> None:
        self.llm = llm
        self.name = name
        self.gate = gate
        self.settings = settings
        self.restart = restart  # brings a local model server that died back; None for endpoints

    def stream(
        self, messages: list[BaseMessage], max_tokens: int, stop: threading.Event | None = None
    ) -> Iterator[str]:
        """The model's text as it streams. A failure before any text restarts a local server (if it died)
        and tries once more; a timeout is not tried again (the user has waited long enough), and any other
        failure, or a second one, is logged and raised as GeneratorFailed. Once ``stop`` is set, the next
        chunk closes the model's stream (its HTTP response with it) and AnswerStopped is raised."""
        for attempt in (1, 2):
            written = False
            try:
                chunks = cast(Generator[BaseMessageChunk, None, None], self.llm.stream(messages, max_tokens=max_tokens))
                with closing(chunks):
                    for chunk in chunks:
                        if stop is not None and stop.is_set():
                            raise AnswerStopped("The answer was stopped.")
                        written = True
                        yield str(chunk.content)
                return
            except AnswerStopped:
                raise
            except Exception as error:
                log.exception("The generator %s failed (attempt %d).", self.name, attempt)
                restarted = self._restart()
                timed_out = "Timeout" in type(error).__name__
                if written or timed_out or attempt == 2 or not restarted:
                    raise GeneratorFailed(GENERATOR_FAILED.format(error=type(error).__name__)) from error

    def _restart(self) -> bool:
        if self.restart is None:
            return False
        try:
            self.restart()
        except Exception:
            log.exception("The local model server could not be restarted.")
            return False
        return True

    def messages(self, prompt: ChatPromptTemplate, question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
        """Fixed instructions first (llama.cpp reuses that cached prefix), then lean passages, each quoted as
        data (``_QUOTATION_TAG``) without its lines that talk to an AI, then the question."""
        blocks = []
        for number, passage in enumerate(passages, start=1):
            meta = passage.metadata
            label = " · ".join(part for part in (meta.event, meta.date, meta.organisation, meta.project) if part)
            lean = _QUOTATION_TAG.sub("", self.lean(question, passage))
            blocks.append(f"[{number}] ({_QUOTATION_TAG.sub('', label)})\n<passage>\n{lean}\n</passage>")
        return prompt.format_messages(passages="\n\n".join(blocks), question=question)

    def lean(self, question: str, passage: Passage) -> str:
        """The passage's units that bear on the question, in their original order, within a word budget.

        A chosen unit brings the one after it when that one leans back on it ("The Trust funded research
        in Polmont Prison." then "This found that ..."): the finding is what was asked, though it shares
        few of the question's words, and without it the model rightly says the notes don't cover it.
        """
        units = passage_units(passage)
        coverage = self.gate.grounding.coverage
        ranked = sorted(range(len(units)), key=lambda i: -coverage(question, units[i]))
        chosen: set[int] = set()
        used = 0
        for index in ranked:
            group = [index] + ([index + 1] if index + 1 < len(units) and leans_back(units[index + 1]) else [])
            size = sum(len(units[member].split()) for member in group if member not in chosen)
            if used and used + size > self.settings.passage_words:
                continue
            chosen.update(group)
            used += size
        return " ".join(units[index] for index in sorted(chosen))
