"""Load on the running app, loopback only: concurrent chat sessions, and a slow model that must queue."""

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from gradio_client import Client
from gradio_client.utils import Status
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage

from assistant.answer.answering import Answerer
from assistant.evaluation import percentile
from assistant.library import Library
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import open_store
from tests.conftest import PATIENCE_S, free_port, language, running_app, wait_for
from tests.test_app import last_message

SESSIONS = 20
# Each session asks every turn once, starting at a different one; a turn of two is a question and its follow-up.
TURNS: tuple[tuple[str, ...], ...] = (
    ("What is Wee Breathers?", "Who does it support?"),
    ("Which projects supported young people into work?",),
    ("What did the family learning collaborative discuss?",),
    ("How did organisations involve care-experienced young people in design?",),
    ("What is the capital of France?",),  # refusals are part of real traffic
    ("What support is there for kinship carers?",),
    ("What did the Participation Network want in future?",),
    ("How can funding be less siloed?",),
    ("What is Thinking Space?",),
)
OFF_CORPUS = {"What is the capital of France?"}
QUESTIONS_PER_SESSION = sum(len(turn) for turn in TURNS)


def as_expected(question: str, reply: str) -> bool:
    """A question the notes answer gets a cited answer; the one they don't, a refusal without sources."""
    if question in OFF_CORPUS:
        return "Not in the notes" in reply and "#source-" not in reply
    return "#source-" in reply and "Not in the notes" not in reply


@pytest.fixture(scope="module")
def real_core(real_settings: Settings, real_embeddings) -> tuple[HybridRetriever, Library, Settings]:
    settings = real_settings.model_copy(update={"llm": "extractive", "port": free_port()})
    store = open_store(settings, real_embeddings, language())
    retriever = HybridRetriever(store, settings)
    retriever.warm_up()
    return retriever, Library(store, retriever, settings), settings


@pytest.mark.slow  # 200 requests: a load test
def test_concurrent_chat_sessions_are_all_answered(real_core: tuple[HybridRetriever, Library, Settings]) -> None:
    retriever, library, settings = real_core
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def session(url: str, number: int) -> None:
        client = Client(url, verbose=False)
        turns = itertools.islice(itertools.cycle(TURNS), number % len(TURNS), number % len(TURNS) + len(TURNS))
        for question in itertools.chain.from_iterable(turns):
            started = time.perf_counter()
            try:
                conversation, *_ = client.predict(question, [], "All", "All", api_name="/chat")
                reply = last_message(conversation)
                problem = None if as_expected(question, reply) else f"{question}: {reply[:300]}"
            except Exception as error:  # every failure is counted, whatever its kind
                problem = f"{question}: {error}"
            with lock:
                latencies.append(time.perf_counter() - started)
                if problem:
                    errors.append(problem)

    with running_app(Answerer(retriever, None, Prompts.load(), settings, language()), library, settings) as (url, _):
        started = time.perf_counter()
        with ThreadPoolExecutor(SESSIONS) as pool:
            list(pool.map(lambda number: session(f"{url}/", number), range(SESSIONS)))
        elapsed = time.perf_counter() - started
    print(  # reported, not asserted: how long it takes is the machine's business
        f"\nload: {SESSIONS} sessions x {QUESTIONS_PER_SESSION} questions = {len(latencies)} requests in "
        f"{elapsed:.1f} s, {len(errors)} errors; p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms"
    )
    assert len(latencies) == SESSIONS * QUESTIONS_PER_SESSION
    assert errors == []


class Gate:
    """Holds every model call until ``opened``; counts the calls that entered and the most at once."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.lock = threading.Lock()
        self.entered = self.running = self.most_running = 0


class GatedModel(GenericFakeChatModel):
    """A model as slow as the test wants: the same supported answer, once the gate opens."""

    gate: Any

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Iterator[Any]:
        with self.gate.lock:
            self.gate.entered += 1
            self.gate.running += 1
            self.gate.most_running = max(self.gate.most_running, self.gate.running)
        try:
            self.gate.opened.wait(PATIENCE_S)
            yield from super()._stream(messages, *args, **kwargs)
        finally:
            with self.gate.lock:
                self.gate.running -= 1


def test_with_a_slow_model_requests_queue_instead_of_failing(
    real_core: tuple[HybridRetriever, Library, Settings],
) -> None:
    retriever, library, settings = real_core
    reply = AIMessage("Scottish Attachment in Action created Wee Breathers, a supervision programme [1].")
    gate = Gate()
    model = GatedModel(messages=itertools.repeat(reply), gate=gate)
    queued = settings.model_copy(update={"concurrency": 1, "port": free_port()})
    with running_app(Answerer(retriever, model, Prompts.load(), queued, language(), "slow"), library, queued) as (
        url,
        _,
    ):
        jobs = [Client(f"{url}/", verbose=False).submit("What is Wee Breathers?", [], "All", "All", api_name="/chat")
                for _ in range(6)]  # fmt: skip

        def settled() -> bool:
            """One answer held in the model and the five others waiting in the queue (or, if the app let a
            second answer start, that one in the model too)."""
            waiting = sum(job.status().code == Status.IN_QUEUE for job in jobs)
            return gate.entered >= 2 or (gate.entered == 1 and waiting == 5)

        wait_for(settled, "one answer in the model and five in the queue")
        gate.opened.set()
        replies = [last_message(job.result(timeout=PATIENCE_S)[0]) for job in jobs]
    assert gate.most_running == 1  # one answer at a time, as the concurrency setting says
    assert gate.entered == 6  # the others waited in the queue rather than failing
    assert all("Wee Breathers" in reply and "(#source-" in reply for reply in replies)
