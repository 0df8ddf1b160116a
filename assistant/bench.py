"""Benchmark: ingest throughput next to the embedder's own, and search latency, on the seeds and on larger corpora
(made by ``assistant.bench_corpus``). A developer tool: the plot needs the bench extra (matplotlib)."""

import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from langchain_core.embeddings import Embeddings

from assistant.bench_corpus import SeedDocument, build_corpus, load_seeds
from assistant.embeddings import make_embeddings
from assistant.errors import ConfigError
from assistant.evaluation import bench_module, percentile
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.wiring import build_answerer, build_retriever, open_chunk_store
from ingest.pipeline import apply

if TYPE_CHECKING:
    from assistant.answer.answering import Answerer

BENCH_QUESTIONS = (
    "What is Wee Breathers?",
    "Which projects support residential childcare staff to reflect on their practice?",
    "What did the research in Polmont Prison find?",
    "Who hosted the 2024 Promise Partnership Showcase?",
    "How do you prioritise meaningful change in times of crisis?",
    "What are the strengths and challenges of the kinship care partnership?",
    "What did participants want to see from the Participation Network in future?",
    "What are the five foundations of The Promise?",
    "How have organisations co-designed services with care experienced young people?",
    "What is Thinking Space?",
    "How many people attended the Promise Learning Collaborative on Family?",
    "How can funding be less siloed?",
    "What is the Bright Spots pilot?",
    "How does Families Outside support families affected by imprisonment?",
    "What did the Independent Care Review say about listening to children?",
    "How can the workforce be supported to be trauma-informed?",
    "What is Love Inc doing to embed the Promise?",
    "What are the priority areas of Plan 21-24?",
    "How can the voice of young people be central to participation?",
    "What is holding back family-led decision making in Scotland?",
)

TARGET_INGEST_RATIO = 0.8
TARGET_SEARCH_P50_MS = 50.0
# Enough batches for a steady rate, few enough that the raw measurement stays short at every scale.
_RAW_SAMPLE_CHUNKS = 512


@dataclass(frozen=True)
class BenchRow:
    scale: int
    documents: int
    chunks: int
    raw_embed_chunks_per_s: float
    ingest_chunks_per_s: float
    index_load_s: float
    search_p50_ms: float
    search_p95_ms: float
    answer_p50_ms: float  # extractive answers: retrieval, relevance gate, verification
    answer_p95_ms: float
    store_bytes: int
    peak_rss_kib: int

    @property
    def ingest_ratio(self) -> float:
        return self.ingest_chunks_per_s / self.raw_embed_chunks_per_s


# --- measurements --------------------------------------------------------------------------------


def raw_embedding_rate(embeddings: Embeddings, texts: Sequence[str], batch_size: int) -> float:
    """Chunks per second of the embedder alone, fed batches of the size the store writes."""
    sample = random.Random(0).sample(list(texts), min(len(texts), _RAW_SAMPLE_CHUNKS))
    started = time.perf_counter()
    for first in range(0, len(sample), batch_size):
        embeddings.embed_documents(sample[first : first + batch_size])
    return len(sample) / (time.perf_counter() - started)


