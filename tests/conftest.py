"""Shared fixtures and helpers: settings on temporary stores, a fake embedder (and one that pauses, for
killing a process at a known point), the seeds ingested with it, a clean environment, and the app started
and stopped, in this process or as the real ``serve`` command."""

import contextlib
import functools
import hashlib
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.embeddings import Embeddings

from assistant.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from assistant.answer.answering import Answerer
    from assistant.answer.language import Language
    from assistant.app import AssistantBlocks
    from assistant.library import Library
    from assistant.sentences import Quote
    from assistant.store import ChunkStore

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SEEDS = PROJECT_ROOT / "seeds"
DEV_CASES = PROJECT_ROOT / "tests" / "data" / "dev.jsonl"
PATIENCE_S = 180.0  # a safety net for waits on a process or a condition, never a measure of speed
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium as root in a container, with no network beyond loopback: no sandbox, no background calls.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_WAIT_MS = 60_000  # a safety net for a page, never a measure of speed


@functools.cache
def language() -> "Language":
    """spaCy's small English pipeline, loaded once for the whole run (the real model: it is small and fast)."""
    from assistant.answer.language import load_language

    return load_language(Settings().language_model)


def tagged(text: str) -> "Quote":
    """A sentence with its named entities, as the store keeps it."""
    return language().tagged(text)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], Any], what: str, timeout: float = PATIENCE_S, every: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy (returned); fail, naming ``what``, after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    pytest.fail(f"{what}: not within {timeout:.0f} s")


# --- the environment --------------------------------------------------------------------------------


def child_env(**settings: Any) -> dict[str, str]:
    """The environment for a child process: this one's without any PROMISE_ setting, then each keyword as
    PROMISE_<NAME>; models offline; the project importable (a child may import ``tests.conftest``)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PROMISE_")}
    env |= {f"PROMISE_{name.upper()}": str(value) for name, value in settings.items()}
    env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    return env


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """No PROMISE_ setting in this process's environment (a developer's own are ignored); returns a function
    that sets some, as PROMISE_<NAME>, for the test only."""
    for name in [name for name in os.environ if name.startswith("PROMISE_")]:
        monkeypatch.delenv(name)

    def setting(**settings: Any) -> None:
        for name, value in settings.items():
            monkeypatch.setenv(f"PROMISE_{name.upper()}", str(value))

    return setting


# --- fake embedders -----------------------------------------------------------------------------------


class HashingEmbeddings(Embeddings):
    """A deterministic bag-of-words embedder: texts sharing words are similar. Counts its calls."""

    dimensions = 64

    def __init__(self) -> None:
        self.embedded_texts = 0

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
        norm = math.sqrt(sum(value * value for value in vector)) or 1.0
        return [value / norm for value in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded_texts += len(texts)
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


class PausingEmbeddings(HashingEmbeddings):
    """The hashing embedder, for a process a test will kill at a known point. Set in its environment:
    ``PAUSE_DOCUMENTS_AFTER=N`` — the (N+1)-th ``embed_documents`` call never returns (a batch of chunks is
    two calls, so N=4 pauses with two batches written); ``PAUSE_QUERIES_AFTER=N`` — the same for
    ``embed_query`` (the app embeds one query to warm up as it starts). On pausing it writes a line to the
    file ``PAUSED_FILE``: the test waits for that line, then kills the process."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = self.queries = 0
        self.documents_after = int(os.environ.get("PAUSE_DOCUMENTS_AFTER", "0"))
        self.queries_after = int(os.environ.get("PAUSE_QUERIES_AFTER", "0"))
        self.paused_file = os.environ.get("PAUSED_FILE")

    def _pause(self, why: str) -> None:
        if self.paused_file:
            with open(self.paused_file, "a", encoding="utf-8") as log:
                log.write(why + "\n")
        threading.Event().wait()  # until the process is killed

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.documents_after and self.calls > self.documents_after:
            self._pause(f"documents call {self.calls}")
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        if self.queries_after and self.queries > self.queries_after:
            self._pause(f"query {self.queries}")
        return super().embed_query(text)


