"""Briefings: a headline and a few cited key points on a topic, each from a different project and naming
it. Points are the finder's standing sentences; a model may rewrite them, and every sentence is verified."""

from assistant.errors import GeneratorFailed
from assistant.finder import ProjectFinder, Standing
from assistant.generation import ModelText
from assistant.grounding import briefing_subject, render
from assistant.models import Briefing, Citation, Passage
from assistant.picking import attributed
from assistant.prompts import Prompts
from assistant.retrieval import validate_query
from assistant.settings import Settings
from assistant.text import plural, spelled_out

# Results read for a briefing: more than the finder's, since general notes count as points too.
_DEPTH = 18
# A briefing naming a project, table or event is drawn from its notes when they are this many passages or fewer.
_NAMED_MOST = 40


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

    def _standings(self, subject: str) -> tuple[list[Standing], str | None]:
        """The points, and the project, table or event they all come from if the briefing names one: one
        point from each project on a topic; several from one when the briefing names it ("what the Families
        Outside table said about change in a crisis")."""
        for name in self.finder.gate.names_of_notes(subject):
            about = self.finder.retriever.about(name, _NAMED_MOST)
            if about:
                points = self.finder.standings(
                    subject, _DEPTH, general=True, among=about, each=self.settings.briefing_points, aims=True
                )
                if points:
                    return points, name
        return self.finder.standings(subject, _DEPTH, general=True, aims=True), None

    def brief(self, topic: str) -> Briefing:
        """A headline and 3-6 cited key points from as many different projects as the notes support, each
        point naming the project it comes from; or from the one project, table or event the topic names."""
        subject = briefing_subject(spelled_out(validate_query(topic, self.settings)))
        standings, named = self._standings(subject)
        best = standings[: self.settings.briefing_points]
        if not best:
            return Briefing(topic, f"The notes don't cover {subject}", [], [], self.generator)
        passages: list[Passage] = []
        lines: list[str] = []
        for standing in best:
            if standing.passage not in passages:
                passages.append(standing.passage)
            text = standing.text if named else attributed(standing.passage, standing.text)
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
        supported = self.finder.gate.grounding.verify(draft, passages, by_line=draft is extractive)
        if draft is not extractive:  # a model's draft: one point per passage, however it repeats itself
            supported = list({sentence.passages[0]: sentence for sentence in reversed(supported)}.values())[::-1]
        citations: dict[int, int] = {}
        points = [render(sentence, citations) for sentence in supported]
        scores = {standing.passage.chunk_id: standing.result.score for standing in reversed(best)}
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
