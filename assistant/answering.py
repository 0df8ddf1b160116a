"""Grounded answers over retrieval: follow-ups, relevance gate, generation, verification, citations.

The generator (a chat model, or none for the extractive mode) only drafts. What the user sees is
decided here, in code: passages below the relevance threshold never reach the model, and every
drafted sentence is kept only if a supplied passage supports it.
"""

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.embeddings import vocabulary
from assistant.errors import GeneratorFailed
from assistant.grounding import (
    NOT_COVERED,
    Grounding,
    SupportedSentence,
    spelled_date,
    strip_citations,
    subject_of,
)
from assistant.models import Answer, Briefing, Citation, Passage, ProjectMatch, SearchFilters, SearchResult
from assistant.picking import Candidate, SentencePicker, leans_back
from assistant.prompts import Prompts
from assistant.questions import SINGLE_FACTS, AskedFact, FactKind, asked_fact, states
from assistant.retrieval import HybridRetriever, tokenize, validate_query
from assistant.sentences import quotes_of
from assistant.settings import Settings

_PRONOUN = re.compile(r"\b(it|its|they|them|their|this|that|these|those|he|she|there|else)\b", re.IGNORECASE)
# A name in an answer: capitalised words, possibly joined by "of", "and", "for" ("Plan 21-24", "Bright Spots").
_NAME_IN_ANSWER = re.compile(r"\b[A-Z][\w'’#-]*(?:\s+(?:of\s+|and\s+|for\s+)?[A-Z0-9][\w'’#-]*)*")
# An acronym the previous answer used ("CARM", "SPRAG"): a follow-up may ask what it stands for.
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,7}\b")
_MORE = re.compile(r"\b(else|other|another|more|besides)\b", re.IGNORECASE)
# A sentence about an event still to come: the notes' own date is not its date.
_FUTURE = re.compile(r"\b(will be|next|upcoming|forthcoming|to be held|planned for)\b", re.IGNORECASE)
# Failures go to the log file the edge configures, with their tracebacks; questions never do.
log = logging.getLogger(__name__)
GENERATOR_FAILED = "The model did not answer ({error}); these sentences are taken from the notes directly."


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


@dataclass(frozen=True)
class Standing:
    """What stands for one organisation on a topic: its closest sentence (with the sentence before it when it
    leans on that one), and the search result whose unit holds them."""

    sentences: list[Candidate]
    result: SearchResult

    @property
    def passage(self) -> Passage:
        return self.sentences[-1].passage  # standing pairs share their chunk

    @property
    def text(self) -> str:
        return " ".join(candidate.quote.text for candidate in self.sentences)


def passage_units(passage: Passage) -> list[str]:
    """A passage as quotable units: sentences, with a list joined to the line that introduces it."""
    return [quote.text for quote in quotes_of(passage.text, passage.metadata.context)]


