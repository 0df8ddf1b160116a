"""Grounded answers over retrieval: follow-ups, relevance gate, generation, verification, citations.

The generator (a chat model, or none for the extractive mode) only drafts. What the user sees is
decided here, in code: passages below the relevance threshold never reach the model, and every
drafted sentence is kept only if a supplied passage supports it.
"""

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.grounding import NOT_COVERED, Grounding, SupportedSentence, split_sentences, subject_of
from assistant.models import Answer, Briefing, Citation, Passage, ProjectMatch, SearchFilters, SearchResult
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever, tokenize, validate_query
from assistant.settings import Settings

_PRONOUN = re.compile(r"\b(it|its|they|them|their|this|that|these|those|he|she|there)\b", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(?:[-*•▶→]|\d{1,2}[.)])\s+")
_HEADER = re.compile(r"^Question: .*\?$")
_MAX_LIST_ITEMS = 8


@dataclass(frozen=True)
class SourcesEvent:
    """Retrieval is done: the passages the answer will draw on."""

    standalone_question: str
    results: list[SearchResult]


@dataclass(frozen=True)
class TextEvent:
    """A verified sentence of the answer, with its citation markers."""

    text: str


@dataclass(frozen=True)
class DoneEvent:
    answer: Answer


AnswerEvent = SourcesEvent | TextEvent | DoneEvent


def passage_units(passage: Passage) -> list[str]:
    """A passage as quotable units: sentences, with a list joined to the line that introduces it."""
    units: list[str] = []
    # A unit's repeated header ("Question: ...") frames the passage; it is not something the notes say.
    lines = [line.strip() for line in passage.body.splitlines() if line.strip() and not _HEADER.match(line)]
    index = 0
    while index < len(lines):
        line = lines[index]
        items: list[str] = []
        following = index + 1
        while (
            following < len(lines)
            and len(items) < _MAX_LIST_ITEMS
            and (_LIST_ITEM.match(lines[following]) or (len(lines[following].split()) <= 6 and not line.endswith(".")))
        ):
            items.append(_LIST_ITEM.sub("", lines[following]).rstrip(".;"))
            following += 1
        if len(items) >= 2 and not _LIST_ITEM.match(line):
            units.append(f"{line.rstrip(':')}: {'; '.join(items)}.")
            index = following
            continue
        units.extend(split_sentences(line))
        index += 1
    return units


