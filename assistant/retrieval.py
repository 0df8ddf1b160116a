"""Hybrid retrieval: dense (Chroma) and BM25 over the same live chunks, fused by reciprocal rank."""

import re
from typing import Any

from rank_bm25 import BM25Okapi

from assistant.errors import QueryError
from assistant.models import Passage, SearchFilters, SearchResult, date_number
from assistant.settings import Settings
from assistant.store import ChunkStore

_STOPWORDS = frozenset(
    (
        "a about above after again all am an and any are as at be been before being below between both but by "
        "can could did do does doing down during each few for from further had has have having he her here "
        "hers him his how i if in into is it its itself just me more most my no nor not now of off on once "
        "only or other our ours out over own same she should so some such than that the their theirs them "
        "then there these they this those through to too under until up very was we were what when where "
        "which while who whom why will with would you your yours "
    ).split()
)
_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    """A light suffix stripper: enough for 'projects'/'project' and 'funding'/'funded' to meet."""
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + replacement
    return word


def tokenize(text: str) -> list[str]:
    text = text.lower().replace("’", "'").replace("'s ", " ")
    return [_stem(word) for word in _WORD.findall(text) if word not in _STOPWORDS]


def validate_query(query: str, settings: Settings) -> str:
    cleaned = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", query).strip()
    if not cleaned:
        raise QueryError("The question is empty: type a few words about what you are looking for.")
    if len(cleaned) > settings.max_query_chars:
        raise QueryError(
            f"The question is {len(cleaned):,} characters long; the limit is {settings.max_query_chars:,}. "
            "Please shorten it to the essentials."
        )
    if not _WORD.search(cleaned.lower()):
        raise QueryError("The question has no words in it: type a few words about what you are looking for.")
    return cleaned


class HybridRetriever:
    def __init__(self, store: ChunkStore, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self.generation = 0  # counts refreshes, so dependants know when the chunks changed
        self.refresh()

    def refresh(self) -> None:
        """Re-read the live chunks, so BM25 stays in step with the store after an ingest."""
        self.passages: list[Passage] = self._store.live_passages()
        self._by_id = {passage.chunk_id: index for index, passage in enumerate(self.passages)}
        corpus = [tokenize(passage.text) for passage in self.passages]
        self._postings: dict[str, list[int]] = {}
        for index, tokens in enumerate(corpus):
            for token in set(tokens):
                self._postings.setdefault(token, []).append(index)
        self._bm25 = BM25Okapi(corpus) if corpus else None
        self.generation += 1

    def warm_up(self) -> None:
        """Load the embedding model now, so the first question is not kept waiting for it."""
        self._store.embeddings.embed_query("warm up")

    def idf(self) -> dict[str, float]:
        """BM25's inverse document frequency of each word in the live chunks."""
        return dict(self._bm25.idf) if self._bm25 is not None else {}

    def __len__(self) -> int:
        return len(self.passages)

    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None) -> list[SearchResult]:
        query = validate_query(query, self._settings)
        k = k or self._settings.top_k
        filters = filters or SearchFilters()
        if not self.passages:
            return []
        allowed = self._allowed(filters)
        dense = self._dense(query, filters, allowed)
        sparse = self._sparse(query, allowed)
        fused: dict[int, float] = {}
        for weight, ranking in ((self._settings.dense_weight, list(dense)), (self._settings.sparse_weight, sparse)):
            for rank, index in enumerate(ranking):
                fused[index] = fused.get(index, 0.0) + weight / (self._settings.rrf_k + rank + 1)
        ordered = sorted(fused, key=lambda index: (-fused[index], index))
        results: list[SearchResult] = []
        kept_units: set[str] = set()
        kept_words: list[set[str]] = []
        for index in ordered:
            passage = self.passages[index]
            words = set(tokenize(passage.body))
            if passage.metadata.unit_id in kept_units or any(
                _jaccard(words, other) >= self._settings.near_duplicate_jaccard for other in kept_words
            ):
                continue
            kept_units.add(passage.metadata.unit_id)
            kept_words.append(words)
            results.append(SearchResult(len(results) + 1, fused[index], dense.get(index), passage))
            if len(results) == k:
                break
        return results

    def _allowed(self, filters: SearchFilters) -> set[int] | None:
        if filters == SearchFilters():
            return None
        return {index for index, passage in enumerate(self.passages) if filters.matches(passage.metadata)}

    def _dense(self, query: str, filters: SearchFilters, allowed: set[int] | None) -> dict[int, float]:
        """Live passages by cosine similarity, best first (dicts keep insertion order)."""
        vector = self._store.embeddings.embed_query(query)
        wanted = self._settings.candidates
        fetch = wanted if allowed is None else min(len(self._by_id), wanted * 8)
        ranked: dict[int, float] = {}
        for chunk_id, similarity in self._store.dense_search(vector, fetch + 10, _chroma_where(filters)):
            index = self._by_id.get(chunk_id)  # None for chunks no manifest lists
            if index is not None and (allowed is None or index in allowed):
                ranked[index] = similarity
                if len(ranked) == wanted:
                    break
        return ranked

    def _sparse(self, query: str, allowed: set[int] | None) -> list[int]:
        tokens = tokenize(query)
        if self._bm25 is None or not tokens:
            return []
        candidates = sorted({index for token in tokens for index in self._postings.get(token, ())})
        if allowed is not None:
            candidates = [index for index in candidates if index in allowed]
        if not candidates:
            return []
        scores = self._bm25.get_batch_scores(tokens, candidates)
        ranked = sorted(zip(candidates, scores, strict=True), key=lambda pair: (-pair[1], pair[0]))
        return [index for index, score in ranked[: self._settings.candidates] if score > 0]


def _jaccard(first: set[str], second: set[str]) -> float:
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def _chroma_where(filters: SearchFilters) -> dict[str, Any] | None:
    """The filters Chroma can apply itself; the rest are applied to its results."""
    clauses: list[dict[str, Any]] = []
    if filters.source:
        clauses.append({"source": filters.source})
    low, high = date_number(filters.date_from), date_number(filters.date_to)
    if low is not None:
        clauses.append({"date_num": {"$gte": low}})
    if high is not None:
        clauses.append({"date_num": {"$lte": high + 9999}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
