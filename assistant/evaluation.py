"""Retrieval quality on a set of cases: hit@k and MRR@k, for this project and for a textbook baseline."""

import json
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from assistant.models import Answer


@dataclass(frozen=True)
class EvalCase:
    id: str
    question: str
    kind: str
    sources: tuple[str, ...]
    entities: tuple[str, ...]
    facts: tuple[tuple[str, ...], ...]
    refuse: bool
    history: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class Hit:
    """One retrieved passage as the metrics see it: its source and everything it says about itself."""

    source: str
    text: str


@dataclass
class RetrievalScores:
    name: str
    k: int
    hit_at_k: float
    mrr_at_k: float
    cases: int
    misses: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def row(self) -> str:
        median = statistics.median(self.latencies_ms) if self.latencies_ms else 0.0
        return (
            f"{self.name:<10} hit@{self.k}={self.hit_at_k:.3f}  MRR@{self.k}={self.mrr_at_k:.3f}  "
            f"cases={self.cases}  median search {median:.0f} ms"
        )


def load_cases(path: Path) -> list[EvalCase]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ConfigError(f"Cannot read the evaluation cases at {path} ({error.strerror}).") from None
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            cases.append(
                EvalCase(
                    id=str(raw.get("id", number)),
                    question=raw["question"],
                    kind=raw.get("kind", "fact"),
                    sources=tuple(raw.get("sources", [])),
                    entities=tuple(raw.get("entities", [])),
                    facts=tuple(tuple(group) for group in raw.get("facts", [])),
                    refuse=bool(raw.get("refuse", False)),
                    history=tuple(raw.get("history", [])),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ConfigError(f"{path}, line {number}: not an evaluation case ({error}).") from None
    return cases


def is_relevant(case: EvalCase, hit: Hit) -> bool:
    if hit.source not in case.sources:
        return False
    text = hit.text.lower()
    return any(entity.lower() in text for entity in case.entities)


def score_retrieval(
    name: str, cases: Sequence[EvalCase], search: Callable[[str], tuple[list[Hit], float]], k: int
) -> RetrievalScores:
    """``search`` returns the top hits for a question and the milliseconds it took."""
    judged = [case for case in cases if case.sources and not case.refuse]
    hits = reciprocal = 0.0
    scores = RetrievalScores(name, k, 0.0, 0.0, len(judged))
    for case in judged:
        results, elapsed_ms = search(case.question)
        scores.latencies_ms.append(elapsed_ms)
        rank = next((n for n, hit in enumerate(results[:k], start=1) if is_relevant(case, hit)), None)
        if rank is None:
            scores.misses.append(case.id)
        else:
            hits += 1
            reciprocal += 1 / rank
    if judged:
        scores.hit_at_k = hits / len(judged)
        scores.mrr_at_k = reciprocal / len(judged)
    return scores


def hit_from_metadata(source: str, text: str, metadata: dict[str, Any]) -> Hit:
    described = " ".join(str(value) for value in metadata.values() if value is not None)
    return Hit(source=source, text=f"{described}\n{text}")


class TextbookBaseline:
    """RecursiveCharacterTextSplitter(1000, 200) over the raw files, the same embedder, Chroma top-k."""

    def __init__(self, files: Sequence[Path], embeddings: Embeddings) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        texts, metadatas = [], []
        for path in files:
            for piece in splitter.split_text(path.read_text(encoding="utf-8", errors="replace")):
                texts.append(piece)
                metadatas.append({"source": path.name})
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self._store = Chroma(client=client, collection_name="textbook-baseline", embedding_function=embeddings)
        self._store.add_texts(texts, metadatas=metadatas)
        self.chunks = len(texts)

    def search(self, query: str, k: int) -> list[Hit]:
        return [
            Hit(source=str(document.metadata["source"]), text=document.page_content)
            for document in self._store.similarity_search(query, k=k)
        ]


@dataclass
class AnswerScores:
    generator: str
    refusal_accuracy: float
    fact_recall: float
    citation_validity: float
    citation_support: float
    median_ms: float
    p95_ms: float
    cases: int
    failures: list[str] = field(default_factory=list)

    def row(self) -> str:
        return (
            f"{self.generator:<28} refusal={self.refusal_accuracy:.3f}  facts={self.fact_recall:.3f}  "
            f"validity={self.citation_validity:.3f}  support={self.citation_support:.3f}  "
            f"median={self.median_ms / 1000:.2f}s  p95={self.p95_ms / 1000:.2f}s  cases={self.cases}"
        )


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def score_answers(generator: str, cases: Sequence[EvalCase], respond: Callable[[EvalCase], "Answer"]) -> AnswerScores:
    """Refusal accuracy, fact recall, citation validity and support, and latency of ``respond``."""
    refusals = validity = 0
    recalls: list[float] = []
    supported: list[float] = []
    latencies: list[float] = []
    failures: list[str] = []
    for case in cases:
        answer = respond(case)
        latencies.append(answer.timings.get("total_ms", 0.0))
        refusals += answer.answered != case.refuse
        shown = {citation.n for citation in answer.citations}
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
        validity += markers <= shown
        text = answer.text.lower()
        if case.facts and not case.refuse:
            recalls.append(sum(any(f.lower() in text for f in group) for group in case.facts) / len(case.facts))
        if answer.answered and not case.refuse and case.sources:
            hits = [
                is_relevant(case, hit_from_metadata(c.passage.metadata.source, c.passage.text, {}))
                for c in answer.citations
            ]
            supported.append(1.0 if any(hits) else 0.0)
        if answer.answered == case.refuse or (recalls and case.facts and recalls[-1] < 1.0):
            failures.append(case.id)
    count = len(cases) or 1
    return AnswerScores(
        generator=generator,
        refusal_accuracy=refusals / count,
        fact_recall=statistics.mean(recalls) if recalls else 1.0,
        citation_validity=validity / count,
        citation_support=statistics.mean(supported) if supported else 1.0,
        median_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=percentile(latencies, 0.95),
        cases=len(cases),
        failures=failures,
    )
