"""Hybrid retrieval: dense (Chroma) and BM25 over the same live chunks, fused by reciprocal rank."""

import functools
import re
from collections import Counter
from dataclasses import asdict

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict
from rank_bm25 import BM25Okapi
from scipy.sparse import csc_matrix

from assistant.embeddings import embed_with_spans
from assistant.errors import QueryError
from assistant.models import Passage, SearchFilters, SearchResult
from assistant.settings import Settings
from assistant.store import ChunkSentences, ChunkStore, ManifestEntry, chunk_quotes
from assistant.text import STOPWORDS, WORD, clean_query, fold, query_problem, tokenize

# Sentence records kept in memory: a few thousand chunks' worth is a few MB.
_SENTENCE_CACHE_CHUNKS = 4096


def validate_query(query: str, settings: Settings) -> str:
    """The question cleaned (see ``assistant.text.clean_query``), or a QueryError saying why it cannot run."""
    cleaned = clean_query(query)
    problem = query_problem(cleaned, settings.max_query_chars)
    if problem:
        raise QueryError(problem)
    return cleaned


class HybridRetriever:
    def __init__(self, store: ChunkStore, settings: Settings) -> None:
        self.store = store
        self._settings = settings
        self.generation = 0  # counts refreshes, so dependants know when the chunks changed
        self._sentence_cache: dict[str, ChunkSentences] = {}
        self.refresh()

    def refresh(self) -> None:
        """Re-read the live chunks, so BM25 stays in step with the store after an ingest.

        The new index is built aside and swapped in with one assignment, so a search running in
        another thread (the app) sees the old chunks or the new ones, never a mixture.
        """
        documents = self.store.manifest()
        self._index = _Index(*self.store.live_chunks(documents), documents)
        self.generation += 1

    @property
    def passages(self) -> list[Passage]:
        return self._index.passages

    def subject_of(self, passage: Passage) -> str:
        """Whom or what a passage is about, as a card or an answer names it: its organisation and project; in a
        document whose structure names none (a news release, minutes, a newsletter), the part it sits in, by
        its heading ("THE LINK – A CUPPA FOR KINSHIP CARERS"), else the document's title; "" for the general
        notes of a document that names its projects (a discussion, an overview)."""
        meta = passage.metadata
        if meta.who or meta.source in self._index.naming_sources:
            return meta.who
        section = meta.section if meta.section and meta.section not in ("Overview", meta.event) else None
        return f"{meta.event} – {section}" if section else meta.event

    def documents_about(self, chunk_ids: set[str]) -> set[str]:
        """The chunks, with every chunk of their documents that name no projects (a release, minutes, an
        evaluation: one subject throughout); a showcase's chunks stay their project's own."""
        index = self._index
        sources = {
            index.passages[index.by_id[chunk]].metadata.source for chunk in chunk_ids if chunk in index.by_id
        } - index.naming_sources
        return chunk_ids | {passage.chunk_id for passage in index.passages if passage.metadata.source in sources}

    def about(self, name: str, most: int, within: bool = False) -> set[str]:
        """The chunks about a name: those of the organisation, project or event of that name (``within``:
        also those whose names hold it as words, "CYCJ" in "Action for Children and the CYCJ"), else those
        whose text mentions it ("Bright Spots"); none when more than ``most`` are (it says too little)."""
        folded = fold(name)
        words = re.compile(rf"(?<!\w){re.escape(folded)}(?!\w)")
        named = {
            chunk_id
            for field, chunks in self._index.named_chunks.items()
            if field == folded or (within and words.search(field))
            for chunk_id in chunks
        }
        index = self._index
        found = named or {index.passages[at].chunk_id for at, text in enumerate(index.lowered) if folded in text}
        return found if len(found) <= most else set()

    def quoted(self, question: str, most_units: int) -> set[str]:
        """The chunks of the few units (``most_units`` or fewer) that use a phrase the question quotes: three
        to five words, all but one at most small words the word index drops, two or more of them not the glue
        of a question ("all about me" in "whats the all about me programme"). Empty when there is none."""
        words = WORD.findall(question.lower().replace("’", "'"))
        phrases = [
            " ".join(words[start : start + size])
            for size in (5, 4, 3)
            for start in range(len(words) - size + 1)
            if sum(word not in STOPWORDS for word in words[start : start + size]) <= 1
            and sum(word not in _QUESTION_GLUE for word in words[start : start + size]) >= 2
        ]
        index = self._index
        for phrase in phrases:
            pattern = re.compile(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])")
            found = [position for position, text in enumerate(index.lowered) if pattern.search(text)]
            units = {index.passages[position].metadata.unit_id for position in found}
            if found and len(units) <= most_units:
                return {index.passages[position].chunk_id for position in found}
        return set()

    def names_in(self, text: str) -> list[str]:
        """The organisations, projects and events of the notes that ``text`` names as words ("ArtClub?" as
        "ArtClub"), possessives too ("Passion4Fusion's work"), longest first; a name inside a longer one named
        ("Angus" in "Angus Council") is left out."""
        folded = fold(text)
        names = {
            name.strip(" ?!.")
            for name, bare in self._index.names.items()
            if len(bare) > 3
            and bare in folded  # a substring test first: a pattern per name, thousands at 100x, cost 0.7 s a call
            and re.search(rf"(?<![\w']){re.escape(bare)}(?!\w)(?!'(?!s\b))", folded)
        }
        longest = sorted(names, key=len, reverse=True)
        return [name for name in longest if not any(name != other and fold(name) in fold(other) for other in longest)]

    def document_text(self, source: str) -> str:
        """The text of all live passages of one document, in order (computed once per index)."""
        return self._index.document_texts.get(source, "")

    @property
    def documents(self) -> dict[str, ManifestEntry]:
        """The documents whose chunks are searched (the manifest as of the last refresh), by file name."""
        return self._index.documents

    def warm_up(self) -> None:
        """Load the embedding model now, so the first question is not kept waiting for it."""
        self.store.embeddings.embed_query("warm up")

    def embed(self, query: str) -> list[float]:
        """The query's vector: ``search`` takes it, and so does sentence picking, so one embedding serves both."""
        return self.store.embeddings.embed_query(validate_query(query, self._settings))

    def unit_passages(self, passage: Passage) -> list[Passage]:
        """Every live chunk of the unit (project block, table, row) that ``passage`` belongs to, in order."""
        index = self._index
        return [index.passages[position] for position in index.by_unit.get(passage.metadata.unit_id, [])] or [passage]

    def sentences(self, passages: list[Passage]) -> dict[str, ChunkSentences]:
        """The stored sentences and sentence vectors of these passages (chunk ids are content hashes: cached)."""
        cache = self._sentence_cache
        wanted = [passage.chunk_id for passage in passages if passage.chunk_id not in cache]
        if wanted:
            found = self.store.sentences(wanted)
            # A store ingested before sentence vectors existed (until its next ingest): embed them now, once.
            missing = [p for p in passages if p.chunk_id in set(wanted) - set(found)]
            if missing:
                quotes = [chunk_quotes(p.text, p.metadata) for p in missing]
                _, vectors = embed_with_spans(
                    self.store.embeddings,
                    [p.text for p in missing],
                    [[(q.start, q.end) for q in row] for row in quotes],
                )
                for passage, row, row_vectors in zip(missing, quotes, vectors, strict=True):
                    found[passage.chunk_id] = (row, np.array(row_vectors, dtype=np.float32))
            if len(cache) + len(found) > _SENTENCE_CACHE_CHUNKS:
                cache.clear()
            cache.update(found)
        held = [passage for passage in passages if passage.chunk_id in cache]
        return {passage.chunk_id: _said(passage, cache[passage.chunk_id]) for passage in held}

    def idf(self) -> dict[str, float]:
        """BM25's inverse document frequency of each word in the live chunks."""
        return dict(self._index.idf)

    def __len__(self) -> int:
        return len(self.passages)

    def as_retriever(self, k: int | None = None, filters: SearchFilters | None = None) -> "LangChainRetriever":
        """This retriever as a LangChain ``BaseRetriever``: ``.as_retriever().invoke(question)`` gives
        ``Document``s, and it composes in any chain (``retriever | prompt | model``)."""
        return LangChainRetriever(hybrid=self, k=k, filters=filters)

    def search(
        self,
        query: str,
        k: int | None = None,
        filters: SearchFilters | None = None,
        vector: list[float] | None = None,
        among: set[str] | None = None,
    ) -> list[SearchResult]:
        """The top k distinct passages; ``vector`` is the query's embedding when the caller already has it;
        ``among``: only these chunks."""
        query = validate_query(query, self._settings)
        k = k or self._settings.top_k
        filters = filters or SearchFilters()
        index = self._index
        if not index.passages:
            return []
        allowed = self._allowed(index, filters)
        if among is not None:
            chosen = {index.by_id[chunk_id] for chunk_id in among if chunk_id in index.by_id}
            allowed = chosen if allowed is None else allowed & chosen
        dense = self._dense(index, vector or self.store.embeddings.embed_query(query), allowed)
        sparse = index.bm25_ranking(tokenize(query), allowed, self._settings.candidates)
        fused: dict[int, float] = {}
        for weight, ranking in ((self._settings.dense_weight, list(dense)), (self._settings.sparse_weight, sparse)):
            for rank, position in enumerate(ranking):
                fused[position] = fused.get(position, 0.0) + weight / (self._settings.rrf_k + rank + 1)
        ordered = sorted(fused, key=lambda position: (-fused[position], position))
        results: list[SearchResult] = []
        kept_units: set[str] = set()
        kept_words: list[set[str]] = []
        for position in ordered:
            passage = index.passages[position]
            words = index.body_words(position)
            if passage.metadata.unit_id in kept_units or any(
                _jaccard(words, other) >= self._settings.near_duplicate_jaccard for other in kept_words
            ):
                continue
            kept_units.add(passage.metadata.unit_id)
            kept_words.append(words)
            results.append(SearchResult(len(results) + 1, fused[position], dense.get(position), passage))
            if len(results) == k:
                break
        return results

    @staticmethod
    def _allowed(index: "_Index", filters: SearchFilters) -> set[int] | None:
        if filters == SearchFilters():
            return None
        return {position for position, passage in enumerate(index.passages) if filters.matches(passage.metadata)}

    def _dense(self, index: "_Index", vector: list[float], allowed: set[int] | None) -> dict[int, float]:
        """The ``candidates`` closest live passages (of ``allowed``) by cosine similarity, best first (dicts keep
        insertion order). Exact, over the vectors held in memory: an approximate index answered differently
        from one process to the next (its graph is rebuilt on open) and could miss a filtered search's few
        chunks; at 1.5 KB a chunk, 100,000 chunks take 150 MB and a search a few milliseconds."""
        query = np.asarray(vector, dtype=np.float32)
        similarities = index.vectors @ (query / (np.linalg.norm(query) or 1.0))
        positions = np.arange(len(similarities)) if allowed is None else np.fromiter(allowed, dtype=int)
        wanted = min(self._settings.candidates, len(positions))
        if not wanted:
            return {}
        chosen = positions[np.argpartition(-similarities[positions], wanted - 1)[:wanted]]
        chosen = chosen[np.lexsort((chosen, -similarities[chosen]))]  # best first; ties by position
        return {int(position): float(similarities[position]) for position in chosen}


