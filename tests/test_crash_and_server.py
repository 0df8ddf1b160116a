"""A real kill -9 in the middle of an ingest, and a real Chroma server on 127.0.0.1."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.answer.answering import Answerer
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import open_store
from ingest.pipeline import ingest_paths
from tests.conftest import (
    SEEDS,
    HashingEmbeddings,
    assistant_command,
    child_env,
    free_port,
    language,
    paused_lines,
    wait_for,
)

pytestmark = pytest.mark.slow  # each test starts processes


def grown_notes(original: str, paragraphs: int) -> str:
    extra = "\n\n".join(
        f"Follow-up meeting {n}\n\nPartners in area {n} reviewed kinship allowances, respite, school transport "
        f"and the waiting list for family group decision making, case {n * 7}."
        for n in range(paragraphs)
    )
    return original + "\n\n" + extra + "\n"


def cli_json(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        assistant_command(*args, "--json", fake_embedder=True), env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_kill_9_mid_ingest_leaves_the_previous_version_searchable(tmp_path: Path):
    # Every step runs in its own process, as a user would run them; Chroma's embedded client
    # caches state per process, so only a fresh process shows what is really on disk.
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    env = child_env(store_dir=tmp_path / "store", embedding_model="fake-hashing", embedding_batch_size=16)
    subprocess.run(assistant_command("ingest", "--quiet", str(seeds), fake_embedder=True), env=env, check=True,
                   timeout=600)  # fmt: skip
    before = cli_json(env, "sources")["documents"]
    assert len(before) == 5

    network = next(seeds.glob("003_*.txt"))
    network.chmod(0o644)
    network.write_text(grown_notes(network.read_text(encoding="utf-8"), 300), encoding="utf-8")
    # The new version's embedder stops for good on its fifth call: two batches of it are written (a batch
    # is two calls, its chunks' and their sentences'), most of it is not, and it says so before it stops.
    paused = tmp_path / "paused"
    process = subprocess.Popen(
        assistant_command("ingest", str(seeds), fake_embedder=True),
        env=env | {"PAUSE_DOCUMENTS_AFTER": "4", "PAUSED_FILE": str(paused)},
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: paused_lines(paused) or process.poll() is not None, "the ingest to reach its fifth batch")
        assert process.poll() is None, f"ingest ended (status {process.returncode}) before it could be killed"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)

    assert cli_json(env, "sources")["documents"] == before
    found = cli_json(env, "search", "What is Love Inc doing to embed the Promise?", "-k", "3")["results"]
    assert any("Love Inc" in result["text"] for result in found)
    grown = cli_json(env, "search", "Follow-up meeting kinship allowances respite", "-k", "5")["results"]
    assert not any("Follow-up meeting" in result["text"] for result in grown)

    finished = subprocess.run(assistant_command("ingest", "--quiet", str(seeds), fake_embedder=True), env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
    assert finished.returncode == 0 and " 0 chunks added" not in finished.stdout, finished.stdout
    grown = cli_json(env, "search", "Follow-up meeting 299 kinship allowances", "-k", "5")["results"]
    assert any("Follow-up meeting 299" in result["text"] for result in grown)


@pytest.fixture
def chroma_server(tmp_path: Path):
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert chroma, "the chroma command is installed with chromadb"
    port = free_port()
    server = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def listening() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
            except OSError:
                return False
            return True

        wait_for(listening, "the Chroma server to listen", every=0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_ingest_into_and_answer_from_a_real_chroma_server(chroma_server: int, tmp_path: Path):
    settings = Settings(
        chroma_host="127.0.0.1",
        chroma_port=chroma_server,
        embedding_model="fake-hashing",
        store_dir=tmp_path / "unused",
    )
    embeddings = HashingEmbeddings()
    report = ingest_paths(open_store(settings, embeddings, language()), [SEEDS], settings, progress=False)
    assert report.files == 5 and report.chunks_added > 100
    again = ingest_paths(open_store(settings, embeddings, language()), [SEEDS], settings, progress=False)
    assert again.chunks_added == 0
    retriever = HybridRetriever(open_store(settings, embeddings, language()), settings)
    results = retriever.search("Wee Breathers supervision programme", k=3)
    assert results[0].passage.metadata.organisation == "Scottish Attachment in Action"
    answer = Answerer(retriever, None, Prompts.load(), settings, language()).answer("What is Wee Breathers?")
    assert answer.answered and "Wee Breathers" in answer.text
    assert answer.citations[0].passage.metadata.organisation == "Scottish Attachment in Action"
    assert not (tmp_path / "unused").exists()  # everything went to the server