def paused_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


# The real command line, with the (pausing) hashing embedder in place of the real model: patched where the
# embedder is made, before anything imports it, so every command builds its objects as it always does.
_FAKE_EMBEDDER_CLI = (
    "import sys, assistant.embeddings as made; from tests.conftest import PausingEmbeddings; "
    "made.make_embeddings = lambda *args, **kwargs: PausingEmbeddings(); "
    "from assistant.cli import main; sys.exit(main(sys.argv[1:]))"
)


def assistant_command(*args: str, fake_embedder: bool = False) -> list[str]:
    """``promise-assistant ARGS`` as a child process runs it (with the hashing embedder if ``fake_embedder``;
    give it ``child_env(embedding_model="fake-hashing", ...)``)."""
    if fake_embedder:
        return [sys.executable, "-c", _FAKE_EMBEDDER_CLI, *args]
    return [sys.executable, "-m", "assistant.cli", *args]


# --- settings and stores ----------------------------------------------------------------------------


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


@pytest.fixture
def fake_settings(tmp_path: Path, seeds_copy: Path) -> Settings:
    return Settings(
        store_dir=tmp_path / "store", seeds_dir=seeds_copy, embedding_model="fake-hashing", collection="test_notes"
    )


def ingest_seeds(settings: Settings, embeddings: Embeddings | None = None, rebuild: bool = False) -> "ChunkStore":
    """The store of ``settings`` opened with the hashing embedder (or ``embeddings``), the seeds ingested."""
    from assistant.store import open_store
    from ingest.pipeline import ingest_paths

    store = open_store(settings, embeddings or HashingEmbeddings(), language(), rebuild=rebuild)
    report = ingest_paths(store, [settings.seeds_dir], settings, progress=False)
    assert report.files == 5 and report.chunks_added + report.chunks_unchanged > 100 and not report.failures
    return store


@pytest.fixture
def fake_store(fake_settings: Settings) -> "ChunkStore":
    """``fake_settings``' store with the seeds ingested by the hashing embedder."""
    return ingest_seeds(fake_settings)


def fake_core(store_dir: Path, **overrides: Any) -> tuple["Answerer", "Library", Settings]:
    """The real answerer and library over the seeds ingested with the hashing embedder, the extractive
    generator, and a free port for the app."""
    from assistant.answer.answering import Answerer
    from assistant.library import Library
    from assistant.prompts import Prompts
    from assistant.retrieval import HybridRetriever

    settings = Settings(
        store_dir=store_dir, seeds_dir=SEEDS, embedding_model="fake-hashing", collection="app_notes",
        llm="extractive", port=free_port(), **overrides,
    )  # fmt: skip
    retriever = HybridRetriever(ingest_seeds(settings), settings)
    return (
        Answerer(retriever, None, Prompts.load(), settings, language()),
        Library(retriever.store, retriever, settings),
        settings,
    )


