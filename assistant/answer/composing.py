"""The extractive answer, composed: the direct answer first, then supporting points, each naming its project;
a contact or an event's date and place opening it when asked for; and, when the single fact asked for is not
in what it says, one plain sentence saying so."""

import re

from assistant.answer.finder import ProjectFinder
from assistant.answer.gate import Gate
from assistant.answer.grounding import SupportedSentence
from assistant.answer.language import Language
from assistant.answer.picking import Candidate, SentencePicker, UnitSentences, attributed
from assistant.answer.questions import SINGLE_FACTS, AskedFact, FactKind, states
from assistant.models import Passage, SearchFilters, spelled_date
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.text import tokenize

# A sentence about an event still to come: the notes' own date is not its date.
_FUTURE = re.compile(r"\b(will be|next|upcoming|forthcoming|to be held|planned for)\b", re.IGNORECASE)


class Composer:
    """Composes the extractive answer from the scored candidate sentences (``SentencePicker``), or, for a
    question asking who has done something, from the finder's projects."""

    def __init__(
        self,
        retriever: HybridRetriever,
        gate: Gate,
        picker: SentencePicker,
        finder: ProjectFinder,
        settings: Settings,
    ) -> None:
        self.retriever = retriever
        self.gate = gate
        self.picker = picker
        self.finder = finder
        self.settings = settings

    def draft(
        self,
        asked: AskedFact,
        candidates: list[Candidate],
        units: list[UnitSentences],
        passages: list[Passage],
        about: Passage | None = None,
        topic: str = "",
        filters: SearchFilters | None = None,
        vector: list[float] | None = None,
    ) -> str:
        """The extractive answer: the direct answer first, then supporting points, each naming its project.

        A contact question opens with the contact the notes give; a question of when or where opens
        with the event's own date and place when no sentence states them. The draft cites ``passages``,
        to which the passages it quotes are added after those already there (a generator's, which its
        verified sentences may cite), so both sets of citation numbers stay valid.
        """
        # Only sentences that pass verification on their own are composed, so each project is named before its
        # first sentence that is actually shown.
        checkable = [c for c in candidates if self.gate.grounding.verify(c.quote.text, [c.passage], by_line=True)]
        picked = self.picker.compose(checkable, asked)
        if topic and self._seeks_projects(asked, topic):
            # "Has anyone ...?" is answered as the finder answers it: the projects, the first with its best
            # lines, the others with one each.
            depth = self.finder.depth(self.settings.answer_projects)
            standings = self.finder.standings(topic, depth, general=True, filters=filters, vector=vector)
            standings = standings[: self.settings.answer_projects]
            if standings:
                first = standings[0]
                more = [
                    candidate
                    for candidate in checkable
                    if candidate.passage.metadata.unit_id == first.passage.metadata.unit_id
                    and candidate.key not in {sentence.key for sentence in first.sentences}
                ][: max(0, self.settings.pick_per_unit - len(first.sentences))]
                picked = [*first.sentences, *more, *(s for standing in standings[1:] for s in standing.sentences)]
        lines: list[str] = []

        def number(passage: Passage) -> int:
            if passage not in passages:
                passages.append(passage)
            return passages.index(passage) + 1

        if asked.kind is FactKind.CONTACT:
            # The contact of the project the question is about (the best sentence's), or none: never another's.
            for passage in [about] if about else [candidate.passage for candidate in candidates[:1]]:
                meta = passage.metadata
                if meta.contact:
                    lines.append(f"{meta.who or meta.event}: {meta.contact} [{number(passage)}]")
                    break
                given = self._contact_sentence(passage)
                if given is not None:
                    lines.append(f"{given[0]} [{number(given[1])}]")
                    picked = [candidate for candidate in picked if candidate.quote.text != given[0]]  # said once
                    break
        opening = picked[0] if picked else None
        if (
            opening
            and set(asked.kinds) & {FactKind.DATE, FactKind.YEAR, FactKind.PLACE}
            # "Where and when was it held?" is not answered by a line giving only a year or only a town
            and not any(asked.kinds_stated(candidate.quote, frozenset()) == len(asked.kinds) for candidate in picked)
            and not _FUTURE.search(opening.quote.text)
        ):
            # The event of the best result: its unit may hold only headings ("Promise Learning Collaborative").
            event = units[0].quotes[0][1] if units and units[0].quotes else opening.passage
            when_and_where = held(event)
            if when_and_where:
                lines.append(f"{when_and_where} [{number(naming_place(self.retriever.passages, event))}]")
        named: set[str] = set()
        for candidate in picked:
            who = self.retriever.subject_of(candidate.passage)
            lines.append(
                f"{candidate.quote.text if who in named else attributed(who, candidate.quote.text)}"
                f" [{number(candidate.passage)}]"
            )
            named.add(who)
        return "\n".join(lines)

    def _contact_sentence(self, passage: Passage) -> tuple[str, Passage] | None:
        """A document without a contact field may still give one in its text ("Phone us on ...", "Contact:
        Jean on 07700 ..."): the first sentence stating one in the passage's own unit, else in its document
        when all of the document's contacts sit in one unit (a "Contact us" section, a media contact), so an
        item of a newsletter never takes another item's contact."""
        unit = self.retriever.unit_passages(passage)
        document = [p for p in self.retriever.passages if p.metadata.source == passage.metadata.source]
        for group in (unit, document):
            stored = self.retriever.sentences(group)
            stating = [
                (quote.text, part)
                for part in group
                for quote in (stored[part.chunk_id][0] if part.chunk_id in stored else [])
                if states(FactKind.CONTACT, quote)
            ]
            if stating and (group is unit or len({part.metadata.unit_id for _, part in stating}) == 1):
                return stating[0]
        return None

    def _seeks_projects(self, asked: AskedFact, question: str) -> bool:
        """The question asks who has done something: in so many words ("Has anyone ...?"), or as a long
        description of a situation that asks for no particular fact."""
        described = len(question.split()) >= self.settings.description_words
        return asked.seeks_projects or (described and asked.kind in (FactKind.GENERAL, FactKind.FINDING, FactKind.LIST))


