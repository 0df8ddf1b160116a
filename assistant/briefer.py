"""Briefings: a headline and a few cited key points on a topic, each from a different project and naming
it. Points are the finder's standing sentences; a model may rewrite them, and every sentence is verified."""

from assistant.answer.composing import held, naming_place
from assistant.answer.finder import ProjectFinder, Standing
from assistant.answer.generation import ModelText
from assistant.answer.grounding import briefing_subject, render
from assistant.answer.picking import attributed
from assistant.errors import GeneratorFailed
from assistant.models import Briefing, Citation, Passage, spelled_date
from assistant.prompts import Prompts
from assistant.retrieval import validate_query
from assistant.settings import Settings
from assistant.text import fold, plural, tokenize

# Results read for a briefing: more than the finder's, since general notes count as points too.
_DEPTH = 18
# A briefing naming a project or table is drawn from its notes when they are this many passages or fewer (one
# naming an event, from all the event's notes).
_NAMED_MOST = 40
# What a request asks of a project's or an event's notes as a whole, not a topic within them.
_WHOLE_NOTES = frozenset(
    tokenize(
        "discussed discussion discussions came out happened learning learnings learned key points headline "
        "takeaways outcomes presented presentations presenters hosted held summary overview table tables event "
        "session day notes themes work project projects programme doing done does did"
    )
)


def _topic_within(subject: str, named: str) -> bool:
    """The subject asks about something within what it names: words beyond ``named`` (a name, an event's
    date and place) and beyond what anyone asks of a project's or an event's notes as a whole."""
    return bool(set(tokenize(subject)) - set(tokenize(named)) - _WHOLE_NOTES)


def _when_and_where(event: Passage) -> str:
    meta = event.metadata
    return f"{meta.event} {spelled_date(meta.date)} {meta.place or ''}"