def store_files(store_dir: Path) -> dict[str, str]:
    """Every file under a store directory (Chroma's database and indexes, uploads) and a hash of its bytes:
    a read leaves this as it was; any write, even of the same records, does not."""
    return {
        str(path.relative_to(store_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(store_dir.rglob("*"))
        if path.is_file()
    }


# --- the app, in this process or as the real command --------------------------------------------------


@contextlib.contextmanager
def running_app(
    answerer: "Answerer", library: "Library", settings: Settings
) -> Iterator[tuple[str, "AssistantBlocks"]]:
    """The app built and launched in this process on ``settings.port``; yields its URL (no trailing slash)
    and the Blocks; closed after."""
    from assistant.app import build_ui, launch

    demo = build_ui(answerer, library)
    launch(demo, settings, block=False)
    try:
        yield f"http://127.0.0.1:{settings.port}", demo
    finally:
        demo.close()


def wait_until_serving(url: str, process: "subprocess.Popen[bytes]", log: Path | None = None) -> None:
    """Until ``url`` answers 200; fails with the log if the process ends first or within PATIENCE_S it has not."""
    import httpx

    def up() -> bool:
        if process.poll() is not None:
            shown = log.read_text(errors="replace") if log and log.exists() else ""
            pytest.fail(f"the app exited with {process.returncode}:\n{shown}")
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(url, timeout=5).status_code == 200
        return False

    wait_for(up, f"the app at {url} to answer", every=0.3)


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[Callable[..., "subprocess.Popen[bytes]"]]:
    """Starts ``promise-assistant serve --port PORT`` as its own process and waits until it answers:
    ``start(env, port, fake_embedder=False, preexec_fn=None)``; its output goes to ``tmp_path / "app.log"``.
    Any process still running at the end of the test is killed."""
    started: list[subprocess.Popen[bytes]] = []
    log = tmp_path / "app.log"

    def start(
        env: dict[str, str], port: int, fake_embedder: bool = False, preexec_fn: Callable[[], Any] | None = None
    ) -> subprocess.Popen[bytes]:
        command = assistant_command("serve", "--port", str(port), fake_embedder=fake_embedder)
        with log.open("ab") as output:
            process = subprocess.Popen(command, env=env, stdout=output, stderr=output, preexec_fn=preexec_fn)
        started.append(process)
        wait_until_serving(f"http://127.0.0.1:{port}/", process, log)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=60)


# --- the real embedder over the seeds (slow to load: used by the tests marked slow and a few others) ----


@pytest.fixture(scope="session")
def real_embeddings() -> Embeddings:
    from assistant.embeddings import make_embeddings

    embeddings = make_embeddings(Settings())
    embeddings.embed_query("warm up")
    return embeddings


@pytest.fixture(scope="session")
def real_store_dir(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings) -> Iterator[Path]:
    """The seeds ingested once with the real embedder; tests only read it."""
    from assistant.store import open_store
    from ingest.pipeline import ingest_paths

    store_dir = tmp_path_factory.mktemp("real-store")
    settings = Settings(store_dir=store_dir)
    report = ingest_paths(open_store(settings, real_embeddings, language()), [SEEDS], settings, progress=False)
    assert report.files == 5 and not report.failures
    yield store_dir


@pytest.fixture(scope="session")
def real_settings(real_store_dir: Path) -> Settings:
    return Settings(store_dir=real_store_dir)


# --- the forum notes: one fact of each kind, ingested with the hashing embedder ----------------------------

FORUM_NOTES = Path(__file__).parent / "data" / "forum_notes"


@pytest.fixture(scope="module")
def forum(tmp_path_factory: pytest.TempPathFactory) -> "Answerer":
    """An extractive answerer over tests/data/forum_notes, offline."""
    from assistant.answer.answering import Answerer
    from assistant.prompts import Prompts
    from assistant.retrieval import HybridRetriever
    from assistant.store import open_store
    from ingest.pipeline import ingest_paths

    settings = Settings(
        store_dir=tmp_path_factory.mktemp("forum") / "store", embedding_model="fake-hashing", collection="forum_notes"
    )
    store = open_store(settings, HashingEmbeddings(), language())
    ingest_paths(store, [FORUM_NOTES], settings, progress=False)
    return Answerer(HybridRetriever(store, settings), None, Prompts.load(), settings, language())


def conversation(forum: "Answerer", question: str) -> list[dict[str, str]]:
    """A one-exchange history: the question and the forum's answer to it."""
    return [{"role": "user", "content": question}, {"role": "assistant", "content": forum.answer(question).text}]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium for one test module; Playwright's checks wait as long as a busy machine needs."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=BROWSER_WAIT_MS)  # a busy machine is slow, not wrong
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    expect.set_options(timeout=5_000)  # Playwright's default, for the other test modules
