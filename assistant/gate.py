"""Answer or refuse: the one decision that chat answers, the project finder and briefings share."""

from assistant.embeddings import vocabulary
from assistant.grounding import Grounding
from assistant.models import SearchResult
from assistant.picking import Candidate
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

    def covered(self, question: str, standalone: str, results: list[SearchResult], similarity: float | None) -> bool:
        """The notes cover the question: it names nothing they never mention, and a passage covers its
        content words or a sentence is close to it in meaning."""
        if not results or self.grounding.unknown_names(question):
            return False
        close = similarity is not None and similarity >= self.settings.sentence_similarity_threshold
        relevance = self.grounding.relevance(standalone, results, similarity)
        return relevance >= self.settings.relevance_threshold or (close and relevance >= self.settings.relevance_floor)


def closest(candidates: list[Candidate]) -> float | None:
    """The best similarity of a sentence that also shares a content word with the question: closeness in
    meaning alone, without one word in common, is as likely chance (a short question, a small embedder)."""
    return max((candidate.similarity for candidate in candidates if candidate.coverage > 0), default=None)
