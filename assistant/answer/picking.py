"""Pick the sentences that answer: every sentence of the whole units (project block, table, row) that the
top passages belong to, scored by meaning (the question's vector against sentence vectors stored at
ingest), by word coverage, and by whether it states the kind of fact asked for.
"""

import re
from dataclasses import dataclass

import numpy as np

from assistant.answer.framing import framing_removed
from assistant.answer.grounding import Grounding
from assistant.answer.questions import SINGLE_FACTS, AskedFact, FactKind, states
from assistant.models import Passage, SearchResult
from assistant.retrieval import HybridRetriever
from assistant.sentences import Quote, is_heading
from assistant.settings import Settings
from assistant.text import tokenize

# A sentence that leans on the one before it ("This found that ...") is quoted with it.
_LEANS_BACK = re.compile(r"^(this|these|that|those|it|its|they|their|he|she|such|there)\b", re.IGNORECASE)
# Sections of notes that hold what a project found ("Key Insight: 65% of surveyed families ...").
_FINDINGS = re.compile(r"\b(key (insights?|learning|findings?)|findings|results|impact|outcomes|evaluation)\b", re.I)
# A national plan's aims ("... will be supported") are not what a project did or found.
_AIM = re.compile(r"\b(will|must|should)\s+(?:not\s+)?[a-z]+", re.IGNORECASE)
# What the asker needs or plans ("I need examples of ...") is not a question about a plan's aims.
_ASKERS_NEEDS = re.compile(
    r"\b(i|we|i'd|we'd|i'm|we're)\s+(\w+\s+)?(need|needs|plan|planning|aim|want|intend)\w*", re.I
)
# A question asking what is planned, needed or aimed at wants those aims ("What does the plan say is needed?").
_ASKS_AIMS = re.compile(
    r"\b(will|must|should|needs?|needed|plans?|planned|aims?|aiming|intends?|intended|priorit(?:y|ies)|commitments?)\b",
    re.IGNORECASE,
)


# A sentence introducing what comes after it ("... along the lines of what follows").
_LEAD_IN = re.compile(r"\b(what follows|the following|as follows|below|these are)\W*$", re.IGNORECASE)
_SMALL_WORDS = frozenset("a an the of and or for from in on to at by with into about as".split())


def leans_back(text: str) -> bool:
    """The sentence refers to something said before it ("This found ...", "Their data ...")."""
    return bool(_LEANS_BACK.match(text))


def attributed(who: str, text: str) -> str:
    """A sentence with whom or what it is about (``HybridRetriever.subject_of``) named first, unless it names
    it already; a sentence opening with "This poster ..." or "Their work ..." is named first even so, as its
    subject."""
    return f"{who}: {text}" if who and (who.lower() not in text.lower() or leans_back(text)) else text


def _general(candidate: "Candidate") -> bool:
    """The sentence is from notes that name no organisation or project (a discussion, an overview)."""
    meta = candidate.passage.metadata
    return not (meta.organisation or meta.project)


def _asks(text: str) -> bool:
    """The sentence is a question: in notes, a prompt put to a table or a heading, not an answer."""
    return text.rstrip(" \"'”’)").endswith("?")


def _index(text: str) -> bool:
    """A list of bare titles ("The Fundamentals: Listening; Poverty; Language"): a page's contents or
    menu, which names topics but says nothing about them."""
    _, _, items = text.partition(": ")
    listed = [item for item in items.rstrip(".").split("; ") if item.strip()]
    return len(listed) >= 3 and sum(len(item.split()) for item in listed) / len(listed) < 3


def _titled(text: str) -> bool:
    """A title, however long ("Key Points from Plan 24-30"): every word but the small ones capitalised."""
    words = [word for word in re.findall(r"[A-Za-z][\w'’-]*", text) if word.lower() not in _SMALL_WORDS]
    return bool(words) and all(word[0].isupper() for word in words)


def _says_something(text: str, aims: bool = False) -> bool:
    """Not a plan's aim (unless ``aims``), a fragment, a question, a title, a list of titles, or a list head or
    lead-in without what it introduces."""
    return (
        len(tokenize(text)) >= 5
        and (aims or not _AIM.search(text))
        and not text.rstrip().endswith(":")
        and not _asks(text)  # a question put to a table, or a heading
        and not _LEAD_IN.search(text)
        and not (_index(text) and _titled(text.partition(": ")[2]))  # a menu, not a list of things done
        and not _titled(text)
    )


@dataclass(frozen=True)
class Candidate:
    quote: Quote
    passage: Passage  # the chunk that holds the sentence
    unit_rank: int  # rank (0 = best) of the search result whose unit the sentence comes from
    order: int  # the sentence's position in its unit
    similarity: float  # cosine of the question's and the sentence's vectors
    coverage: float  # idf-weighted share of the question's words the sentence (with its context) holds
    score: float

    @property
    def key(self) -> tuple[str, int]:
        return (self.passage.metadata.unit_id, self.order)


