"""Which and how many: a question for the organisations or projects of an event or a document is answered
from the catalogue (``assistant.catalogue``), with the count and every one named, each cited. The top few
passages a search returns hold a few of a showcase's forty projects; the catalogue holds them all."""

from dataclasses import dataclass

from assistant.answer.language import Language
from assistant.answer.lexicon import LISTED_NOUNS
from assistant.catalogue import Catalogue, Entry, LiveCatalogue
from assistant.models import Passage, SearchResult
from assistant.retrieval import HybridRetriever
from assistant.text import fold, tokenize


@dataclass(frozen=True)
class Listing:
    """The answer to a which or how-many question: its text, and the passage each numbered entry cites."""

    text: str
    passages: list[Passage]


@dataclass(frozen=True)
class ListRequest:
    noun: str  # the plural the answer counts in, as the question writes it ("organisations", "grants")
    projects: bool  # the projects are asked for, not who runs them
    words: frozenset[str]  # the question's other content words (tokenized): what it names and what it is about
    names: tuple[str, ...]  # its names and figures in lower case ("livingston", "fife", "2024")
    dated: tuple[str, ...]  # those of them that are dates and numbers ("november", "2025"): they name no entry


@dataclass(frozen=True)
class ListingRules:
    """The heuristics of a listing, chosen on the lists-and-counts set (``tests/data/lists_counts.jsonl``)."""

    min_entries: int  # fewer entries than this in a document is no list to give
    scope_results: int  # how many of the first search results may be of the document asked about
    opening: int  # characters of a document's text that name it (a title, a masthead, a dateline)
    theme_share: float  # an entry is about the question's theme when its words weigh this share of the best's