class Briefer:
    def __init__(
        self, finder: ProjectFinder, prompts: Prompts, settings: Settings, model: ModelText | None = None
    ) -> None:
        self.finder = finder
        self.prompts = prompts
        self.settings = settings
        self.model = model

    @property
    def generator(self) -> str:
        return self.model.name if self.model is not None else "extractive"

    def _standings(self, subject: str) -> tuple[list[Standing], str | None, Passage | None]:
        """The points, the project, table or event they all come from if the briefing names one, and for an
        event, a passage of its notes (its date and place open the briefing). One point from each project on a
        topic; several from one project when the briefing names it ("what the Families Outside table said
        about change in a crisis"); one from each part of an event's notes (its presentations, its tables)."""
        for name in self.finder.gate.names_of_notes(subject):
            event = self._event(name, subject)
            named = event.metadata.event if event else name
            about = self._notes_of(event) if event else self.finder.retriever.about(name, _NAMED_MOST)
            if not about:
                continue
            # Notes asked about as a whole ("Passion4Fusion's work", "what was discussed at ...") are all on
            # its topic; an event's are covered part by part, its presentations first. A topic within them ("the
            # challenges raised at ...") is covered by their best lines.
            whole = not _topic_within(subject, f"{name} {_when_and_where(event) if event else ''}")
            each = 1 if whole and event else self.settings.briefing_points
            points = self.finder.standings(
                subject, _DEPTH, general=True, among=about, each=each, aims=True, floor=0.0 if whole else None
            )
            if whole and event:
                points.sort(key=lambda standing: not standing.passage.metadata.organisation)
            if points:
                return points, named, event
        return self.finder.standings(subject, _DEPTH, general=True, aims=True), None, None

    def _event(self, name: str, subject: str) -> Passage | None:
        """A passage of the event a briefing names, when ``name`` is an event's: of the one whose date or
        place the subject gives ("the November 2025 Promise Learning Collaborative", "... in Livingston")
        when several events share the name; else of the one event of exactly that name; None if there is no
        such one event."""
        folded = fold(name)
        events: dict[tuple[str, str], Passage] = {}  # by event and document: a series repeats its name
        for passage in self.finder.retriever.passages:
            meta = passage.metadata
            # Notes with neither a date nor a place (an overview of The Promise) are not an event's.
            if folded in fold(meta.event) and (meta.date or meta.place):
                events.setdefault((meta.event, meta.source), passage)
        asked = set(tokenize(subject)) - set(tokenize(name))

        def matching(passage: Passage) -> int:
            return len(asked & set(tokenize(_when_and_where(passage))))

        ranked = sorted(events.values(), key=matching, reverse=True)
        if ranked and matching(ranked[0]) and (len(ranked) == 1 or matching(ranked[0]) > matching(ranked[1])):
            return ranked[0]
        exact = [passage for (event, _), passage in events.items() if fold(event) == folded]
        return exact[0] if len(exact) == 1 else None  # a series' name alone does not say which of its events

    def _notes_of(self, event: Passage) -> set[str]:
        """The chunks of one event's notes (its document's, under its name)."""
        meta = event.metadata
        return {
            passage.chunk_id
            for passage in self.finder.retriever.passages
            if passage.metadata.source == meta.source and passage.metadata.event == meta.event
        }

    def brief(self, topic: str) -> Briefing:
        """A headline and 3-6 cited key points from as many different projects as the notes support, each
        point naming the project it comes from; or from the one project, table or event the topic names."""
        subject = briefing_subject(self.finder.gate.as_the_notes_write(validate_query(topic, self.settings)))
        standings, named, event = self._standings(subject)
        best = standings[: self.settings.briefing_points]
        if not best:
            return Briefing(topic, f"The notes don't cover {subject}", [], [], self.generator)
        passages: list[Passage] = []
        lines: list[str] = []
        # An event's briefing opens with when and where it was held, cited to the passage naming the place.
        when_and_where = held(event) if event else None
        if event and when_and_where:
            passages.append(naming_place(self.finder.retriever.passages, event))
            lines.append(f"{when_and_where} [1]")
        opening = list(lines)
        for standing in best:
            if standing.passage not in passages:
                passages.append(standing.passage)
            who = self.finder.retriever.subject_of(standing.passage)
            text = standing.text if named else attributed(who, standing.text)
            lines.append(f"{text} [{passages.index(standing.passage) + 1}]")
        extractive = "\n".join(lines)
        draft, drafted_by, notice = extractive, "extractive", None
        if self.model is not None:
            messages = self.model.messages(self.prompts.briefing, subject, passages)
            try:
                draft = "".join(self.model.stream(messages, self.settings.max_answer_tokens * 2))
                drafted_by = self.model.name
            except GeneratorFailed as failure:
                notice = str(failure)
        grounding = self.finder.gate.grounding
        supported = grounding.verify(draft, passages, by_line=draft is extractive)
        if draft is not extractive:  # a model's draft: one point per passage, however it repeats itself
            supported = list({sentence.passages[0]: sentence for sentence in reversed(supported)}.values())[::-1]
            # A passage whose point the model got wrong (dropped by verification) keeps the notes' own point.
            covered = {sentence.passages[0] for sentence in supported}
            own = [
                sentence
                for sentence in grounding.verify("\n".join(lines[len(opening) :]), passages, by_line=True)
                if sentence.passages[0] not in covered
            ]
            if own:
                drafted_by = f"{drafted_by} + extractive"
            supported = sorted(supported + own, key=lambda sentence: sentence.passages[0])
            supported = grounding.verify("\n".join(opening), passages, by_line=True) + supported
        citations: dict[int, int] = {}
        points = [render(sentence, citations) for sentence in supported]
        scores = {standing.passage.chunk_id: standing.result.score for standing in reversed(best)}
        scores.update({passage.chunk_id: 0.0 for passage in passages if passage.chunk_id not in scores})
        shown = f"the notes of {named}" if named else f"what {plural(len(points), 'project')} in the notes show"
        return Briefing(
            topic=topic,
            headline=f"{subject[:1].upper()}{subject[1:]}: {shown}",
            points=points,
            citations=[
                Citation(number, passages[n - 1], scores[passages[n - 1].chunk_id]) for n, number in citations.items()
            ],
            generator=drafted_by,
            notice=notice,
        )