class Answerer:
    def __init__(
        self,
        retriever: HybridRetriever,
        llm: BaseChatModel | None,
        prompts: Prompts,
        settings: Settings,
        generator: str = "extractive",
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.prompts = prompts
        self.settings = settings
        self.generator = generator if llm is not None else "extractive"
        self._grounding: tuple[int, Grounding] | None = None

    @property
    def grounding(self) -> Grounding:
        """Grounding over the retriever's current word statistics (they change when documents do)."""
        if self._grounding is None or self._grounding[0] != self.retriever.generation:
            checks = Grounding(self.retriever.idf(), self.settings.relevance_threshold, self.settings.support_threshold)
            self._grounding = (self.retriever.generation, checks)
        return self._grounding[1]

    # --- follow-ups -------------------------------------------------------------------------

    def standalone_question(self, question: str, history: Sequence[dict[str, str]]) -> str:
        if not history:
            return question
        if self.llm is not None:
            rewritten = self._rewrite_with_llm(question, history)
            if rewritten:
                return rewritten
        return self._carry_entities(question, history)

    def _rewrite_with_llm(self, question: str, history: Sequence[dict[str, str]]) -> str | None:
        assert self.llm is not None
        turns = "\n".join(f"{turn['role']}: {turn['content'][:400]}" for turn in history[-4:])
        messages = [
            SystemMessage(self.prompts.rewrite),
            HumanMessage(f"Conversation:\n{turns}\n\nLast question: {question}"),
        ]
        try:
            text = str(self.llm.invoke(messages, max_tokens=60).content).strip().strip('"')
        except Exception:
            return None
        first_line = text.splitlines()[0].strip() if text else ""
        if not first_line or len(first_line) > 3 * len(question) + 200:
            return None
        return self._carry_entities(first_line, history) if _PRONOUN.search(first_line) else first_line

    def _carry_entities(self, question: str, history: Sequence[dict[str, str]]) -> str:
        """A question that leans on the conversation ('what did it find?') takes the last question's subject.

        A short question without a pronoun ('and the funding?') leans on it too, unless it names
        something the notes never mention ('capital of France?'): that is a new topic, not a follow-up.
        """
        previous = [turn["content"] for turn in history if turn.get("role") == "user"]
        if not previous:
            return question
        short_follow_up = len(question.split()) <= 6 and self.grounding.uses_only_known_words(question)
        if not (_PRONOUN.search(question) or short_follow_up):
            return question
        return f"{question} ({subject_of(previous[-1])})"

    # --- answering --------------------------------------------------------------------------

    def answer(
        self, question: str, history: Sequence[dict[str, str]] = (), filters: SearchFilters | None = None
    ) -> Answer:
        final = None
        for event in self.stream(question, history, filters):
            if isinstance(event, DoneEvent):
                final = event.answer
        assert final is not None
        return final

    def stream(
        self, question: str, history: Sequence[dict[str, str]] = (), filters: SearchFilters | None = None
    ) -> Iterator[AnswerEvent]:
        started = time.perf_counter()
        question = validate_query(question, self.settings)  # the cleaned question is the one answered
        standalone = self.standalone_question(question, history)
        results = self.retriever.search(standalone, k=self.settings.top_k, filters=filters)
        retrieved = time.perf_counter()
        yield SourcesEvent(standalone, results)

        relevance = self.grounding.relevance(standalone, results)
        passages = [result.passage for result in results[: self.settings.answer_passages]]
        if relevance < self.settings.relevance_threshold or not passages:
            yield DoneEvent(self._not_covered(question, standalone, results, started, retrieved))
            return

        citations: dict[int, int] = {}  # supplied passage number -> citation number shown
        kept: list[SupportedSentence] = []
        for sentence in self._verified_sentences(standalone, passages):
            kept.append(sentence)
            yield TextEvent(self._render(sentence, citations))
        if not self.grounding.answers_question(standalone, kept, passages):
            yield DoneEvent(self._not_covered(question, standalone, results, started, retrieved))
            return
        done = time.perf_counter()
        by_number = {result.passage.chunk_id: result for result in results}
        answer = Answer(
            question=question,
            standalone_question=standalone,
            text=" ".join(self._render(sentence, dict(citations)) for sentence in kept),
            answered=True,
            citations=[
                Citation(shown, passages[supplied - 1], by_number[passages[supplied - 1].chunk_id].score)
                for supplied, shown in citations.items()
            ],
            timings=_timings(started, retrieved, done),
            generator=self.generator,
            suggestions=[],
        )
        yield DoneEvent(answer)

    @staticmethod
    def _render(sentence: SupportedSentence, citations: dict[int, int]) -> str:
        markers = []
        for supplied in sentence.passages:
            shown = citations.setdefault(supplied, len(citations) + 1)
            markers.append(f"[{shown}]")
        text = sentence.text.rstrip()
        end = text[-1] if text[-1] in ".!?" else "."
        return f"{text.rstrip('.!?')} {''.join(markers)}{end}"

    def _verified_sentences(self, question: str, passages: list[Passage]) -> Iterator[SupportedSentence]:
        if self.llm is None:
            yield from self.grounding.verify(self.extractive_draft(question, passages), passages)
            return
        messages = self._messages(self.prompts.answer_system, question, passages)
        buffer = draft = ""
        for chunk in self.llm.stream(messages, max_tokens=self.settings.max_answer_tokens):
            buffer += str(chunk.content)
            draft += str(chunk.content)
            # Verify sentence by sentence as the draft streams in, so verified text reaches the user early.
            while (match := re.search(r"[.!?](?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*\s+(?=\S)", buffer)) is not None:
                sentence, buffer = buffer[: match.end()], buffer[match.end() :]
                yield from self.grounding.verify(sentence, passages)
        if buffer.strip():
            yield from self.grounding.verify(buffer, passages)
        if _declined(draft):
            # Small models often decline although the passages, which cleared the relevance gate, answer
            # the question; their own sentences then stand in. A draft that made claims the passages do
            # not support is not rescued: that answer is refused.
            yield from self.grounding.verify(self.extractive_draft(question, passages), passages)

    def _messages(self, system: str, question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
        """Fixed instructions first (llama.cpp reuses that cached prefix), then lean passages, then the question."""
        blocks = []
        for number, passage in enumerate(passages, start=1):
            meta = passage.metadata
            label = " · ".join(part for part in (meta.event, meta.date, meta.organisation, meta.project) if part)
            blocks.append(f"[{number}] ({label})\n{self._lean(question, passage)}")
        user = self.prompts.answer_user.format(passages="\n\n".join(blocks), question=question)
        return [SystemMessage(system), HumanMessage(user)]

    def _lean(self, question: str, passage: Passage) -> str:
        """The passage's units that bear on the question, in their original order, within a word budget."""
        units = passage_units(passage)
        ranked = sorted(range(len(units)), key=lambda i: -self.grounding.coverage(question, units[i]))
        chosen: set[int] = set()
        used = 0
        for index in ranked:
            size = len(units[index].split())
            if used and used + size > self.settings.passage_words:
                continue
            chosen.add(index)
            used += size
        return " ".join(units[index] for index in sorted(chosen))

    def extractive_draft(self, question: str, passages: Sequence[Passage]) -> str:
        """The units of the passages that best cover the question, each with its passage number."""
        scored: list[tuple[float, int, str]] = []
        for number, passage in enumerate(passages, start=1):
            prior = 1.0 - 0.05 * (number - 1)  # retrieval order breaks ties
            for unit in passage_units(passage):
                if len(tokenize(unit)) >= 3:
                    scored.append((self.grounding.coverage(question, unit) * prior, number, unit))
        scored.sort(key=lambda item: -item[0])
        if not scored or scored[0][0] <= 0:
            return ""
        best = scored[0][0]
        lines: list[str] = []
        per_passage: dict[int, int] = {}
        for score, number, unit in scored:
            if score < best * 0.6 or len(lines) == self.settings.extractive_sentences:
                break
            if per_passage.get(number, 0) == 2:
                continue
            per_passage[number] = per_passage.get(number, 0) + 1
            lines.append(f"{unit} [{number}]")
        return "\n".join(lines)

    def best_unit(self, question: str, passage: Passage) -> str:
        """The sentence (or introduced list) of a passage that best covers the question."""
        units = [unit for unit in passage_units(passage) if len(tokenize(unit)) >= 3] or [passage.body]
        return max(units, key=lambda unit: self.grounding.coverage(question, unit))

    # --- project finder ---------------------------------------------------------------------

    def find_projects(self, challenge: str, k: int = 5) -> list[ProjectMatch]:
        """Distinct organisations whose passages bear on the challenge, best first."""
        challenge = validate_query(challenge, self.settings)
        results = self.retriever.search(challenge, k=max(k * 4, 12))
        if self.grounding.relevance(challenge, results) < self.settings.relevance_threshold:
            return []
        matches: list[ProjectMatch] = []
        seen: set[tuple[str, str]] = set()
        for result in results:
            meta = result.passage.metadata
            name = meta.organisation or meta.project
            if not name or (name.lower(), meta.event) in seen:
                continue
            if self.grounding.coverage(challenge, result.passage.text) < self.settings.relevance_threshold / 2:
                continue  # a weak match; better fewer projects than padding
            seen.add((name.lower(), meta.event))
            citation = Citation(1, result.passage, result.score)
            why = f"{self.best_unit(challenge, result.passage).rstrip('.')} [1]."
            matches.append(
                ProjectMatch(name, meta.project if meta.organisation else None, meta.event, meta.date,
                             meta.source, why, meta.contact, [citation])
            )  # fmt: skip
            if len(matches) == k:
                break
        return matches

    # --- briefings --------------------------------------------------------------------------

    def brief(self, topic: str) -> Briefing:
        """A headline and 3-6 cited key points from as many different projects as the notes support."""
        subject = subject_of(validate_query(topic, self.settings))
        results = self.retriever.search(subject, k=18)
        if self.grounding.relevance(subject, results) < self.settings.relevance_threshold:
            return Briefing(topic, f"The notes don't cover {subject}", [], [], self.generator)
        passages: list[Passage] = []
        organisations: set[str] = set()
        for result in results:
            name = (result.passage.metadata.organisation or result.passage.metadata.section or "").lower()
            if name in organisations or self.grounding.coverage(subject, result.passage.text) < 0.3:
                continue
            organisations.add(name)
            passages.append(result.passage)
            if len(passages) == self.settings.briefing_points:
                break
        if self.llm is not None:
            messages = self._messages(self.prompts.briefing_system, subject, passages)
            draft = str(self.llm.invoke(messages, max_tokens=self.settings.max_answer_tokens * 2).content)
        else:
            draft = "\n".join(f"{self.best_unit(subject, p)} [{n}]" for n, p in enumerate(passages, start=1))
        supported = self.grounding.verify(draft, passages)
        one_per_passage = list({sentence.passages[0]: sentence for sentence in reversed(supported)}.values())[::-1]
        citations: dict[int, int] = {}
        points = [self._render(sentence, citations) for sentence in one_per_passage]
        by_id = {result.passage.chunk_id: result.score for result in results}
        return Briefing(
            topic=topic,
            headline=f"{subject[:1].upper()}{subject[1:]}: what {len(points)} projects in the notes show",
            points=points,
            citations=[
                Citation(shown, passages[n - 1], by_id[passages[n - 1].chunk_id]) for n, shown in citations.items()
            ],
            generator=self.generator,
        )

    def _not_covered(
        self, question: str, standalone: str, results: list[SearchResult], started: float, retrieved: float
    ) -> Answer:
        topics = list(dict.fromkeys(_topic(result.passage) for result in results))[:3]
        text = NOT_COVERED
        if topics:
            text += " The closest topics they do cover: " + "; ".join(topics) + "."
        return Answer(
            question=question,
            standalone_question=standalone,
            text=text,
            answered=False,
            citations=[],
            timings=_timings(started, retrieved, time.perf_counter()),
            generator=self.generator,
            suggestions=topics,
        )


def _declined(draft: str) -> bool:
    """The model wrote nothing, or only that the notes don't cover the question."""
    text = re.sub(r"\[\d+\]", "", draft).strip().strip(".").lower()
    return not text or text in NOT_COVERED.lower() or "don't cover" in text or "do not cover" in text


def _topic(passage: Passage) -> str:
    meta = passage.metadata
    who = " – ".join(part for part in (meta.organisation, meta.project) if part)
    return f"{who} ({meta.event})" if who else f"{meta.section or meta.event} ({meta.event})"


def _timings(started: float, retrieved: float, done: float) -> dict[str, float]:
    return {
        "retrieve_ms": (retrieved - started) * 1000,
        "generate_ms": (done - retrieved) * 1000,
        "total_ms": (done - started) * 1000,
    }
