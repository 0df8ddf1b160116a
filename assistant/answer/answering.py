"""Grounded answers over retrieval: follow-ups, relevance gate, generation, verification, citations.

The generator (a chat model, or none for the extractive mode) only drafts. What the user sees is
decided here, in code: passages below the relevance threshold never reach the model, and every
drafted sentence is kept only if a supplied passage supports it.
"""

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from langchain_core.language_models import BaseChatModel

from assistant.answer.composing import Composer, missing_fact
from assistant.answer.finder import ProjectFinder
from assistant.answer.followups import FollowUps
from assistant.answer.gate import Gate, closest
from assistant.answer.generation import ModelText, passage_units
from assistant.answer.grounding import NOT_COVERED, SupportedSentence, render
from assistant.answer.language import Language
from assistant.answer.listing import Lister, Listing, ListingRules
from assistant.answer.picking import Candidate, SentencePicker, UnitSentences, leans_back
from assistant.answer.questions import SINGLE_FACTS, AskedFact, FactKind, asked_fact
from assistant.catalogue import LiveCatalogue
from assistant.errors import GeneratorFailed
from assistant.models import Answer, Citation, Passage, SearchFilters, SearchResult
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever, validate_query
from assistant.settings import Settings
from assistant.text import CITED_SENTENCE_END, fold, spelled_out, tokenize, without_citations

_MORE = re.compile(r"\b(else|other|another|more|besides)\b", re.IGNORECASE)
# A sentence of the notes with fewer content words than this is a heading or a fragment, no answer.
_QUOTABLE_WORDS = 3


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