class Answerer:
    def __init__(
        self,
        retriever: HybridRetriever,
        llm: BaseChatModel | None,
        prompts: Prompts,
        settings: Settings,
        generator: str = "extractive",
        restart: Callable[[], None] | None = None,
    ) -> None:
        self.retriever = retriever
        self.llm = llm
        self.prompts = prompts
        self.settings = settings
        self.generator = generator if llm is not None else "extractive"
        self.restart = restart  # brings a local model server that died back; None for endpoints
        self._grounding: tuple[int, Grounding] | None = None
        self.picker = SentencePicker(retriever, settings)

    @property
    def grounding(self) -> Grounding:
        """Grounding over the retriever's current word statistics (they change when documents do)."""
        if self._grounding is None or self._grounding[0] != self.retriever.generation:
            checks = Grounding(
                self.retriever.idf(),
                self.settings.relevance_threshold,
                self.settings.support_threshold,
                vocabulary(self.retriever.store.embeddings),
            )
            self._grounding = (self.retriever.generation, checks)
        return self._grounding[1]

    # --- follow-ups -------------------------------------------------------------------------

    def standalone_question(self, question: str, history: Sequence[dict[str, str]]) -> str:
        """The question as it would be asked without the conversation; raises GeneratorFailed."""
        if not history:
            return question
        if self.llm is not None:
            rewritten = self._rewrite_with_llm(question, history)
            if rewritten:
                return rewritten
        return self._carry_entities(question, history)

    def _rewrite_with_llm(self, question: str, history: Sequence[dict[str, str]]) -> str | None:
        turns = "\n".join(f"{turn['role']}: {turn['content'][:400]}" for turn in history[-4:])
        messages = [
            SystemMessage(self.prompts.rewrite),
            HumanMessage(f"Conversation:\n{turns}\n\nLast question: {question}"),
        ]
        text = "".join(self._model_text(messages, max_tokens=60)).strip().strip('"')
        first_line = text.splitlines()[0].strip() if text else ""
        if not first_line or len(first_line) > 3 * len(question) + 200:
            return None
        return self._carry_entities(first_line, history) if _PRONOUN.search(first_line) else first_line

    def _carry_entities(self, question: str, history: Sequence[dict[str, str]]) -> str:
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
        short_follow_up = len(question.split()) <= 8 and self.grounding.uses_only_known_words(question)
        if not (_PRONOUN.search(question) or short_follow_up):
            return question
        named = self._named_in(answers[-1])[: self.settings.follow_up_names] if answers else []
        subject = "; ".join(named) if named else subject_of(previous[-1]) if previous else ""
        return f"{question} ({subject})" if subject else question

    def _named_in(self, answer: str) -> list[str]:
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
        notice: str | None = None
        try:
            standalone = self.standalone_question(question, history)
        except GeneratorFailed as failure:
            notice = str(failure)
            standalone = self._carry_entities(question, history)
        vector = self.retriever.embed(standalone)  # one embedding serves retrieval and sentence picking
        results = self.retriever.search(standalone, k=self.settings.top_k, filters=filters, vector=vector)
        retrieved = time.perf_counter()
        yield SourcesEvent(standalone, results)

        asked = asked_fact(standalone)
        units = self.picker.units(results, self.settings.pick_units)
        # A follow-up wants what the conversation has not said yet: "What else ...?" only that; any other
        # follow-up keeps its direct answer even if said before: the sentences stating the kind of fact it asks
        # for, and its best sentence unless the answer opens with a line of its own (a contact, the event's
        # date and place).
        said_before = {_folded(turn["content"]) for turn in history if turn.get("role") == "assistant"}
        scored = self.picker.candidates(standalone, vector, asked, units, self.grounding)
        own_line = set(asked.kinds) & {FactKind.CONTACT, FactKind.DATE, FactKind.YEAR, FactKind.PLACE}
        direct = {
            candidate.key
            for candidate in scored
            if asked.kind is not FactKind.GENERAL and asked.stated_by(candidate.quote.text, frozenset())
        } | (set() if own_line else {candidate.key for candidate in scored[:1]})
        candidates = [
            candidate
            for candidate in scored
            if not any(_folded(candidate.quote.text) in earlier for earlier in said_before)
            or (candidate.key in direct and not _MORE.search(question))
        ]
        about = scored[0].passage if scored else None  # what the question is about, said before or not
        if _MORE.search(question):
            similarity = _closest(candidates)
        else:
            similarity = _closest(scored)
            candidates = candidates or scored[:1]
        if not self._covered(question, standalone, results, similarity):
            yield DoneEvent(self._not_covered(question, standalone, results, started, retrieved, notice))
            return
        passages = [] if self.llm is None else [result.passage for result in results[: self.settings.answer_passages]]

        def from_notes() -> list[SupportedSentence]:
            """The extractive answer, verified; its passages are numbered after those already supplied."""
            return self.grounding.verify(
                self._composed_draft(asked, candidates, units, passages, about), passages, by_line=True
            )

        citations: dict[int, int] = {}  # supplied passage number -> citation number shown
        # A contact question opens with the contact, or with the notes giving none: its sentences wait for that.
        contact_first = asked.kind is FactKind.CONTACT
        kept: list[SupportedSentence] = []
        drafted_by = ["extractive"]  # who wrote the kept sentences, as the answer will say
        try:
            verified = (
                from_notes()
                if self.llm is None
                else self._verified_sentences(standalone, passages, drafted_by, from_notes)
            )
            for sentence in verified:
                kept.append(sentence)
                if not contact_first:
                    yield TextEvent(self._render(sentence, citations))
        except GeneratorFailed as failure:
            # What the model had written and was verified stays; the notes' own sentences complete it.
            notice = str(failure)
            for sentence in from_notes():
                if all(sentence.text != earlier.text for earlier in kept):
                    kept.append(sentence)
                    if "extractive" not in drafted_by:
                        drafted_by.append("extractive")
                    if not contact_first:
                        yield TextEvent(self._render(sentence, citations))
        if not self.grounding.answers_question(standalone, kept, passages):
            yield DoneEvent(self._not_covered(question, standalone, results, started, retrieved, notice))
            return
        missing = self._missing_fact(asked, kept, passages, about)
        if missing and not contact_first:
            yield TextEvent(missing)
        if contact_first:
            if missing:
                yield TextEvent(missing)
            for sentence in kept:
                yield TextEvent(self._render(sentence, citations))
        done = time.perf_counter()
        by_unit = {result.passage.metadata.unit_id: result.score for result in reversed(results)}
        answer = Answer(
            question=question,
            standalone_question=standalone,
            text=" ".join(
                ([missing] if missing and contact_first else [])
                + [self._render(sentence, dict(citations)) for sentence in kept]
                + ([missing] if missing and not contact_first else [])
            ),
            answered=True,
            citations=[
                Citation(shown, passages[supplied - 1], by_unit.get(passages[supplied - 1].metadata.unit_id, 0.0))
                for supplied, shown in citations.items()
            ],
            timings=_timings(started, retrieved, done),
            generator=" + ".join(drafted_by),
            suggestions=[],
            notice=notice,
        )
        yield DoneEvent(answer)

    def _covered(self, question: str, standalone: str, results: list[SearchResult], similarity: float | None) -> bool:
        """The notes cover the question: it names nothing they never mention, and a passage covers its
        content words or a sentence is close to it in meaning."""
        if not results or self.grounding.unknown_names(question):
            return False
        close = similarity is not None and similarity >= self.settings.sentence_similarity_threshold
        relevance = self.grounding.relevance(standalone, results, similarity)
        return relevance >= self.settings.relevance_threshold or (close and relevance >= self.settings.relevance_floor)

    def _composed_draft(
        self,
        asked: AskedFact,
        candidates: list[Candidate],
        units: list,
        passages: list[Passage],
        about: Passage | None = None,
    ) -> str:
        """The extractive answer: the direct answer first, then supporting points, each naming its project.

        A contact question opens with the contact the notes give; a question of when or where opens
        with the event's own date and place when no sentence states them. The draft cites ``passages``,
        to which the passages it quotes are added after those already there (a generator's, which its
        verified sentences may cite), so both sets of citation numbers stay valid.
        """
        # Only sentences that pass verification on their own are composed, so each project is named before its
        # first sentence that is actually shown.
        checkable = [c for c in candidates if self.grounding.verify(c.quote.text, [c.passage], by_line=True)]
        picked = self.picker.compose(checkable, asked)
        lines: list[str] = []

        def number(passage: Passage) -> int:
            if passage not in passages:
                passages.append(passage)
            return passages.index(passage) + 1

        if asked.kind is FactKind.CONTACT:
            # The contact of the project the question is about (the best sentence's), or none: never another's.
            for passage in [about] if about else [candidate.passage for candidate in candidates[:1]]:
                if passage.metadata.contact:
                    lines.append(
                        f"{_who(passage) or passage.metadata.event}: {passage.metadata.contact} [{number(passage)}]"
                    )
                    break
        opening = picked[0] if picked else None
        if (
            opening
            and set(asked.kinds) & {FactKind.DATE, FactKind.YEAR, FactKind.PLACE}
            and not any(asked.stated_by(candidate.quote.text, frozenset()) for candidate in picked)
            and not _FUTURE.search(opening.quote.text)
        ):
            # The event of the best result: its unit may hold only headings ("Promise Learning Collaborative").
            event = units[0].quotes[0][1] if units and units[0].quotes else opening.passage
            held = _held(event)
            if held:
                lines.append(f"{held} [{number(event)}]")
        named: set[str] = set()
        for candidate in picked:
            who = _who(candidate.passage)
            lines.append(
                f"{candidate.quote.text if who in named else _attributed(candidate.passage, candidate.quote.text)}"
                f" [{number(candidate.passage)}]"
            )
            named.add(who)
        return "\n".join(lines)

    @staticmethod
    def _missing_fact(
        asked: AskedFact, kept: list[SupportedSentence], passages: list[Passage], about: Passage | None = None
    ) -> str | None:
        """One plain sentence when the notes discuss the subject but not the single fact asked for; for a
        contact, of the project the question is about (``about``) when known, else of those quoted."""
        if asked.kind not in SINGLE_FACTS:
            return None
        if asked.kind is FactKind.CONTACT:
            if any(passages[n - 1].metadata.contact for sentence in kept for n in sentence.passages):
                return None
            if about is not None and about.metadata.contact:
                return None
            quoted = (_who(passages[n - 1]) for s in kept for n in s.passages if _who(passages[n - 1]))
            who = (_who(about) if about is not None else "") or next(quoted, None)
            return f"The notes give no contact for {who}." if who else "The notes give no contact for this."
        if any(asked.stated_by(sentence.text, frozenset(tokenize(asked.noun))) for sentence in kept):
            # A date without its year ("Tuesday 25 January") answers "when" only in part.
            if asked.kind is FactKind.DATE and not any(states(FactKind.YEAR, s.text) for s in kept):
                return "The notes don't give the year."
            return None
        return f"The notes don't give the {asked.kind.value} asked for."

    @staticmethod
    def _render(sentence: SupportedSentence, citations: dict[int, int]) -> str:
        markers = []
        for supplied in sentence.passages:
            shown = citations.setdefault(supplied, len(citations) + 1)
            markers.append(f"[{shown}]")
        text = sentence.text.rstrip()
        end = text[-1] if text[-1] in ".!?" else "."
        return f"{text.rstrip('.!?')} {''.join(markers)}{end}"

    def _verified_sentences(
        self,
        question: str,
        passages: list[Passage],
        drafted_by: list[str],
        from_notes: Callable[[], list[SupportedSentence]],
    ) -> Iterator[SupportedSentence]:
        """The model's answer, each sentence verified; ``drafted_by`` is set to whoever wrote the ones kept.
        ``from_notes`` gives the verified extractive answer (adding the passages it cites to ``passages``)."""
        messages = self._messages(self.prompts.answer_system, question, passages)
        buffer = draft = ""
        for text in self._model_text(messages, self.settings.max_answer_tokens):
            buffer += text
            draft += text
            # Verify sentence by sentence as the draft streams in, so verified text reaches the user early.
            while (match := re.search(r"[.!?](?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*\s+(?=\S)", buffer)) is not None:
                sentence, buffer = buffer[: match.end()], buffer[match.end() :]
                for supported in self.grounding.verify(sentence, passages):
                    drafted_by[:] = [self.generator]
                    yield supported
        for supported in self.grounding.verify(buffer, passages) if buffer.strip() else []:
            drafted_by[:] = [self.generator]
            yield supported
        if _declined(draft):
            # Small models often decline although the passages, which cleared the relevance gate, answer
            # the question; their own sentences then stand in. A draft that made claims the passages do
            # not support is not rescued: that answer is refused.
            yield from from_notes()

    def _model_text(self, messages: list[BaseMessage], max_tokens: int) -> Iterator[str]:
        """The model's text as it streams. A failure before any text restarts a local server (if it died)
        and tries once more; a timeout is not tried again (the user has waited long enough), and any other
        failure, or a second one, is logged and raised as GeneratorFailed."""
        assert self.llm is not None
        for attempt in (1, 2):
            written = False
            try:
                for chunk in self.llm.stream(messages, max_tokens=max_tokens):
                    written = True
                    yield str(chunk.content)
                return
            except Exception as error:
                log.exception("The generator %s failed (attempt %d).", self.generator, attempt)
                restarted = self._restart_generator()
                timed_out = "Timeout" in type(error).__name__
                if written or timed_out or attempt == 2 or not restarted:
                    reason = type(error).__name__
                    raise GeneratorFailed(GENERATOR_FAILED.format(error=reason)) from error

    def _restart_generator(self) -> bool:
        if self.restart is None:
            return False
        try:
            self.restart()
        except Exception:
            log.exception("The local model server could not be restarted.")
            return False
        return True

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
        """The passage's units that bear on the question, in their original order, within a word budget.

        A chosen unit brings the one after it when that one leans back on it ("The Trust funded research
        in Polmont Prison." then "This found that ..."): the finding is what was asked, though it shares
        few of the question's words, and without it the model rightly says the notes don't cover it.
        """
        units = passage_units(passage)
        ranked = sorted(range(len(units)), key=lambda i: -self.grounding.coverage(question, units[i]))
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

    def best_unit(self, question: str, passage: Passage) -> str:
        """The sentence (or introduced list) of a passage that best covers the question."""
        units = [unit for unit in passage_units(passage) if len(tokenize(unit)) >= 3] or [passage.body]
        return max(units, key=lambda unit: self.grounding.coverage(question, unit))

    # --- project finder ---------------------------------------------------------------------

    def find_projects(self, challenge: str, k: int = 5) -> list[ProjectMatch]:
        """Distinct organisations whose notes bear on the challenge, best first, each with the sentence that
        makes it relevant. The same decision as answers: a challenge the notes don't cover finds nothing."""
        challenge = validate_query(challenge, self.settings)
        best = self._best_per_organisation(challenge, max(k * 4, 12))
        matches: list[ProjectMatch] = []
        for standing in best[:k]:
            meta = standing.passage.metadata
            name = meta.organisation or meta.project or ""
            matches.append(
                ProjectMatch(name, meta.project if meta.organisation else None, meta.event, meta.date, meta.source,
                             f"{standing.text.rstrip('.')} [1].", meta.contact,
                             [Citation(1, standing.passage, standing.result.score)])
            )  # fmt: skip
        return matches

    def _best_per_organisation(self, topic: str, depth: int, general: bool = False) -> list[Standing]:
        """For each organisation among the top ``depth`` results, its sentence closest to the topic (with the
        one it leans on), best first; sentences stating a plan's aims, headings and fragments never stand for a
        project.
        ``general``: notes that name no organisation (a discussion's points) count too, one per unit."""
        vector = self.retriever.embed(topic)
        results = self.retriever.search(topic, k=depth, vector=vector)
        units = self.picker.units(results, len(results))
        candidates = self.picker.candidates(topic, vector, asked_fact(""), units, self.grounding)
        similarity = _closest(candidates)
        if not self._covered(topic, topic, results, similarity):
            return []
        by_unit = {result.passage.metadata.unit_id: result for result in results}
        by_key = {candidate.key: candidate for candidate in candidates}
        best: list[Standing] = []
        seen: set[tuple[str, str]] = set()
        for candidate in candidates:
            meta = candidate.passage.metadata
            name = (meta.organisation or meta.project or "").lower()
            if (not name and not general) or (name, meta.event) in seen:
                continue
            sentences = self.picker.standing(candidate, by_key)
            if not sentences:
                continue
            if not name:  # general notes (a discussion, an overview): one point per section of them
                name = f"{meta.section or ''}\x00{meta.unit_id}"
            if candidate.similarity < self.settings.finder_min_similarity:
                continue
            seen.add((name, meta.event))
            best.append(Standing(sentences, by_unit[meta.unit_id]))
        return best

    # --- briefings --------------------------------------------------------------------------

    def brief(self, topic: str) -> Briefing:
        """A headline and 3-6 cited key points from as many different projects as the notes support,
        each point naming the project it comes from."""
        subject = subject_of(validate_query(topic, self.settings))
        best = self._best_per_organisation(subject, 18, general=True)[: self.settings.briefing_points]
        if not best:
            return Briefing(topic, f"The notes don't cover {subject}", [], [], self.generator)
        passages = [standing.passage for standing in best]
        extractive = "\n".join(
            f"{_attributed(standing.passage, standing.text)} [{number}]"
            for number, standing in enumerate(best, start=1)
        )
        draft, drafted_by, notice = extractive, "extractive", None
        if self.llm is not None:
            messages = self._messages(self.prompts.briefing_system, subject, passages)
            try:
                draft = "".join(self._model_text(messages, self.settings.max_answer_tokens * 2))
                drafted_by = self.generator
            except GeneratorFailed as failure:
                notice = str(failure)
        supported = self.grounding.verify(draft, passages, by_line=draft is extractive)
        one_per_passage = list({sentence.passages[0]: sentence for sentence in reversed(supported)}.values())[::-1]
        citations: dict[int, int] = {}
        points = [self._render(sentence, citations) for sentence in one_per_passage]
        scores = [standing.result.score for standing in best]
        return Briefing(
            topic=topic,
            headline=f"{subject[:1].upper()}{subject[1:]}: what {len(points)} projects in the notes show",
            points=points,
            citations=[Citation(shown, passages[n - 1], scores[n - 1]) for n, shown in citations.items()],
            generator=drafted_by,
            notice=notice,
        )

    def _not_covered(
        self,
        question: str,
        standalone: str,
        results: list[SearchResult],
        started: float,
        retrieved: float,
        notice: str | None = None,
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
            notice=notice,
        )


