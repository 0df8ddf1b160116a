"""Answer or refuse: the one decision that chat answers, the project finder and briefings share."""

from assistant.embeddings import vocabulary
from assistant.grounding import Grounding
from assistant.models import SearchResult
from assistant.picking import Candidate
from assistant.questions import asked_part
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings


class Gate:
    """Decides whether the notes cover a question, over the retriever's current word statistics."""

    def __init__(self, retriever: HybridRetriever, settings: Settings) -> None:
        self.retriever = retriever
        self.settings = settings
        self._grounding: tuple[int, Grounding] | None = None

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

    def relevance(
        self, question: str, standalone: str, results: list[SearchResult], similarity: float | None
    ) -> float | None:
        """How well the notes cover the question, or None if they do not: it names nothing they never
        mention, and a passage covers its content words or a sentence is close to it in meaning."""
        if not results or self.grounding.unknown_names(asked_part(question)):
            return None
        relevance = self.grounding.relevance(standalone, results, similarity)
        if relevance >= self.settings.relevance_threshold:
            return relevance
        # A long description of a situation holds few of the words the notes use for it: its meaning decides.
        described = len(question.split()) >= self.settings.description_words
        close = similarity is not None and similarity >= self.settings.sentence_similarity_threshold
        # A question giving the names the best passages use ("When was the Kinship Learning Forum held?") is
        # about them, whatever its other words.
        named = relevance >= self.settings.relevance_floor and self.grounding.uses_names_given(
            standalone, [result.passage for result in results[: self.settings.answer_passages]]
        )
        return relevance if (described and close) or named else None

    def covered(self, question: str, standalone: str, results: list[SearchResult], similarity: float | None) -> bool:
        return self.relevance(question, standalone, results, similarity) is not None

    def clearly_about(self, question: str, results: list[SearchResult], relevance: float) -> bool:
        """The notes are clearly about the question's subject: enough to say that a single fact asked for
        (a figure, a date, a name) is missing from them, rather than that they are about something else.
        They are when their best passages use every name it gives ("How much did the Kinship Learning Forum
        cost?"), or match it well and use no fewer (not "the Kinship Youth Forum", a name they never use)."""
        names, unused = self.names_not_used(question, results)
        if unused:
            return False
        return bool(names) or relevance >= self.settings.near_miss_relevance

    def names_not_used(self, question: str, results: list[SearchResult]) -> tuple[list[str], list[str]]:
        """The names of two words or more a question gives, and those its best passages never use."""
        best = [result.passage for result in results[: self.settings.answer_passages]]
        return self.grounding.names_not_used(question, best)


def closest(candidates: list[Candidate]) -> float | None:
    """The best similarity of a sentence that also shares a content word with the question: closeness in
    meaning alone, without one word in common, is as likely chance (a short question, a small embedder)."""
    return max((candidate.similarity for candidate in candidates if candidate.coverage > 0), default=None)
