"""Load on the running app, loopback only: concurrent chat sessions, and a slow model that must queue."""

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from gradio_client import Client
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage

from assistant.answering import Answerer
from assistant.app import build_ui, launch
from assistant.evaluation import percentile
from assistant.library import Library
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import open_store
from tests.conftest import free_port
from tests.test_app import last_message

SESSIONS = 20
QUESTIONS_PER_SESSION = 10
QUESTIONS = (
    "What is Wee Breathers?",
    "Which projects supported young people into work?",
    "What did the family learning collaborative discuss?",
    "How did organisations involve care-experienced young people in design?",
    "What is the capital of France?",  # refusals are part of real traffic
    "Who does it support?",  # a follow-up within the session
    "What support is there for kinship carers?",
    "What did the Participation Network want in future?",
    "How can funding be less siloed?",
    "What is Thinking Space?",
)


def serve(settings: Settings, answerer: Answerer, library: Library) -> Any:
    demo = build_ui(answerer, library)
    launch(demo, settings, block=False)
    return demo


@pytest.fixture(scope="module")
def real_core(real_settings: Settings, real_embeddings) -> tuple[HybridRetriever, Library, Settings]:
    settings = real_settings.model_copy(update={"llm": "extractive", "port": free_port()})
    store = open_store(settings, real_embeddings)
    retriever = HybridRetriever(store, settings)
    retriever.warm_up()
    return retriever, Library(store, retriever, settings), settings


def test_concurrent_chat_sessions_are_all_answered(real_core: tuple[HybridRetriever, Library, Settings]) -> None:
    retriever, library, settings = real_core
    demo = serve(settings, Answerer(retriever, None, Prompts.load(), settings), library)
    url = f"http://127.0.0.1:{settings.port}/"
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def session(number: int) -> None:
        client = Client(url, verbose=False)
        for question in itertools.islice(itertools.cycle(QUESTIONS[number % 3 :]), QUESTIONS_PER_SESSION):
            started = time.perf_counter()
            try:
                conversation, *_ = client.predict(question, [], "All", "All", api_name="/chat")
                reply = last_message(conversation)
                ok = "#source-" in reply or "Not in the notes" in reply  # a cited answer or a refusal
            except Exception as error:  # every failure is counted, whatever its kind
                ok, question = False, f"{question}: {error}"
            with lock:
                latencies.append(time.perf_counter() - started)
                if not ok:
                    errors.append(question)

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(SESSIONS) as pool:
            list(pool.map(session, range(SESSIONS)))
        elapsed = time.perf_counter() - started
    finally:
        demo.close()
    print(
        f"\nload: {SESSIONS} sessions x {QUESTIONS_PER_SESSION} questions = {len(latencies)} requests in "
        f"{elapsed:.1f} s, {len(errors)} errors; p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms"
    )
    assert len(latencies) == SESSIONS * QUESTIONS_PER_SESSION
    assert errors == []


class SlowModel(GenericFakeChatModel):
    """A model as slow as the local one feels: the same supported answer, after a pause."""

    delay_s: float = 0.4
    running: int = 0
    most_running: int = 0

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            time.sleep(self.delay_s)
            yield from super()._stream(messages, *args, **kwargs)
        finally:
            self.running -= 1


def test_with_a_slow_model_requests_queue_instead_of_failing(
    real_core: tuple[HybridRetriever, Library, Settings],
) -> None:
    retriever, library, settings = real_core
    reply = AIMessage("Scottish Attachment in Action created Wee Breathers, a supervision programme [1].")
    model = SlowModel(messages=itertools.repeat(reply))
    queued = settings.model_copy(update={"concurrency": 1, "port": free_port()})
    demo = serve(queued, Answerer(retriever, model, Prompts.load(), queued, "slow"), library)
    url = f"http://127.0.0.1:{queued.port}/"

    def ask(_: int) -> str:
        conversation, *_ = Client(url, verbose=False).predict("What is Wee Breathers?", [], "All", "All",
                                                               api_name="/chat")  # fmt: skip
        return last_message(conversation)

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(6) as pool:
            replies = list(pool.map(ask, range(6)))
        elapsed = time.perf_counter() - started
    finally:
        demo.close()
    assert all("Wee Breathers" in reply and "(#source-" in reply for reply in replies)
    assert model.most_running == 1  # one answer at a time, as the concurrency setting says
    assert elapsed >= 6 * model.delay_s  # the others waited in the queue rather than failing