def _closest(candidates: list[Candidate]) -> float | None:
    """The best similarity of a sentence that also shares a content word with the question: closeness in
    meaning alone, without one word in common, is as likely chance (a short question, a small embedder)."""
    return max((candidate.similarity for candidate in candidates if candidate.coverage > 0), default=None)


def _who(passage: Passage) -> str:
    """The organisation and project a passage is about, as one name ("" for general notes)."""
    meta = passage.metadata
    if meta.organisation and meta.project and meta.project.lower() not in meta.organisation.lower():
        return f"{meta.organisation} – {meta.project}"
    return meta.organisation or meta.project or ""


def _held(passage: Passage) -> str | None:
    """When and where the passage's event was held, from the notes' own opening ("25 March 2025")."""
    meta = passage.metadata
    if not meta.date and not meta.place:
        return None
    date = spelled_date(meta.date)
    when = f" {'on' if date and date[0].isdigit() else 'in'} {date}" if date else ""
    where = f" in {meta.place}" if meta.place else ""
    return f"{meta.event} was held{when}{where}."


def _attributed(passage: Passage, text: str) -> str:
    """The passage's sentence with the project it comes from named first, unless it names it already; a
    sentence opening with "This poster ..." or "Their work ..." is named first even so, as its subject."""
    who = _who(passage)
    return f"{who}: {text}" if who and (who.lower() not in text.lower() or leans_back(text)) else text


def _folded(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"\[\d+\]", "", text)).lower().replace("’", "'").strip(" .")


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