@dataclass(frozen=True)
class UnitSentences:
    """The sentences of one unit in order, each with the chunk it sits in."""

    rank: int
    quotes: list[tuple[Quote, Passage, np.ndarray]]
    # Read past the first units for the one fact asked: only sentences stating that fact, and saying most of
    # what the question asks in their own words, count.
    deep: bool = False


class SentencePicker:
    def __init__(self, retriever: HybridRetriever, settings: Settings) -> None:
        self.retriever = retriever
        self.settings = settings

    def units(self, results: list[SearchResult], count: int, deep: bool = False) -> list[UnitSentences]:
        """The whole units of the first ``count`` results, with their stored sentences and vectors; ``deep``:
        units read past the first ones, ranked as the first one after them, for a sentence stating the fact."""
        chosen = [self.retriever.unit_passages(result.passage) for result in results[:count]]
        stored = self.retriever.sentences([passage for unit in chosen for passage in unit])
        units: list[UnitSentences] = []
        for rank, passages in enumerate(chosen):
            quotes: list[tuple[Quote, Passage, np.ndarray]] = []
            seen: set[str] = set()
            for passage in passages:
                if passage.chunk_id not in stored:
                    continue
                sentences, vectors = stored[passage.chunk_id]
                for quote, vector in zip(sentences, vectors, strict=True):
                    if quote.text in seen:  # a table's header or an overlap repeated in its next chunk
                        continue
                    seen.add(quote.text)
                    quotes.append((quote, passage, vector))
            units.append(UnitSentences(self.settings.pick_units if deep else rank, quotes, deep))
        return units

    def candidates(
        self,
        question: str,
        vector: list[float],
        asked: AskedFact,
        units: list[UnitSentences],
        grounding: Grounding,
        rank_step: float | None = None,
    ) -> list[Candidate]:
        """Every sentence of the units, scored; best first. ``rank_step``: what each place lower in the search
        results costs a sentence of that unit (the settings' ``pick_rank_step`` unless given)."""
        step = self.settings.pick_rank_step if rank_step is None else rank_step
        query = np.asarray(vector, dtype=np.float32)
        subject = framing_removed(question) or question
        noun_words = frozenset(tokenize(asked.noun))
        # Aims are what a question about aims asks for ("What will Promise Keepers be responsible for?"), and a
        # question of when or where may be about an event still to come ("... will be in Aberdeen").
        timed = set(asked.kinds) & {FactKind.DATE, FactKind.YEAR, FactKind.TIME, FactKind.WEEKDAY, FactKind.PLACE}
        asks_aims = _ASKS_AIMS.search(_ASKERS_NEEDS.sub(" ", question))
        aim_penalty = 0.0 if asks_aims or timed else self.settings.pick_aim_penalty
        scored: list[Candidate] = []
        for unit in units:
            heading = ""  # the heading a sentence sits under ("Challenges", "Key Insight") says what it is
            for order, (quote, passage, sentence_vector) in enumerate(unit.quotes):
                if is_heading(quote.text) or _names_its_heading(quote, passage):
                    heading = quote.text
                    continue  # a heading says nothing on its own
                if len(tokenize(quote.text)) < 2:
                    continue  # nor does a fragment
                similarity = float(sentence_vector @ query) if sentence_vector.size else 0.0
                context = f"{passage.metadata.context} {passage.metadata.section or ''} {heading}"
                coverage = grounding.coverage(subject, f"{context} {quote.text}")
                kinds_stated = 0 if asked.kind is FactKind.GENERAL else asked.kinds_stated(quote, noun_words)
                if not kinds_stated and FactKind.FINDING in asked.kinds and _FINDINGS.search(context):
                    kinds_stated = 1
                stated = kinds_stated > 0
                if _titled(quote.text) and not stated:
                    # A title, or a field holding one ("Summary of Presentation: Working With African Families"),
                    # heads what follows unless it states what was asked ("Venue: North Inch Centre, Perth").
                    heading = quote.text
                    continue
                if unit.deep and not (
                    stated and grounding.coverage(subject, quote.text) >= self.settings.deep_fact_coverage
                ):
                    continue
                score = (
                    self.settings.pick_meaning_weight * similarity
                    + (1 - self.settings.pick_meaning_weight) * coverage
                    + self.settings.pick_kind_bonus * kinds_stated
                    - step * unit.rank
                    # a plan's aim answers nothing, unless it states what was asked ("73 hampers will be ...")
                    - (aim_penalty if not stated and _AIM.search(quote.text) else 0.0)
                    - (self.settings.pick_question_penalty if _asks(quote.text) or _index(quote.text) else 0.0)
                )
                scored.append(Candidate(quote, passage, unit.rank, order, similarity, coverage, score))
        scored.sort(key=lambda candidate: -candidate.score)
        return scored

    @staticmethod
    def stands_alone(candidate: Candidate, aims: bool = False) -> bool:
        """A sentence that can stand for its project: not a plan's aim, a heading, a fragment or a lead-in.
        ``aims``: a plan's aims may stand for notes naming no project (what The Promise itself says), never
        for a project."""
        return _says_something(candidate.quote.text, aims and _general(candidate)) and not leans_back(
            candidate.quote.text
        )

    @staticmethod
    def standing(candidate: Candidate, by_key: dict[tuple[str, int], Candidate], aims: bool = False) -> list[Candidate]:
        """The sentences that stand for a project through this one: itself, or, when it leans on the sentence
        before it ("Their internal data showed ..."), that sentence and itself, as ``compose`` quotes it in an
        answer. The pair must share its chunk, so one citation holds both. Empty when neither way stands.

        A sentence opening a named project's unit leans on nothing the notes say before it: its "This poster"
        or "Their work" is the project the card or point names, so it stands alone. ``aims``: as in
        ``stands_alone``."""
        says_something = _says_something(candidate.quote.text, aims and _general(candidate))
        opens_named_unit = candidate.order == 0 and not _general(candidate)
        if SentencePicker.stands_alone(candidate, aims) or (opens_named_unit and says_something):
            return [candidate]
        before = by_key.get((candidate.passage.metadata.unit_id, candidate.order - 1))
        if (
            before is not None
            and before.passage.chunk_id == candidate.passage.chunk_id
            and SentencePicker.stands_alone(before, aims)
            and says_something
        ):
            return [before, candidate]
        return []

    def compose(self, candidates: list[Candidate], asked: AskedFact) -> list[Candidate]:
        """The answer's sentences: the best first (with the sentence it leans on, or the one it introduces),
        then, for each kind of fact asked that none states yet ("when and where"), the best sentence stating
        it, then the next best from any unit; at most ``extractive_sentences`` in all."""
        if not candidates:
            return []
        by_key = {candidate.key: candidate for candidate in candidates}
        best = candidates[0]
        limit = self.settings.extractive_sentences
        picked: list[Candidate] = []

        def add(candidate: Candidate) -> None:
            if candidate.key in {chosen.key for chosen in picked} or len(picked) >= limit:
                return
            before = by_key.get((candidate.passage.metadata.unit_id, candidate.order - 1))
            if before and leans_back(candidate.quote.text):
                add(before)
            picked.append(candidate)
            after = by_key.get((candidate.passage.metadata.unit_id, candidate.order + 1))
            if after and candidate.quote.text.rstrip().endswith(":"):
                picked.append(after)

        add(best)
        # The sentence after the best one often carries the fact it leads up to ("The Trust funded research.
        # This found that ..."): it is taken when it scores near the best, goes on from it ("... asked that the
        # group stop using the word 'contact'. This was agreed; papers will use 'family time'."), or states
        # what the best does not.
        noun_words = frozenset(tokenize(asked.noun))
        successor = by_key.get((best.passage.metadata.unit_id, best.order + 1))
        if successor and (
            successor.score >= best.score * self.settings.pick_successor_share
            or leans_back(successor.quote.text)
            or (
                asked.kind is not FactKind.GENERAL
                and asked.stated_by(successor.quote, noun_words)
                and not asked.stated_by(best.quote, noun_words)
            )
        ):
            add(successor)
        for kind in asked.kinds:
            if kind in SINGLE_FACTS and not any(states(kind, c.quote, noun_words, asked.question) for c in picked):
                # A year not given, the date is the nearest thing the notes say ("Tuesday 25 January").
                wanted = (kind, FactKind.DATE) if kind is FactKind.YEAR else (kind,)
                stating = next(
                    (
                        c
                        for c in candidates
                        if c.unit_rank == best.unit_rank
                        and any(states(w, c.quote, noun_words, asked.question) for w in wanted)
                    ),
                    None,
                )
                if stating and stating.score >= best.score * self.settings.pick_kind_share:
                    add(stating)
        # Supporting points come from several projects, not one project's every line: for a question asking
        # who has done something, one line from each.
        per_unit = 1 if asked.seeks_projects else self.settings.pick_per_unit
        for candidate in candidates[1:]:
            if candidate.score < best.score * self.settings.pick_keep_share:
                break
            unit_id = candidate.passage.metadata.unit_id
            if sum(chosen.passage.metadata.unit_id == unit_id for chosen in picked) < per_unit:
                add(candidate)
        return picked


# What a heading line may hold and still be a fact of its own ("Learning Collaborative – 25th March 2025,
# Livingston"): a date, a time, a figure.
_FACT_ENTITIES = ("DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY")


def _names_its_heading(quote: Quote, passage: Passage) -> bool:
    """The sentence is the heading its passage sits under, repeated as the passage's first line ("Our year
    in numbers" under "Annual Report 2025–26 · Our year in numbers"), stating no date or figure: a title in
    sentence case, which ``is_heading`` (Title Case) does not see."""
    meta = passage.metadata
    headings = {part.strip() for part in meta.context.split(" · ")} | {meta.section or ""}
    return quote.text.strip() in headings and not quote.mentioned(*_FACT_ENTITIES)
