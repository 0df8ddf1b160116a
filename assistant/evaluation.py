"""Quality on a set of cases: retrieval (hit@k, MRR@k, against a textbook baseline), answers (refusals,
near misses, fact recall, facts in the retrieved passages, citations, latency) and the project finder."""

import importlib
import json
import math
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from langchain_core.embeddings import Embeddings

from assistant.errors import ConfigError
from assistant.settings import Settings
from assistant.text import cited_numbers

if TYPE_CHECKING:
    from assistant.models import Answer, Passage, ProjectMatch
    from assistant.wiring import Assistant

# An answer that says the asked detail is not in the notes ("The notes don't give the date asked for.").
_SAYS_ABSENT = re.compile(
    r"\bnotes (?:don't|do not|doesn't|does not) (?:give|say|mention|state|include)|\bnotes give no\b|"
    r"\bnot (?:given|stated|mentioned) in the notes\b",
    re.IGNORECASE,
)
# Finder cases are scored on challenge descriptions of this many words or more (the threshold).
FINDER_MIN_WORDS = 25


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
    near_miss: bool = False  # the topic is in the notes, the asked detail is not: say so
    # A new topic inside a conversation: names of the earlier topic that the answer must not carry over.
    must_not_mention: tuple[str, ...] = ()


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
    fact_at_k: float = 1.0  # share of the asked facts the top k passages hold (cases with facts)
    misses: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def row(self) -> str:
        median = statistics.median(self.latencies_ms) if self.latencies_ms else 0.0
        return (
            f"{self.name:<10} hit@{self.k}={self.hit_at_k:.3f}  MRR@{self.k}={self.mrr_at_k:.3f}  "
            f"fact@{self.k}={self.fact_at_k:.3f}  cases={self.cases}  median search {median:.0f} ms"
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
                    near_miss=bool(raw.get("near_miss", False)),
                    must_not_mention=tuple(raw.get("must_not_mention", [])),
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


def supports(case: EvalCase, passage: "Passage") -> bool:
    """A cited passage backs the answer: it is from a document that holds the answer and names what the case is
    about or states one of the asked facts (a release's "What happens next" passage gives the date asked for
    without naming its fund, which its title does)."""
    if passage.metadata.source not in case.sources:
        return False
    return is_relevant(case, hit_from_metadata(passage.metadata.source, passage.text, {})) or any(
        _recall([group], passage.text) for group in case.facts
    )


def score_retrieval(
    name: str, cases: Sequence[EvalCase], search: Callable[[str], tuple[list[Hit], float]], k: int
) -> RetrievalScores:
    """``search`` returns the top hits for a question and the milliseconds it took."""
    judged = [case for case in cases if case.sources and not case.refuse]
    hits = reciprocal = 0.0
    scores = RetrievalScores(name, k, 0.0, 0.0, len(judged))
    present: list[float] = []
    for case in judged:
        results, elapsed_ms = search(case.question)
        scores.latencies_ms.append(elapsed_ms)
        if case.facts:
            present.append(_recall(case.facts, "\n".join(hit.text for hit in results[:k])))
        rank = next((n for n, hit in enumerate(results[:k], start=1) if is_relevant(case, hit)), None)
        if rank is None:
            scores.misses.append(case.id)
        else:
            hits += 1
            reciprocal += 1 / rank
    scores.fact_at_k = statistics.mean(present) if present else 1.0
    if judged:
        scores.hit_at_k = hits / len(judged)
        scores.mrr_at_k = reciprocal / len(judged)
    return scores


def bench_module(name: str) -> Any:
    """A package of the bench extra (matplotlib, the textbook baseline's LangChain packages), imported when
    first needed: the app never loads them, and without them only the evaluation and the bench stop."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        missing = error.name or name
        raise ConfigError(f"{missing} is not installed; install the bench extra: pip install -e '.[bench]'.") from None


def hit_from_metadata(source: str, text: str, metadata: dict[str, Any]) -> Hit:
    described = " ".join(str(value) for value in metadata.values() if value is not None)
    return Hit(source=source, text=f"{described}\n{text}")


class TextbookBaseline:
    """RecursiveCharacterTextSplitter(1000, 200) over the raw files, the same embedder, Chroma top-k."""

    def __init__(self, files: Sequence[Path], embeddings: Embeddings) -> None:
        from assistant.store import make_client

        splitters = bench_module("langchain_text_splitters")
        chroma = bench_module("langchain_chroma")
        splitter = splitters.RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        texts, metadatas = [], []
        for path in files:
            for piece in splitter.split_text(path.read_text(encoding="utf-8", errors="replace")):
                texts.append(piece)
                metadatas.append({"source": path.name})
        client = make_client(None)  # in memory, through the one client factory
        # Chroma shares one in-memory system per process: a collection of its own, so a second baseline
        # (another embedder, in a test run) neither adds to this one's passages nor clashes with its vectors.
        name = f"textbook-baseline-{uuid.uuid4().hex[:12]}"
        self._store = chroma.Chroma(client=client, collection_name=name, embedding_function=embeddings)
        self._store.add_texts(texts, metadatas=metadatas)
        self.chunks = len(texts)

    def search(self, query: str, k: int) -> list[Hit]:
        return [
            Hit(source=str(document.metadata["source"]), text=document.page_content)
            for document in self._store.similarity_search(query, k=k)
        ]


@dataclass(frozen=True)
class Response:
    """What one case got: the answer shown, and the passages retrieved for it (for fact@k)."""

    answer: "Answer"
    retrieved: list[str]


def respond(assistant: "Assistant", case: EvalCase) -> Response:
    """The answer to a case as a user gets it: a briefing for briefing cases, else the chat answer."""
    from assistant.answer.answering import DoneEvent, SourcesEvent
    from assistant.models import Answer

    if case.kind == "briefing":
        started = time.perf_counter()
        briefing = assistant.briefer.brief(case.question)
        text = " ".join(briefing.points) if briefing.answered else briefing.headline
        elapsed = (time.perf_counter() - started) * 1000
        answer = Answer(case.question, case.question, text, briefing.answered, briefing.citations,
                        {"total_ms": elapsed}, briefing.generator, [])  # fmt: skip
        return Response(answer, [citation.passage.text for citation in briefing.citations])
    retrieved: list[str] = []
    final = None
    for event in assistant.answerer.stream(case.question, list(case.history)):
        if isinstance(event, SourcesEvent):
            retrieved = [result.passage.text for result in event.results]
        elif isinstance(event, DoneEvent):
            final = event.answer
    assert final is not None
    return Response(final, retrieved)


def _recall(facts: Sequence[Sequence[str]], text: str) -> float:
    """Share of fact groups with one of their wordings in ``text`` (case-insensitive)."""
    lowered = text.lower().replace("’", "'")
    return sum(any(f.lower().replace("’", "'") in lowered for f in group) for group in facts) / len(facts)


@dataclass
class AnswerScores:
    generator: str
    cases: int
    false_refusals: int  # answerable cases (near misses included) refused
    answerable: int
    off_corpus_refused: float  # share of off-corpus cases refused
    off_corpus: int
    near_miss_says_absent: float  # share of near-miss cases answered with a sentence saying the detail is absent
    near_misses: int
    topic_changes_carried: int  # new topics inside a conversation answered with the earlier topic's names
    topic_changes: int
    fact_recall: float
    fact_at_k: float  # facts present in the passages retrieved
    citation_validity: float
    citation_support: float
    median_ms: float
    p95_ms: float
    failures: list[str] = field(default_factory=list)

    def row(self) -> str:
        return (
            f"{self.generator:<12} false refusals={self.false_refusals}/{self.answerable}  "
            f"off-corpus refused={self.off_corpus_refused:.3f} (of {self.off_corpus})  "
            f"near-miss says absent={self.near_miss_says_absent:.3f} (of {self.near_misses})  "
            f"topic changes carried={self.topic_changes_carried}/{self.topic_changes}  "
            f"facts={self.fact_recall:.3f}  fact@5={self.fact_at_k:.3f}  validity={self.citation_validity:.3f}  "
            f"support={self.citation_support:.3f}  median={self.median_ms:.0f} ms  p95={self.p95_ms:.0f} ms  "
            f"cases={self.cases}"
        )


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def score_answers(generator: str, cases: Sequence[EvalCase], answer: Callable[[EvalCase], Response]) -> AnswerScores:
    """Refusals, near misses, fact recall and fact@k, citation validity and support, and latency."""
    false_refusals = validity = refused_off = absent = carried = 0
    recalls: list[float] = []
    present: list[float] = []
    supported: list[float] = []
    latencies: list[float] = []
    failures: list[str] = []
    for case in cases:
        response = answer(case)
        shown = response.answer
        latencies.append(shown.timings.get("total_ms", 0.0))
        markers = set(cited_numbers(shown.text))
        validity += markers <= {citation.n for citation in shown.citations}
        failed = False
        if case.refuse and not case.near_miss:
            refused_off += not shown.answered
            failed = shown.answered
        else:
            false_refusals += not shown.answered
            failed = not shown.answered
        if case.near_miss:
            says = shown.answered and bool(_SAYS_ABSENT.search(shown.text))
            absent += says
            failed = failed or not says
        if case.must_not_mention and _recall([case.must_not_mention], shown.text):
            carried += 1
            failed = True
        if case.facts and not case.refuse:
            recalls.append(_recall(case.facts, shown.text))
            present.append(_recall(case.facts, "\n".join(response.retrieved)))
            failed = failed or recalls[-1] < 1.0
        if shown.answered and not case.refuse and case.sources:
            supported.append(1.0 if any(supports(case, citation.passage) for citation in shown.citations) else 0.0)
        if failed:
            failures.append(case.id)
    off_corpus = sum(case.refuse and not case.near_miss for case in cases)
    near_misses = sum(case.near_miss for case in cases)
    return AnswerScores(
        generator=generator,
        cases=len(cases),
        false_refusals=false_refusals,
        answerable=len(cases) - off_corpus,
        off_corpus_refused=refused_off / off_corpus if off_corpus else 1.0,
        off_corpus=off_corpus,
        near_miss_says_absent=absent / near_misses if near_misses else 1.0,
        near_misses=near_misses,
        topic_changes_carried=carried,
        topic_changes=sum(bool(case.must_not_mention) for case in cases),
        fact_recall=statistics.mean(recalls) if recalls else 1.0,
        fact_at_k=statistics.mean(present) if present else 1.0,
        citation_validity=validity / (len(cases) or 1),
        citation_support=statistics.mean(supported) if supported else 1.0,
        median_ms=statistics.median(latencies) if latencies else 0.0,
        p95_ms=percentile(latencies, 0.95),
        failures=failures,
    )


@dataclass
class FinderScores:
    hit_at_k: float
    cases: int
    k: int
    misses: list[str] = field(default_factory=list)

    def row(self) -> str:
        return f"finder       hit@{self.k}={self.hit_at_k:.3f} on {self.cases} challenges of {FINDER_MIN_WORDS}+ words"


def score_finder(
    cases: Sequence[EvalCase], find: Callable[[str, int], list["ProjectMatch"]], k: int = 5
) -> FinderScores:
    """A finder case is a hit when one of the first k cards (its names, reason and passage) gives a fact."""
    judged = [c for c in cases if c.kind == "finder" and c.facts and len(c.question.split()) >= FINDER_MIN_WORDS]
    scores = FinderScores(0.0, len(judged), k)
    for case in judged:
        cards = find(case.question, k)[:k]
        text = "\n".join(
            " ".join([card.organisation, card.project or "", card.why] + [c.passage.text for c in card.citations[:1]])
            for card in cards
        )
        if cards and _recall(case.facts, text) > 0:
            scores.hit_at_k += 1
        else:
            scores.misses.append(case.id)
    scores.hit_at_k = scores.hit_at_k / len(judged) if judged else 1.0
    return scores


def _timed(search: Callable[[str], list[Hit]]) -> Callable[[str], tuple[list[Hit], float]]:
    def timed(question: str) -> tuple[list[Hit], float]:
        started = time.perf_counter()
        hits = search(question)
        return hits, (time.perf_counter() - started) * 1000

    return timed


def run_evaluation(
    settings: Settings,
    cases_path: Path | None = None,
    k: int = 5,
    baseline: bool = False,
    answers: bool = True,
    out: TextIO | None = None,
    totals_only: bool = False,
) -> int:
    """``promise-assistant eval``: retrieval scores (and the textbook baseline's), then answers and the finder.

    Prints one row per scorer, with the cases each missed unless ``totals_only`` (a held-out set is only ever
    seen as totals, so nothing is tuned on its questions); returns the exit status (1 when the store is empty)."""
    from assistant.wiring import build_assistant, build_retriever, open_chunk_store

    out = out or sys.stdout  # read at call time, so a replaced stdout (a test's capture) is honoured
    if baseline:  # a missing package is said before any scoring, not after
        bench_module("langchain_text_splitters")
        bench_module("langchain_chroma")
    cases = load_cases(cases_path or settings.eval_cases)
    store = open_chunk_store(settings)
    retriever = build_retriever(settings, store)
    if not len(retriever):
        print("The store is empty: run 'promise-assistant ingest' first.", file=sys.stderr)
        return 1

    def ours(question: str) -> list[Hit]:
        results = retriever.search(question, k=k)
        return [
            hit_from_metadata(r.passage.metadata.source, r.passage.text, asdict(r.passage.metadata)) for r in results
        ]

    rows = [score_retrieval("hybrid", cases, _timed(ours), k)]
    if baseline:
        files = [Path(entry.path) for entry in store.manifest().values() if Path(entry.path).exists()]
        textbook = TextbookBaseline(sorted(files), store.embeddings)
        rows.append(score_retrieval("baseline", cases, _timed(lambda question: textbook.search(question, k)), k))

    def listed(label: str, ids: list[str]) -> str:
        return f"  {label}: {', '.join(ids)}" if ids and not totals_only else ""

    for row in rows:
        print(row.row() + listed("misses", row.misses), file=out)
    if answers:
        assistant = build_assistant(settings)
        scores = score_answers(assistant.answerer.generator, cases, lambda case: respond(assistant, case))
        print(scores.row() + listed("short", scores.failures), file=out)
        finder = score_finder(cases, assistant.finder.find)
        print(finder.row() + listed("misses", finder.misses), file=out)
    return 0