class Answerer:
    """Chat answers: a follow-up made standalone, retrieval, the relevance gate, an extractive or model
    draft, and only verified sentences shown, each with its citation."""

    def __init__(
        self,
        retriever: HybridRetriever,
        llm: BaseChatModel | None,
        prompts: Prompts,
        settings: Settings,
        language: Language,
        generator: str = "extractive",
        restart: Callable[[], None] | None = None,
    ) -> None:
        self.retriever = retriever
        self.prompts = prompts
        self.settings = settings
        self.language = language
        self.gate = Gate(retriever, settings, language)
        self.model = ModelText(llm, generator, self.gate, settings, restart) if llm is not None else None
        self.generator = self.model.name if self.model is not None else "extractive"
        self.followups = FollowUps(retriever, self.gate, settings, prompts, language, self.model)
        self.picker = SentencePicker(retriever, settings)
        catalogue = LiveCatalogue(retriever)
        self.finder = ProjectFinder(retriever, settings, self.gate, catalogue)
        self.composer = Composer(retriever, self.gate, self.picker, self.finder, settings)
        self.lister = Lister(
            retriever,
            catalogue,
            language,
            ListingRules(
                settings.list_min_entries,
                settings.list_scope_results,
                settings.document_opening_chars,
                settings.list_theme_share,
            ),
        )

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
        self,
        question: str,
        history: Sequence[dict[str, str]] = (),
        filters: SearchFilters | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[AnswerEvent]:
        """The answer's events as they come; once ``stop`` is set, the model's stream is closed and
        AnswerStopped raised."""
        started = time.perf_counter()
        question = validate_query(question, self.settings)  # the cleaned question is the one answered
        notices: list[str] = []  # generator failures; the last is said once above the answer
        words, standalone = self._standalone(question, history, notices)
        vector = self.retriever.embed(standalone)  # one embedding serves retrieval and sentence picking
        results, scoped = self._search(standalone, vector, filters, bool(history))
        retrieved = time.perf_counter()
        yield SourcesEvent(standalone, results)

        asked = asked_fact(standalone, self.language)
        units = self.picker.units(results, self.settings.pick_units)
        units += self._deeper(standalone, vector, filters, asked, results, units)
        candidates, about, similarity = self._choices(words, standalone, vector, asked, units, history, scoped)
        relevance = self.gate.relevance(words, standalone, results, similarity, narrowed=_narrowed(filters))
        # One fact asked of something the best passages never name ("Who is the current First Minister?")
        # is asked of something else.
        if relevance is None or (asked.kind in SINGLE_FACTS and self.gate.names_not_used(standalone, results)[1]):
            yield DoneEvent(self._not_covered(question, standalone, results, started, retrieved, notices))
            return
        listing = self.lister.listing(standalone, results)
        if listing is not None:
            yield TextEvent(listing.text)
            yield DoneEvent(self._listed(question, standalone, listing, results, started, retrieved))
            return
        passages = [] if self.model is None else [result.passage for result in results[: self.settings.answer_passages]]

        def from_notes() -> list[SupportedSentence]:
            """The extractive answer, verified; its passages are numbered after those already supplied."""
            return self.gate.grounding.verify(
                self.composer.draft(asked, candidates, units, passages, about, standalone, filters, vector),
                passages,
                by_line=True,
            )

        citations: dict[int, int] = {}  # supplied passage number -> citation number shown
        # A contact question opens with the contact, or with the notes giving none: its sentences wait for that.
        contact_first = asked.kind is FactKind.CONTACT
        # A single fact asked of notes not clearly about its subject is answered only if they state it:
        # the sentences wait until that is known.
        doubtful = (
            asked.kind in SINGLE_FACTS
            and not contact_first
            and not self.gate.clearly_about(standalone, results, relevance)
        )
        kept: list[SupportedSentence] = []
        drafted_by = ["extractive"]  # who wrote the kept sentences, as the answer will say
        for sentence in self._drafted(standalone, passages, drafted_by, from_notes, notices, stop):
            kept.append(sentence)
            if not (contact_first or doubtful):
                yield TextEvent(render(sentence, citations))
        missing = missing_fact(asked, kept, passages, self.language, about)
        answered = self.gate.grounding.answers_question(standalone, kept, passages, self.retriever.document_text)
        if not answered or (doubtful and missing):
            yield DoneEvent(self._not_covered(question, standalone, results, started, retrieved, notices))
            return
        rendered = [render(sentence, citations) for sentence in kept]
        shown = (
            ([missing] if missing and contact_first else [])
            + rendered
            + ([missing] if missing and not contact_first else [])
        )
        for text in shown if contact_first or doubtful else shown[len(kept) :]:
            yield TextEvent(text)
        by_unit = _scores_by_unit(results)
        yield DoneEvent(
            Answer(
                question=question,
                standalone_question=standalone,
                text=" ".join(shown),
                answered=True,
                citations=[
                    Citation(shown_n, passages[n - 1], by_unit.get(passages[n - 1].metadata.unit_id, 0.0))
                    for n, shown_n in citations.items()
                ],
                timings=_timings(started, retrieved, time.perf_counter()),
                generator=" + ".join(drafted_by),
                suggestions=[],
                notice=notices[-1] if notices else None,
            )
        )

    @staticmethod
    def _listed(
        question: str, standalone: str, listing: Listing, results: list[SearchResult], started: float, retrieved: float
    ) -> Answer:
        """A which-or-how-many answer from the catalogue: every entry named is cited to the passage naming it."""
        by_unit = _scores_by_unit(results)
        citations = [
            Citation(n, passage, by_unit.get(passage.metadata.unit_id, 0.0))
            for n, passage in enumerate(listing.passages, start=1)
        ]
        timings = _timings(started, retrieved, time.perf_counter())
        return Answer(question, standalone, listing.text, True, citations, timings, "extractive", [])

    def _standalone(self, question: str, history: Sequence[dict[str, str]], notices: list[str]) -> tuple[str, str]:
        """The question in the notes' words and names, and that made standalone from the conversation (when
        the generator fails to rewrite it, the failure goes to ``notices`` and the names the last answer
        gave are carried instead)."""
        words = self.gate.as_the_notes_write(question)
        try:
            standalone = self.followups.standalone(words, history)
        except GeneratorFailed as failure:
            notices.append(str(failure))
            standalone = self.followups.carry_entities(words, history)
        return words, spelled_out(standalone)

    def _search(
        self, standalone: str, vector: list[float], filters: SearchFilters | None, follow_up: bool
    ) -> tuple[list[SearchResult], int]:
        """The passages for the question, and how many of the first are about what it names: a follow-up
        about a project the conversation named ("What did they find? (Passion4Fusion)"), or a question naming
        an organisation or project of the notes ("a contact for the SCCR person at Cyrenians"), reads its
        notes first, then the rest."""
        k = self.settings.top_k
        results = self.retriever.search(standalone, k=k, filters=filters, vector=vector)
        carried = self.followups.scope(standalone) if follow_up else None
        scope = carried or self._named(standalone)
        if scope is None:
            return results, 0
        reads = self.settings.follow_up_passages
        first = self.retriever.search(standalone, k=2 * reads, filters=filters, vector=vector, among=scope)
        if carried:
            # Of the closest passages of its document, those headed by what was carried are read: "Who ran that
            # one? (Workshop B)" reads the passage headed "Workshop B: Moving on from secure care", not Workshop
            # C's. A person carried ("Lorna Haddow") is who the last answer was about, not what the follow-up
            # asks of (a release's quote headed by her name says nothing of "how many students"); a name every
            # heading holds (the document's title) picks nothing out. Either way the closest are read.
            names = [fold(name) for name in self.followups.carried(standalone) if not self._a_person(name)]

            def headed_by_carried(result: SearchResult) -> bool:
                """A section of a document naming no projects (a write-up, minutes) whose heading opens with a
                carried name ("Workshop B: ..."); a project's notes are chosen by its name already ("East
                Ayrshire" in a project's heading)."""
                meta = result.passage.metadata
                _, dot, section = result.passage.text.split("\n", 1)[0].rpartition(" · ")
                named = dot and any(fold(section).startswith(name) for name in names)  # not the title alone
                return not (meta.organisation or meta.project) and bool(named)

            headed = [result for result in first if headed_by_carried(result)]
            if headed and len(headed) < len(first):
                first = headed
        first = first[:reads]
        chosen = {result.passage.metadata.unit_id for result in first}
        merged = first + [result for result in results if result.passage.metadata.unit_id not in chosen]
        return [replace(result, rank=rank) for rank, result in enumerate(merged[:k], start=1)], len(first)

    def _deeper(
        self,
        question: str,
        vector: list[float],
        filters: SearchFilters | None,
        asked: AskedFact,
        results: list[SearchResult],
        units: list[UnitSentences],
    ) -> list[UnitSentences]:
        """For one fact the first units never state ("How many online sessions were to follow?"), the units of
        the next results (to ``fact_search_depth``), read only for sentences stating it; none otherwise."""
        if asked.kind not in SINGLE_FACTS or asked.kind is FactKind.CONTACT:
            return []
        noun_words = frozenset(tokenize(asked.noun))  # "how many online sessions": a year is not a count of them
        if any(asked.stated_by(quote, noun_words) for unit in units for quote, _, _ in unit.quotes):
            return []
        seen = {result.passage.metadata.unit_id for result in results[: self.settings.pick_units]}
        more = self.retriever.search(question, k=self.settings.fact_search_depth, filters=filters, vector=vector)
        fresh = [result for result in more if result.passage.metadata.unit_id not in seen]
        return self.picker.units(fresh, len(fresh), deep=True)

    def _a_person(self, name: str) -> bool:
        """The name is a person's ("Lorna Haddow", "Nadia Petrie"), as the language model reads it alone."""
        return any(entity.label_ == "PERSON" for entity in self.language.parse(name).ents)

    def _named(self, question: str) -> set[str] | None:
        """The passages of the one organisation or project a question names (see ``Gate.names_of_notes``), or
        of the phrase of small words it quotes ("the all about me programme"); None when it names several
        (it is about what they share) or none."""
        named = self.gate.names_of_notes(question)
        if len(named) > 1:
            return None
        if named:
            return self.retriever.about(named[0], self.settings.named_passages, within=True) or None
        return self.retriever.quoted(question, self.settings.quoted_units) or None

    def _choices(
        self,
        question: str,
        standalone: str,
        vector: list[float],
        asked: AskedFact,
        units: list[UnitSentences],
        history: Sequence[dict[str, str]],
        scoped: int = 0,
    ) -> tuple[list[Candidate], Passage | None, float | None]:
        """The sentences an answer may use, what the question is about, and how close the notes come to it.

        A follow-up wants what the conversation has not said yet: "What else ...?" only that; any other
        follow-up keeps its direct answer even if said before: the sentences stating the kind of fact it asks
        for, and its best sentence unless the answer opens with a line of its own (a contact, the event's
        date and place)."""
        said_before = {_folded(turn["content"]) for turn in history if turn.get("role") == "assistant"}
        # The names a follow-up carries chose the passages; its own words choose among their sentences
        # ("what were the challenges? (Midlothian Council)" wants the challenges, not every line naming them).
        # How close the notes come is judged on the whole standalone question, as for any other.
        scored = self.picker.candidates(standalone, vector, asked, units, self.gate.grounding)
        judged = scored
        own = self.followups.without_pointer(question)
        if history and standalone != question and self.gate.grounding.content_tokens(own):
            scored = self.picker.candidates(question, vector, asked, units, self.gate.grounding)
        # A follow-up about a project the conversation named, or a question naming one, is answered from that
        # project's notes first (the first ``scoped`` results), unless a sentence elsewhere is clearly closer
        # in meaning and in the question's own words (``scope_lead_margin``, ``scope_lead_words``).
        best_in_scope = max((c.score for c in scored if c.unit_rank < scoped), default=0.0)
        own_words = set(self.gate.grounding.content_tokens(question))

        def leads_from_outside(candidate: Candidate) -> bool:
            # A question of no more own words than that ("Who ran that one?") leans wholly on the conversation.
            return (
                len(own_words) > self.settings.scope_lead_words
                and candidate.score > best_in_scope + self.settings.scope_lead_margin
                and len(own_words & set(tokenize(candidate.quote.text))) >= self.settings.scope_lead_words
            )

        if scoped:
            scored = sorted(scored, key=lambda c: c.unit_rank >= scoped and not leads_from_outside(c))
        own_line = set(asked.kinds) & {FactKind.CONTACT, FactKind.DATE, FactKind.YEAR, FactKind.PLACE}
        direct = {
            candidate.key
            for candidate in scored
            if asked.kind is not FactKind.GENERAL and asked.stated_by(candidate.quote, frozenset())
        } | (set() if own_line else {candidate.key for candidate in scored[:1]})
        more = bool(_MORE.search(question))
        candidates = [
            candidate
            for candidate in scored
            if not any(_folded(candidate.quote.text) in earlier for earlier in said_before)
            or (candidate.key in direct and not more)
        ]
        about = scored[0].passage if scored else None  # what the question is about, said before or not
        if more:
            unsaid = {candidate.key for candidate in candidates}
            return candidates, about, closest([candidate for candidate in judged if candidate.key in unsaid])
        return candidates or scored[:1], about, closest(judged)

    def _drafted(
        self,
        standalone: str,
        passages: list[Passage],
        drafted_by: list[str],
        from_notes: Callable[[], list[SupportedSentence]],
        notices: list[str],
        stop: threading.Event | None = None,
    ) -> Iterator[SupportedSentence]:
        """The verified sentences of the answer: the extractive ones, or the model's. When the model fails,
        what it had written and was verified stays, the notes' own sentences complete it, and the failure
        goes to ``notices``."""
        if self.model is None:
            yield from from_notes()
            return
        given: list[str] = []
        try:
            for sentence in self._verified_sentences(standalone, passages, drafted_by, from_notes, stop):
                given.append(sentence.text)
                yield sentence
        except GeneratorFailed as failure:
            notices.append(str(failure))
            for sentence in from_notes():
                if sentence.text not in given:
                    if "extractive" not in drafted_by:
                        drafted_by.append("extractive")
                    yield sentence

    def _verified_sentences(
        self,
        question: str,
        passages: list[Passage],
        drafted_by: list[str],
        from_notes: Callable[[], list[SupportedSentence]],
        stop: threading.Event | None = None,
    ) -> Iterator[SupportedSentence]:
        """The model's answer, each sentence verified; ``drafted_by`` is set to whoever wrote the ones kept.
        ``from_notes`` gives the verified extractive answer (adding the passages it cites to ``passages``)."""
        assert self.model is not None
        messages = self.model.messages(self.prompts.answer, question, passages)
        buffer = draft = ""
        given: set[str] = set()
        writers: set[str] = set()  # who wrote the sentences kept so far: the model, the notes (replacements)

        def credit(writer: str) -> None:
            writers.add(writer)
            drafted_by[:] = [who for who in (self.generator, "extractive") if who in writers]

        def checked(text: str) -> Iterator[SupportedSentence]:
            """The text's sentences that hold; each one dropped is replaced by the notes' own sentence for
            its point (``own_sentence``), so a false sentence never turns a covered question into a refusal."""
            dropped: list[str] = []
            for supported in self.gate.grounding.verify(text, passages, dropped=dropped):
                if supported.text not in given:
                    given.add(supported.text)
                    credit(self.generator)
                    yield supported
            for sentence in dropped:
                for replacement in self._own_sentence(question, sentence, passages):
                    if replacement.text not in given:
                        given.add(replacement.text)
                        credit("extractive")
                        yield replacement

        for text in self.model.stream(messages, self.settings.max_answer_tokens, stop):
            buffer += text
            draft += text
            # Verify sentence by sentence as the draft streams in, so verified text reaches the user early.
            while (match := CITED_SENTENCE_END.search(buffer)) is not None:
                sentence, buffer = buffer[: match.end()], buffer[match.end() :]
                yield from checked(sentence)
        if buffer.strip():
            yield from checked(buffer)
        if _declined(draft):
            # Small models often decline although the passages, which cleared the relevance gate, answer
            # the question; their own sentences then stand in.
            for own in from_notes():
                if own.text not in given:
                    given.add(own.text)
                    credit("extractive")
                    yield own

    def _own_sentence(self, question: str, dropped: str, passages: Sequence[Passage]) -> list[SupportedSentence]:
        """The notes' own sentence for the point of a model's sentence that was dropped: of the supplied
        passages' sentences, the one sharing most of its words (then of the question's), verified as a quote.
        A sentence that leans back on the one before ("This found that ...") is only quoted with it."""
        quotable: list[str] = []
        for passage in passages:
            units = passage_units(passage)
            for index, unit in enumerate(units):
                if len(tokenize(unit)) < _QUOTABLE_WORDS:
                    continue
                if not leans_back(unit):
                    quotable.append(unit)
                if index + 1 < len(units) and leans_back(units[index + 1]):
                    quotable.append(f"{unit} {units[index + 1]}")
        coverage = self.gate.grounding.coverage
        best = max(quotable, key=lambda unit: (coverage(dropped, unit), coverage(question, unit)), default="")
        if not best or coverage(dropped, best) == 0:
            return []
        return self.gate.grounding.verify(best, passages, by_line=True)

    def best_unit(self, question: str, passage: Passage) -> str:
        """The sentence (or introduced list) of a passage that best covers the question."""
        units = [unit for unit in passage_units(passage) if len(tokenize(unit)) >= _QUOTABLE_WORDS] or [passage.body]
        return max(units, key=lambda unit: self.gate.grounding.coverage(question, unit))

    def _not_covered(
        self,
        question: str,
        standalone: str,
        results: list[SearchResult],
        started: float,
        retrieved: float,
        notices: Sequence[str] = (),
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
            notice=notices[-1] if notices else None,
        )