def missing_fact(
    asked: AskedFact,
    kept: list[SupportedSentence],
    passages: list[Passage],
    language: Language,
    about: Passage | None = None,
) -> str | None:
    """One plain sentence when the notes discuss the subject but not the single fact asked for; for a
    contact, of the project the question is about (``about``) when known, else of those quoted. The kept
    sentences are read by their entities, as ``language`` finds them (a model's sentence is in no store)."""
    if asked.kind not in SINGLE_FACTS:
        return None
    quotes = [language.tagged(sentence.text) for sentence in kept]
    if asked.kind is FactKind.CONTACT:
        if any(passages[n - 1].metadata.contact for sentence in kept for n in sentence.passages):
            return None
        if any(states(FactKind.CONTACT, quote) for quote in quotes):
            return None  # a contact the text gives, in a document without a contact field
        if about is not None and about.metadata.contact:
            return None
        quoted = (passages[n - 1].metadata.who for s in kept for n in s.passages if passages[n - 1].metadata.who)
        who = (about.metadata.who if about is not None else "") or next(quoted, None)
        return f"The notes give no contact for {who}." if who else "The notes give no contact for this."
    if any(asked.stated_by(quote, frozenset(tokenize(asked.noun))) for quote in quotes):
        # A date without its year ("Tuesday 25 January") answers "when" only in part.
        if asked.kind is FactKind.DATE and not any(states(FactKind.YEAR, quote) for quote in quotes):
            return "The notes don't give the year."
        return None
    return f"The notes don't give the {asked.kind.value} asked for."


def naming_place(passages: list[Passage], passage: Passage) -> Passage:
    """The passage of the same notes whose text names where the event was held (its description), for a
    citation a reader can check; the passage itself when none does."""
    place = (passage.metadata.place or "").lower()
    if not place or place in passage.text.lower():
        return passage
    same_notes = (other for other in passages if other.metadata.source == passage.metadata.source)
    return next((other for other in same_notes if place in other.text.lower()), passage)


def held(passage: Passage) -> str | None:
    """When and where the passage's event was held, from the notes' own opening ("25 March 2025")."""
    meta = passage.metadata
    if not meta.date and not meta.place:
        return None
    date = spelled_date(meta.date)
    when = f" {'on' if date and date[0].isdigit() else 'in'} {date}" if date else ""
    where = f" in {meta.place}" if meta.place else ""
    return f"{meta.event} was held{when}{where}."