def _said(passage: Passage, sentences: ChunkSentences) -> ChunkSentences:
    """The passage's sentences without those in a line that talks to an AI: nothing quotes them."""
    quotes, vectors = sentences
    kept = [number for number, quote in enumerate(quotes) if not passage.metadata.marked(quote.start, quote.end)]
    if len(kept) == len(quotes):
        return sentences
    return [quotes[number] for number in kept], vectors[kept]


class LangChainRetriever(BaseRetriever):
    """The hybrid search as a LangChain retriever: each result a ``Document`` holding the passage's text,
    its chunk id, and its chunk metadata plus ``rank``, ``score`` (fused) and ``dense_similarity``.

    A thin face over ``HybridRetriever.search``, so a chain sees exactly the passages the assistant does
    (after ``refresh``, the new ones). A question the search refuses raises ``QueryError`` as ``search`` does.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hybrid: HybridRetriever
    k: int | None = None  # None: the settings' top_k
    filters: SearchFilters | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [as_document(result) for result in self.hybrid.search(query, self.k, self.filters)]


def as_document(result: SearchResult) -> Document:
    """A search result as a LangChain ``Document`` (chunk metadata, rank and scores in its metadata)."""
    passage = result.passage
    metadata = asdict(passage.metadata) | {
        "chunk_id": passage.chunk_id,
        "rank": result.rank,
        "score": result.score,
        "dense_similarity": result.dense_similarity,
    }
    return Document(page_content=passage.text, metadata=metadata, id=passage.chunk_id)


class _Index:
    """The live passages with BM25 (Okapi) weights precomputed as a sparse passage × word matrix.

    A query's scores are then one column selection and a row sum, whatever the corpus size; scoring
    with rank_bm25 per query walks every passage holding a common word (7,600 at 100× the seeds).
    """

    def __init__(
        self,
        passages: list[Passage],
        vectors: np.ndarray,
        documents: dict[str, ManifestEntry],
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
    ) -> None:
        self.passages = passages
        self.documents = documents
        self.vectors = vectors  # unit-length embeddings, one row per passage
        self.by_id = {passage.chunk_id: position for position, passage in enumerate(passages)}
        # The documents whose structure names organisations or projects (showcase notes, presentation rows).
        self.naming_sources = {p.metadata.source for p in passages if p.metadata.organisation or p.metadata.project}
        self.by_unit: dict[str, list[int]] = {}
        for position in sorted(range(len(passages)), key=lambda p: passages[p].metadata.part):
            self.by_unit.setdefault(passages[position].metadata.unit_id, []).append(position)
        self._body_words: dict[int, set[str]] = {}
        # The contact the notes give is searchable with the text: "the SCCR person at Cyrenians" is named there.
        corpus = [tokenize(f"{passage.text} {passage.metadata.contact or ''}") for passage in passages]
        self.idf: dict[str, float] = dict(BM25Okapi(corpus, k1=k1, b=b, epsilon=epsilon).idf) if corpus else {}
        self.columns = {word: column for column, word in enumerate(self.idf)}
        rows: list[int] = []
        columns: list[int] = []
        weights: list[float] = []
        average_length = (sum(len(tokens) for tokens in corpus) / len(corpus) if corpus else 0.0) or 1.0
        for row, tokens in enumerate(corpus):
            norm = k1 * (1 - b + b * len(tokens) / average_length)
            for word, count in Counter(tokens).items():
                rows.append(row)
                columns.append(self.columns[word])
                weights.append(self.idf[word] * count * (k1 + 1) / (count + norm))
        self.weights = csc_matrix((weights, (rows, columns)), shape=(len(corpus), len(self.columns)))

    @functools.cached_property
    def named_chunks(self) -> dict[str, set[str]]:
        """The chunks of each organisation, project and event, by its name folded (computed once per index)."""
        chunks: dict[str, set[str]] = {}
        for passage in self.passages:
            meta = passage.metadata
            for name in (meta.organisation, meta.project, meta.event):
                if name:
                    chunks.setdefault(fold(name), set()).add(passage.chunk_id)
        return chunks

    @functools.cached_property
    def names(self) -> dict[str, str]:
        """The names of the organisations, projects and events, as the notes write them, each with its folded
        form less closing punctuation ("ArtClub?" as "artclub"), for matching."""
        return {
            name: fold(name).strip(" ?!.")
            for passage in self.passages
            for name in (passage.metadata.organisation, passage.metadata.project, passage.metadata.event)
            if name
        }

    @functools.cached_property
    def document_texts(self) -> dict[str, str]:
        """Each document's live passages joined, by source."""
        texts: dict[str, list[str]] = {}
        for passage in sorted(self.passages, key=lambda p: (p.metadata.source, p.metadata.part)):
            texts.setdefault(passage.metadata.source, []).append(passage.text)
        return {source: "\n".join(parts) for source, parts in texts.items()}

    @functools.cached_property
    def lowered(self) -> list[str]:
        """Each passage's text in lower case, straight apostrophes: for phrase search."""
        return [passage.text.lower().replace("’", "'") for passage in self.passages]

    def body_words(self, position: int) -> set[str]:
        """A passage's words, for near-duplicate checks; computed once (a lost race only recomputes)."""
        words = self._body_words.get(position)
        if words is None:
            words = self._body_words[position] = set(tokenize(self.passages[position].body))
        return words

    def bm25_ranking(self, tokens: list[str], allowed: set[int] | None, limit: int) -> list[int]:
        """Passages by BM25 score for the query words (repeats count, as in Okapi BM25), best first."""
        selected = [self.columns[token] for token in tokens if token in self.columns]
        if not selected:
            return []
        scores = np.asarray(self.weights[:, selected].sum(axis=1)).ravel()
        candidates = np.flatnonzero(scores > 0)
        if allowed is not None:
            candidates = np.array([position for position in candidates if position in allowed], dtype=int)
        if not len(candidates):
            return []
        # Best score first; ties by position, as a stable sort over positions gives.
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [int(position) for position in order[:limit]]


# The words that hold a question together rather than name anything.
_QUESTION_GLUE = frozenset(
    "what whats is the who whos it its how do does did a an of to in for and are was were there any this that "
    "they them their on at by with from be been has have had can could would should will i you we our my your me "
    "tell".split()
)


def _jaccard(first: set[str], second: set[str]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)
