"""The project finder: for a challenge, the distinct organisations whose notes bear on it, each with the
sentence that makes it relevant. It decides answer-or-refuse as chat answers do (``assistant.answer.gate``)."""

from collections import Counter
from dataclasses import dataclass

from assistant.answer.gate import Gate, closest
from assistant.answer.picking import Candidate, SentencePicker
from assistant.answer.questions import asked_fact
from assistant.catalogue import LiveCatalogue
from assistant.models import Citation, Passage, ProjectMatch, SearchFilters, SearchResult
from assistant.retrieval import HybridRetriever, validate_query
from assistant.settings import Settings

# How many results a search for k projects reads: several results often belong to one organisation.
_DEPTH_PER_PROJECT = 4
_MIN_DEPTH = 12


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


class ProjectFinder:
    def __init__(self, retriever: HybridRetriever, settings: Settings, gate: Gate, catalogue: LiveCatalogue) -> None:
        self.retriever = retriever
        self.settings = settings
        self.gate = gate
        self.catalogue = catalogue
        self.picker = SentencePicker(retriever, settings)

    def find(self, challenge: str, k: int = 5) -> list[ProjectMatch]:
        """Distinct organisations whose notes bear on the challenge, best first, each with the sentence that
        makes it relevant. A challenge the notes don't cover finds nothing."""
        challenge = self.gate.as_the_notes_write(validate_query(challenge, self.settings))
        # A project a table or list names, typed by its name, is found by it: its row is its card.
        matches = [
            _card(entry.name, entry.project, entry.passage, entry.row or "", 1.0)
            for entry in self.catalogue.current.rows_named_in(challenge)[:k]
        ]
        named = {(match.organisation, match.project) for match in matches}
        for standing in self.standings(challenge, self.depth(k))[: k - len(matches)]:
            organisation, project = self._named(standing)
            if (organisation, project) not in named:
                matches.append(_card(organisation, project, standing.passage, standing.text, standing.result.score))
        return matches

    def _named(self, standing: Standing) -> tuple[str, str | None]:
        """Whom a card is for: the organisation and project of a showcase's notes; of a document naming none,
        the row of the catalogue its sentence quotes (an awards table's "Moray Keys", of "Speyside Housing
        Collective"), else the part of the document it is from."""
        meta = standing.passage.metadata
        if meta.organisation or meta.project:
            return meta.organisation or meta.project or "", meta.project if meta.organisation else None
        entry = self.catalogue.current.named_in(standing.passage, standing.text)
        if entry is not None:
            return entry.name, entry.project
        return self.retriever.subject_of(standing.passage), None

    @staticmethod
    def depth(projects: int) -> int:
        """How many search results to read for this many distinct projects."""
        return max(projects * _DEPTH_PER_PROJECT, _MIN_DEPTH)

    def standings(
        self,
        topic: str,
        depth: int,
        general: bool = False,
        among: set[str] | None = None,
        each: int = 1,
        filters: SearchFilters | None = None,
        vector: list[float] | None = None,
        aims: bool = False,
        floor: float | None = None,
    ) -> list[Standing]:
        """For each organisation among the top ``depth`` results, its sentence closest to the topic (with the
        one it leans on), best first; sentences stating a plan's aims, headings and fragments never stand for a
        project.
        ``general``: notes that name no organisation (a discussion's points) count too, one per unit.
        ``among``: only these chunks; ``each``: this many sentences for each organisation (or unit);
        ``filters``: the user's (an organisation, an event, dates); ``vector``: the topic's embedding, when
        the caller has it already; ``aims``: a plan's aims may stand for general notes (see
        ``SentencePicker.stands_alone``); ``floor``: how close to the topic a sentence must be (the settings'
        ``finder_min_similarity`` unless given)."""
        floor = self.settings.finder_min_similarity if floor is None else floor
        vector = vector or self.retriever.embed(topic)
        results = self.retriever.search(topic, k=depth, filters=filters, vector=vector, among=among)
        units = self.picker.units(results, len(results))
        candidates = self.picker.candidates(
            topic, vector, asked_fact(""), units, self.gate.grounding, self.settings.finder_rank_step
        )
        if not self.gate.covered(topic, topic, results, closest(candidates)):
            return []
        by_unit = {result.passage.metadata.unit_id: result for result in results}
        by_key = {candidate.key: candidate for candidate in candidates}
        best: list[Standing] = []
        seen: Counter[tuple[str, str]] = Counter()
        taken: set[tuple[str, int]] = set()
        for candidate in candidates:
            meta = candidate.passage.metadata
            name = self.retriever.subject_of(candidate.passage).lower()
            if not name and not general:
                continue  # the general notes of a document that names its projects
            # General notes (a discussion, an overview) give one point per section of them.
            key = (name or f"{meta.section or ''}\x00{meta.unit_id}", meta.event)
            if seen[key] >= each:
                continue
            sentences = self.picker.standing(candidate, by_key, aims)
            if not sentences or candidate.similarity < floor:
                continue
            if any(sentence.key in taken for sentence in sentences):
                continue  # a sentence already standing, with the one it leans on
            seen[key] += 1
            taken.update(sentence.key for sentence in sentences)
            best.append(Standing(sentences, by_unit[meta.unit_id]))
        return best


def _card(organisation: str, project: str | None, passage: Passage, why: str, score: float) -> ProjectMatch:
    """A finder card: whom it is for, the sentence (or row) that makes it relevant, cited as [1]."""
    meta = passage.metadata
    return ProjectMatch(organisation, project, meta.event, meta.date, meta.source, f"{why.rstrip('.')} [1].",
                        meta.contact, [Citation(1, passage, score)])  # fmt: skip
