"""Answer or refuse: the one decision that chat answers, the project finder and briefings share."""

import re

from assistant.answer.framing import asked_part, without_carried
from assistant.answer.grounding import Grounding
from assistant.answer.language import Language
from assistant.answer.picking import Candidate
from assistant.embeddings import vocabulary
from assistant.models import Passage, SearchResult
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.text import spelled_out, tokenize


class Gate:
    """Decides whether the notes cover a question, over the retriever's current word statistics."""

    def __init__(self, retriever: HybridRetriever, settings: Settings, language: Language) -> None:
        self.retriever = retriever
        self.settings = settings
        self.language = language
        self._grounding: tuple[int, Grounding] | None = None

    @property
    def grounding(self) -> Grounding:
        """Grounding over the retriever's current word statistics (they change when documents do)."""
        if self._grounding is None or self._grounding[0] != self.retriever.generation:
            checks = Grounding(
                self.retriever.idf(),
                self.settings.relevance_threshold,
                self.settings.support_threshold,
                self.language,
                vocabulary(self.retriever.store.embeddings),
                self.settings.follow_up_generic_share,
            )
            self._grounding = (self.retriever.generation, checks)
        return self._grounding[1]

    def relevance(
        self,
        question: str,
        standalone: str,
        results: list[SearchResult],
        similarity: float | None,
        narrowed: bool = False,
    ) -> float | None:
        """How well the notes cover the question, or None if they do not. It must name nothing they never
        mention (in what it asks, not in what the asker says of themselves), and reach the relevance threshold;
        below it, a description of 25+ words is covered by a sentence close in meaning, and any question by
        the best passages using every name it gives (or the user having ``narrowed`` the search to an
        organisation, event or document) at the relevance floor, or by the phrase of small words it quotes."""
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
        best = [result.passage for result in results[: self.settings.answer_passages]]
        named = relevance >= self.settings.relevance_floor and self.grounding.uses_names_given(standalone, best)
        # The user chose what to search (an organisation, an event): the question is about that, and is
        # covered as a question naming it is.
        named = named or (narrowed and relevance >= self.settings.relevance_floor)
        return relevance if (described and close) or named or self._quotes(standalone, best) else None

    def _quotes(self, question: str, best: list[Passage]) -> bool:
        """The question quotes a phrase of small words that a best passage uses and few other units do:
        a name the word counts cannot see ("the all about me programme")."""
        quoted = self.retriever.quoted(question, self.settings.quoted_units)
        return any(passage.chunk_id in quoted for passage in best)

    def names_of_notes(self, question: str) -> list[str]:
        """The organisations, projects and events of the notes a question names: by a name it writes as the
        notes do, of three words or more, or whose words are not all everyday English ("cyrenians", "west
        lothian council"; not "the promise" or "circle", which may be the asker's own words)."""
        grounding = self.grounding
        return [
            name
            for name in self.retriever.names_in(question)
            if name in question
            or len(name.split()) >= 3
            or not all(grounding.everyday(word) for word in tokenize(name))
        ]

    def as_the_notes_write(self, question: str) -> str:
        """The question as the notes would write it: the sector's shorthand spelled out and title case undone
        (``text.spelled_out``), and the notes' names written as the notes write them ("when was the kinship
        learning forum held" names the Kinship Learning Forum), so a name typed in lower case counts as one."""
        question = spelled_out(question)
        for name in self.names_of_notes(question):
            written = re.compile(rf"(?<![\w']){re.escape(name)}(?!\w)", re.IGNORECASE)
            question = written.sub(name.replace("\\", "\\\\"), question)  # the name as is, backslashes too
        return question

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
        """The names of two words or more a question gives, and those its best passages never use (nor their
        documents' openings: a title or masthead names what every passage is about): names in what it asks,
        not in what the asker says of themselves or in what a follow-up carried over."""
        best = [result.passage for result in results[: self.settings.answer_passages]]
        sources = dict.fromkeys(passage.metadata.source for passage in best)
        openings = " ".join(
            self.retriever.document_text(source)[: self.settings.document_opening_chars] for source in sources
        )
        return self.grounding.names_not_used(asked_part(without_carried(question)), best, openings)


def closest(candidates: list[Candidate]) -> float | None:
    """The best similarity of a sentence that also shares a content word with the question: closeness in
    meaning alone, without one word in common, is as likely chance (a short question, a small embedder)."""
    return max((candidate.similarity for candidate in candidates if candidate.coverage > 0), default=None)