def search_latencies_ms(retriever: HybridRetriever, queries: int, k: int) -> list[float]:
    """Steady-state search: one untimed query first loads Chroma's vector index (index load is its own column)."""
    retriever.search(BENCH_QUESTIONS[-1], k)
    latencies: list[float] = []
    for question in islice(cycle(BENCH_QUESTIONS), queries):
        started = time.perf_counter()
        retriever.search(question, k)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def answer_latencies_ms(retriever: HybridRetriever, settings: Settings, queries: int) -> list[float]:
    """Full extractive answers, the generator that keeps up at every size (a local model adds seconds)."""
    answerer = build_answerer(settings.model_copy(update={"llm": "extractive"}), retriever)
    answerer.answer(BENCH_QUESTIONS[0])  # builds the grounding statistics once, as a running app has
    latencies: list[float] = []
    for question in islice(cycle(BENCH_QUESTIONS), queries):
        started = time.perf_counter()
        answerer.answer(question)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def directory_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def peak_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def measure_scale(
    seeds: Sequence[SeedDocument], scale: int, settings: Settings, embeddings: Embeddings, queries: int, out: TextIO
) -> BenchRow:
    documents = build_corpus(seeds, scale, settings.chunk_max_words)
    texts = [chunk.text for document in documents for chunk in document.chunks]
    print(f"{scale}x: {len(documents):,} documents, {len(texts):,} chunks…", file=out, flush=True)
    raw_rate = raw_embedding_rate(embeddings, texts, settings.embedding_batch_size)
    with tempfile.TemporaryDirectory(prefix="promise-bench-") as directory:
        bench_settings = settings.model_copy(update={"store_dir": Path(directory), "chroma_host": None})
        store = open_chunk_store(bench_settings, embeddings=embeddings)
        started = time.perf_counter()
        report = apply(store, documents, progress=False)
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        retriever = build_retriever(bench_settings, store)
        index_load_s = time.perf_counter() - started
        latencies = search_latencies_ms(retriever, queries, bench_settings.top_k)
        answers = answer_latencies_ms(retriever, bench_settings, queries)
        store_bytes = directory_bytes(Path(directory))
    return BenchRow(
        scale=scale,
        documents=len(documents),
        chunks=len(texts),
        raw_embed_chunks_per_s=raw_rate,
        ingest_chunks_per_s=report.chunks_added / ingest_s,
        index_load_s=index_load_s,
        search_p50_ms=percentile(latencies, 0.5),
        search_p95_ms=percentile(latencies, 0.95),
        answer_p50_ms=percentile(answers, 0.5),
        answer_p95_ms=percentile(answers, 0.95),
        store_bytes=store_bytes,
        peak_rss_kib=peak_rss_kib(),
    )


# --- report --------------------------------------------------------------------------------------

_COLUMNS: tuple[tuple[str, int, Callable[[BenchRow], str]], ...] = (
    ("scale", 5, lambda row: f"{row.scale}x"),
    ("docs", 6, lambda row: f"{row.documents:,}"),
    ("chunks", 7, lambda row: f"{row.chunks:,}"),
    ("raw emb ch/s", 12, lambda row: f"{row.raw_embed_chunks_per_s:.1f}"),
    ("ingest ch/s", 11, lambda row: f"{row.ingest_chunks_per_s:.1f}"),
    ("ingest/raw", 10, lambda row: f"{row.ingest_ratio:.2f}"),
    ("index load s", 12, lambda row: f"{row.index_load_s:.2f}"),
    ("p50 ms", 7, lambda row: f"{row.search_p50_ms:.1f}"),
    ("p95 ms", 7, lambda row: f"{row.search_p95_ms:.1f}"),
    ("answer p50", 10, lambda row: f"{row.answer_p50_ms:.1f}"),
    ("answer p95", 10, lambda row: f"{row.answer_p95_ms:.1f}"),
    ("store MB", 8, lambda row: f"{row.store_bytes / 1e6:.1f}"),
    ("peak RSS MB", 11, lambda row: f"{row.peak_rss_kib * 1024 / 1e6:.0f}"),
)


def format_table(rows: Sequence[BenchRow]) -> str:
    header = "  ".join(f"{title:>{width}}" for title, width, _ in _COLUMNS)
    body = ["  ".join(f"{cell(row):>{width}}" for _, width, cell in _COLUMNS) for row in rows]
    return "\n".join([header, *body])


def verdict(rows: Sequence[BenchRow]) -> str:
    slowest_ingest = min(rows, key=lambda row: row.ingest_ratio)
    largest = max(rows, key=lambda row: row.scale)
    ingest_met = slowest_ingest.ingest_ratio >= TARGET_INGEST_RATIO
    search_met = largest.search_p50_ms <= TARGET_SEARCH_P50_MS
    return (
        f"Targets: ingest >= {TARGET_INGEST_RATIO}x raw embedder: {'met' if ingest_met else 'not met'} "
        f"(lowest {slowest_ingest.ingest_ratio:.2f}x, at {slowest_ingest.scale}x); "
        f"search p50 <= {TARGET_SEARCH_P50_MS:.0f} ms at {largest.scale}x: {'met' if search_met else 'not met'} "
        f"({largest.search_p50_ms:.1f} ms)."
    )