def _folded(text: str) -> str:
    return re.sub(r"\s+", " ", without_citations(text)).lower().replace("’", "'").strip(" .")


def _declined(draft: str) -> bool:
    """The model wrote nothing, or only that the notes don't cover the question."""
    text = without_citations(draft).strip().strip(".").lower()
    return not text or text in NOT_COVERED.lower() or "don't cover" in text or "do not cover" in text


def _topic(passage: Passage) -> str:
    meta = passage.metadata
    return f"{meta.who} ({meta.event})" if meta.who else f"{meta.section or meta.event} ({meta.event})"


def _scores_by_unit(results: list[SearchResult]) -> dict[str, float]:
    """The best search score of each unit among the results: what a citation of any of its passages shows."""
    return {result.passage.metadata.unit_id: result.score for result in reversed(results)}


def _timings(started: float, retrieved: float, done: float) -> dict[str, float]:
    return {
        "retrieve_ms": (retrieved - started) * 1000,
        "generate_ms": (done - retrieved) * 1000,
        "total_ms": (done - started) * 1000,
    }


def _narrowed(filters: SearchFilters | None) -> bool:
    """The user chose what to search (an organisation, an event, a document): that is what the question is about."""
    return filters is not None and bool(filters.organisation or filters.event or filters.source)