class Lister:
    """Answers list and count questions from the catalogue of the document a search finds first."""

    def __init__(
        self, retriever: HybridRetriever, catalogue: LiveCatalogue, language: Language, rules: ListingRules
    ) -> None:
        self.retriever = retriever
        self.live = catalogue
        self.language = language
        self.rules = rules

    @property
    def catalogue(self) -> Catalogue:
        return self.live.current

    def request(self, question: str) -> ListRequest | None:
        """The question asks which, or how many, organisations or projects ("How many organisations presented
        at Livingston?", "List every project funded in round one", "which groups hosted the tables?"), from
        its parse; None for a question about one ("Which organisation runs Wee Breathers?")."""
        doc = self.language.parse(question)
        opens_with_list = len(doc) > 0 and doc[0].lemma_.lower() in ("list", "name")
        for token in doc:
            if token.lemma_.lower() not in LISTED_NOUNS or token.pos_ != "NOUN":
                continue
            words = {child.lower_ for child in token.children}
            if token.head.lower_ == "of":  # "which of the grants", "how many of the groups", "all of the projects"
                words |= {token.head.head.lower_} | {child.lower_ for child in token.head.head.children}
            every = bool(words & {"all", "every", "each"})
            plural = token.tag_ == "NNS"
            if (("many" in words or "which" in words or "what" in words or opens_with_list) and plural) or every:
                names = tuple(t.lower_ for t in doc if (t.pos_ == "PROPN" or t.like_num) and len(t) > 2)
                dated = tuple(t.lower_ for t in doc if t.ent_type_ in ("DATE", "TIME", "CARDINAL", "ORDINAL"))
                # The theme: what the entries do or are ("worked with schools", "made a toolkit"), in nouns and
                # verbs; an ordinal or an adjective ("the first round") says which list, not which entries.
                theme = [t.text for t in doc if t.pos_ in ("NOUN", "VERB", "PROPN") and t.i != token.i]
                noun = token.lower_ if plural else f"{token.lower_}s"
                return ListRequest(
                    noun,
                    LISTED_NOUNS[token.lemma_.lower()] == "project",
                    frozenset(tokenize(" ".join(theme))),
                    names,
                    dated,
                )
        return None

    def listing(self, question: str, results: list[SearchResult]) -> Listing | None:
        """The entries of the document the question names (of the first results, the one whose title, date,
        place or opening its names and words meet most), narrowed to those its own names pick out ("in Fife
        or Angus") and to those about its theme ("worked with schools"); None when it asks for no list, or
        names no document that holds one ("organisations working on siblings in care" asks who, anywhere)."""
        request = self.request(question)
        if request is None:
            return None
        scored = [
            (self._naming(request, result.passage, naming_text), result.passage, naming_text)
            for result in results[: self.rules.scope_results]
            for naming_text in [self._naming_text(result.passage)]
        ]
        naming, passage, naming_text = max(scored, key=lambda scoring: scoring[0], default=(0, None, ""))
        if passage is None or naming < 2:
            return None
        entries = self.catalogue.entries_of(passage.metadata.source)
        if len(entries) < self.rules.min_entries:
            return None  # the document asked about lists no organisations (a newsletter's items, a write-up)
        return self._listed(request, entries, passage.metadata.event, naming_text)

    def _naming_text(self, passage: Passage) -> str:
        meta = passage.metadata
        opening = self.retriever.document_text(meta.source)[: self.rules.opening]
        return fold(f"{meta.event} {meta.date or ''} {meta.place or ''} {opening}")

    @staticmethod
    def _naming(request: ListRequest, passage: Passage, naming: str) -> int:
        """How well the question names the passage's document: two for each of its names or figures in the
        title, date, place or opening lines ("Livingston", "Linnhe", "2024"), one for each other word of it in
        the title ("showcase"). Two names it: one common word ("care") does not. ``naming``: its
        ``_naming_text``."""
        title = set(tokenize(passage.metadata.event))
        return 2 * sum(name in naming for name in request.names) + len(
            (request.words & title) - set(tokenize(" ".join(request.names)))
        )

    def _listed(self, request: ListRequest, entries: list[Entry], title: str, naming: str) -> Listing:
        texts = {id(entry): self._text_of(entry) for entry in entries}
        picked = self._about_theme(request, self._named_in(request, entries, naming, texts), naming, texts)
        lines = [
            f"{(entry.project or entry.name) if request.projects else entry.label} [{n}]"
            for n, entry in enumerate(picked, start=1)
        ]
        of = f" of the {len(entries)}" if len(picked) < len(entries) else ""
        # The title in quotation marks: a headline ("Glenmore Trust names eight grants") reads as a clause without.
        return Listing(f"{len(picked)}{of} {request.noun} in “{title}”: " + "; ".join(lines) + ".",
                       [entry.passage for entry in picked])  # fmt: skip

    @staticmethod
    def _named_in(request: ListRequest, entries: list[Entry], naming: str, texts: dict[int, str]) -> list[Entry]:
        """The entries the question's own names pick out (a council area, an organisation), not the names that
        named the document (``naming``); all of them when it names none of theirs. ``texts``: each entry's."""
        own = [name for name in request.names if name not in naming and name not in request.dated]
        picked = [entry for entry in entries if any(name in fold(texts[id(entry)]) for name in own)]
        return picked or entries

    def _about_theme(
        self, request: ListRequest, entries: list[Entry], naming: str, texts: dict[int, str]
    ) -> list[Entry]:
        """The entries whose own text weighs most in the question's theme words (those not naming the document
        or an entry), by BM25's idf: "worked with schools" keeps the school projects of a showcase. A word
        every entry uses picks none out; a question with no theme keeps them all."""
        idf = self.retriever.idf()
        theme = request.words - set(tokenize(naming)) - set(tokenize(" ".join(request.names)))
        words = {id(entry): set(tokenize(texts[id(entry)])) for entry in entries}
        using = {word for word in theme if 0 < sum(word in text for text in words.values()) < len(entries)}
        if not using:
            return entries
        # An entry's weight is its rarest theme word's: "youth justice or children in conflict with the law"
        # asks for any of them, not for the entry using most.
        weight = {key: max((idf.get(word, 0.0) for word in using & text), default=0.0) for key, text in words.items()}
        top = max(weight.values())
        return [entry for entry in entries if top > 0 and weight[id(entry)] >= self.rules.theme_share * top]

    def _text_of(self, entry: Entry) -> str:
        """What the document says of an entry: its row, or the whole unit its passage is in (a showcase
        project's notes)."""
        if entry.row is not None:
            return entry.row
        return " ".join(part.text for part in self.retriever.unit_passages(entry.passage))