def plot(rows: Sequence[BenchRow], path: Path) -> Path:
    """Search and answer latency (p50 and p95) against corpus size, as a PNG."""
    bench_module("matplotlib").use("Agg")  # no display on a server
    plt = bench_module("matplotlib.pyplot")

    chunks = [row.chunks for row in rows]
    figure, axes = plt.subplots(figsize=(7, 4.2), dpi=120)
    for label, values, style in (
        ("search p50", [row.search_p50_ms for row in rows], "o-"),
        ("search p95", [row.search_p95_ms for row in rows], "o--"),
        ("answer p50 (extractive)", [row.answer_p50_ms for row in rows], "s-"),
        ("answer p95 (extractive)", [row.answer_p95_ms for row in rows], "s--"),
    ):
        axes.plot(chunks, values, style, label=label)
    axes.axhline(TARGET_SEARCH_P50_MS, color="grey", linewidth=0.8, linestyle=":", label="search p50 target")
    axes.set_xscale("log")
    axes.set_xticks(chunks, [f"{row.scale}×\n{row.chunks:,} chunks" for row in rows])
    axes.minorticks_off()
    axes.set_ylabel("milliseconds")
    axes.set_title("Promise Assistant: latency against corpus size (2 CPU cores)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def run_bench(
    settings: Settings,
    scales: Sequence[int] = (1, 10, 100),
    queries: int = 50,
    out: TextIO | None = None,
    plot_path: Path | None = None,
) -> list[BenchRow]:
    out = out or sys.stdout  # read at call time, so a replaced stdout (a test's capture) is honoured
    if not scales or min(scales) < 1 or queries < 1:
        raise ConfigError("The benchmark needs at least one scale, every scale at least 1, and at least one query.")
    if plot_path is not None:
        bench_module("matplotlib")  # missing, say so now rather than after the whole run
    seeds = load_seeds(settings, out)
    embeddings = make_embeddings(settings)
    embeddings.embed_query("warm up")  # load the model now, so neither rate pays for it
    print(
        f"Benchmark: {len(seeds)} seed documents, model {settings.embedding_model}, "
        f"batch {settings.embedding_batch_size}, {queries} queries per scale",
        file=out,
        flush=True,
    )
    rows = [measure_scale(seeds, scale, settings, embeddings, queries, out) for scale in scales]
    print(format_table(rows), file=out)
    print(verdict(rows), file=out, flush=True)
    if plot_path is not None:
        print(f"Plot: {plot(rows, plot_path)}", file=out, flush=True)
    return rows


# --- answers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerLatency:
    generator: str
    sources_p50_s: float
    first_text_p50_s: float
    total_p50_s: float
    total_p95_s: float
    questions: int


def measure_answers(answerer: "Answerer", questions: Sequence[str]) -> AnswerLatency:
    """Seconds until the sources, until the first verified sentence, and until the whole answer."""
    from assistant.answer.answering import SourcesEvent, TextEvent

    sources, first_text, totals = [], [], []
    for question in questions:
        started = time.perf_counter()
        first: float | None = None
        for event in answerer.stream(question):
            elapsed = time.perf_counter() - started
            if isinstance(event, SourcesEvent):
                sources.append(elapsed)
            elif isinstance(event, TextEvent) and first is None:
                first = elapsed
        totals.append(time.perf_counter() - started)
        first_text.append(first if first is not None else totals[-1])
    return AnswerLatency(
        generator=answerer.generator,
        sources_p50_s=percentile(sources, 0.5),
        first_text_p50_s=percentile(first_text, 0.5),
        total_p50_s=percentile(totals, 0.5),
        total_p95_s=percentile(totals, 0.95),
        questions=len(questions),
    )


def run_answer_bench(answerers: Sequence["Answerer"], questions: int = 10, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    chosen = list(islice(cycle(BENCH_QUESTIONS), questions))
    print(f"Answer latency over {len(chosen)} questions (seconds, median unless marked):", file=out)
    for answerer in answerers:
        answerer.answer(chosen[0])  # the first request pays for loading; steady state is what users feel
        row = measure_answers(answerer, chosen)
        print(
            f"  {row.generator:<44} sources {row.sources_p50_s:.2f}  first sentence {row.first_text_p50_s:.2f}  "
            f"full answer {row.total_p50_s:.2f} (p95 {row.total_p95_s:.2f})",
            file=out,
            flush=True,
        )
