"""Briefings: a headline and a few cited key points on a topic, each from a different project and naming
it. Points are the finder's standing sentences; a model may rewrite them, and every sentence is verified."""

from assistant.errors import GeneratorFailed
from assistant.finder import ProjectFinder
from assistant.generation import ModelText
from assistant.grounding import render, subject_of
from assistant.models import Briefing, Citation
from assistant.picking import attributed
from assistant.prompts import Prompts
from assistant.retrieval import validate_query
from assistant.settings import Settings

# Results read for a briefing: more than the finder's, since general notes count as points too.
_DEPTH = 18


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

    def brief(self, topic: str) -> Briefing:
        """A headline and 3-6 cited key points from as many different projects as the notes support,
        each point naming the project it comes from."""
        subject = subject_of(validate_query(topic, self.settings))
        best = self.finder.standings(subject, _DEPTH, general=True)[: self.settings.briefing_points]
        if not best:
            return Briefing(topic, f"The notes don't cover {subject}", [], [], self.generator)
        passages = [standing.passage for standing in best]
        extractive = "\n".join(
            f"{attributed(standing.passage, standing.text)} [{number}]" for number, standing in enumerate(best, start=1)
        )
        draft, drafted_by, notice = extractive, "extractive", None
        if self.model is not None:
            messages = self.model.messages(self.prompts.briefing, subject, passages)
            try:
                draft = "".join(self.model.stream(messages, self.settings.max_answer_tokens * 2))
                drafted_by = self.model.name
            except GeneratorFailed as failure:
                notice = str(failure)
        supported = self.finder.gate.grounding.verify(draft, passages, by_line=draft is extractive)
        one_per_passage = list({sentence.passages[0]: sentence for sentence in reversed(supported)}.values())[::-1]
        citations: dict[int, int] = {}
        points = [render(sentence, citations) for sentence in one_per_passage]
        scores = [standing.result.score for standing in best]
        return Briefing(
            topic=topic,
            headline=f"{subject[:1].upper()}{subject[1:]}: what {len(points)} projects in the notes show",
            points=points,
            citations=[Citation(shown, passages[n - 1], scores[n - 1]) for n, shown in citations.items()],
            generator=drafted_by,
            notice=notice,
        )
