"""Faults: kill -9 during a chat and during an upload, a damaged or foreign store, a full disk, a
read-only store. After each, the store is consistent and the previous content is still served."""

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from assistant.errors import StoreError
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import open_store
from ingest.pipeline import apply, ingest_paths, prepare_text
from tests.conftest import (
    SEEDS,
    HashingEmbeddings,
    assistant_command,
    child_env,
    free_port,
    ingest_seeds,
    language,
    paused_lines,
    wait_for,
)
from tests.test_crash_and_server import grown_notes

BIG_NOTES = grown_notes("# Harbour Network Meeting\n\nNotes of the harbour network.", 300)


def fake_settings_for(store_dir: Path) -> Settings:
    return Settings(store_dir=store_dir, embedding_model="fake-hashing", collection="fault_notes", llm="extractive")


def seeded_store(store_dir: Path) -> Settings:
    settings = fake_settings_for(store_dir)
    ingest_seeds(settings)
    return settings


def manifest_of(settings: Settings) -> dict[str, tuple[str, ...]]:
    store = open_store(settings, HashingEmbeddings(), language())
    return {source: entry.chunk_ids for source, entry in store.manifest().items()}


# --- a damaged, foreign, full or read-only store ---------------------------------------------------


@pytest.mark.parametrize("damage", ["garbage database", "another program's database"])
def test_a_damaged_or_foreign_store_gives_one_line_and_rebuild_recovers(tmp_path: Path, damage: str) -> None:
    settings = seeded_store(tmp_path / "store")
    (settings.store_dir / "notes-of-mine.txt").write_text("not Chroma's: a rebuild must keep it", encoding="utf-8")
    database = settings.store_dir / "chroma.sqlite3"
    database.unlink()
    if damage == "garbage database":
        database.write_bytes(os.urandom(8192))
    else:
        with contextlib.closing(sqlite3.connect(database)) as foreign:
            foreign.execute("create table t(x)")
            foreign.commit()
    foreign_bytes = database.read_bytes()

    with pytest.raises(StoreError) as raised:
        open_store(settings, HashingEmbeddings(), language())
    message = str(raised.value)
    assert "\n" not in message and "ingest --rebuild" in message
    assert database.read_bytes() == foreign_bytes  # looked at read-only, never altered

    store = open_store(settings, HashingEmbeddings(), language(), rebuild=True)
    report = ingest_paths(store, [SEEDS], settings, progress=False)
    assert report.files == 5 and report.chunks_added > 100
    results = HybridRetriever(store, settings).search("Wee Breathers supervision programme", k=1)
    assert results[0].passage.metadata.organisation == "Scottish Attachment in Action"
    assert (settings.store_dir / "notes-of-mine.txt").exists()


@contextlib.contextmanager
def mounted(*arguments: str) -> Iterator[None]:
    """A mount for the test's own folder; skips the test where this machine does not allow mounting."""
    target = arguments[-1]
    done = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip()}), so this fault cannot be staged")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", target], check=False)


@pytest.mark.slow  # starts a process
def test_a_full_disk_gives_one_line_and_leaves_the_previous_content(tmp_path: Path) -> None:
    disk = tmp_path / "small-disk"
    disk.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)):
        settings = seeded_store(disk / "store")
        before = manifest_of(settings)
        document = prepare_text(BIG_NOTES, "harbour.md", str(tmp_path / "harbour.md"), settings.chunk_max_words)
        filler = disk / "filler"
        free = shutil.disk_usage(disk).free
        filler.write_bytes(b"\0" * (free - 64 * 1024))  # leave 64 KB: less than the document needs

        with pytest.raises(StoreError) as raised:
            apply(open_store(settings, HashingEmbeddings(), language()), [document], progress=False)
        assert "\n" not in str(raised.value) and "Cannot write to the store" in str(raised.value)
        filler.unlink()
        # Chroma's client is not usable again in the process that hit the full disk (it hangs), so the
        # store is checked, and the document added once there is space, from a fresh process.
        check = (
            "from pathlib import Path; from tests.test_faults import *\n"
            f"settings = fake_settings_for(Path({str(settings.store_dir)!r}))\n"
            f"print(sorted(manifest_of(settings)) == {sorted(before)!r})\n"
            "store = open_store(settings, HashingEmbeddings(), language())\n"
            "best = HybridRetriever(store, settings).search('Wee Breathers', k=1)[0].passage.metadata.organisation\n"
            "document = prepare_text(BIG_NOTES, 'harbour.md', '/nowhere/harbour.md', settings.chunk_max_words)\n"
            "apply(store, [document], progress=False)\n"
            "print(best, sorted(manifest_of(settings)))\n"
        )
        done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=180,
                              cwd=Path(__file__).parent.parent)  # fmt: skip
        assert done.returncode == 0, done.stderr
        unchanged, after = done.stdout.splitlines()[-2:]
        assert unchanged == "True"  # the half-written document never became visible
        assert after == f"Scottish Attachment in Action {sorted([*before, 'harbour.md'])}"


def test_a_read_only_store_gives_one_line_and_changes_nothing(tmp_path: Path) -> None:
    settings = seeded_store(tmp_path / "store")
    before = manifest_of(settings)
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    with (
        mounted("--bind", str(settings.store_dir), str(read_only)),
        mounted("-o", "remount,bind,ro", str(read_only)),
        pytest.raises(StoreError) as raised,
    ):
        open_store(fake_settings_for(read_only), HashingEmbeddings(), language())
    assert "not writable" in str(raised.value) and "\n" not in str(raised.value)
    assert manifest_of(settings) == before


# --- kill -9 of the app during chats and during an upload -------------------------------------------
# The app runs as the real 'serve' command with the hashing embedder, which pauses for good at the step the
# test names and says so: the kill lands mid-answer or mid-upload however fast or slow the machine is.


def kill_9(server: subprocess.Popen) -> None:
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=60)


def sources_in_a_fresh_process(env: dict[str, str]) -> dict[str, int]:
    done = subprocess.run(assistant_command("sources", "--json", fake_embedder=True), env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {row["source"]: row["chunks"] for row in json.loads(done.stdout)["documents"]}


@pytest.mark.slow  # starts the app three times
def test_kill_9_during_chats_and_an_upload_leaves_the_previous_content_served(
    tmp_path: Path, served_app: Callable[..., subprocess.Popen]
) -> None:
    settings = seeded_store(tmp_path / "store")
    store_dir = settings.store_dir
    env = child_env(store_dir=store_dir, embedding_model="fake-hashing", collection=settings.collection,
                    llm="extractive", embedding_batch_size=16)  # fmt: skip
    before = sources_in_a_fresh_process(env)
    port, paused = free_port(), tmp_path / "paused"
    url = f"http://127.0.0.1:{port}/"

    # Six chats sent; the first to reach the embedder stops there (after the start-up's warm-up query).
    server = served_app(env | {"PAUSE_QUERIES_AFTER": "1", "PAUSED_FILE": str(paused)}, port, fake_embedder=True)
    chats = [Client(url, verbose=False) for _ in range(6)]
    jobs = [client.submit("Which projects supported young people into work?", [], "All", "All", api_name="/chat")
            for client in chats]  # fmt: skip
    wait_for(lambda: paused_lines(paused), "a chat to be in the middle of its answer")
    kill_9(server)
    assert sources_in_a_fresh_process(env) == before
    del jobs

    # An upload of ~300 passages, stopped for good with two batches of 16 written.
    paused.unlink()
    server = served_app(env | {"PAUSE_DOCUMENTS_AFTER": "4", "PAUSED_FILE": str(paused)}, port, fake_embedder=True)
    big = tmp_path / "Harbour network notes.md"
    big.write_text(BIG_NOTES, encoding="utf-8")
    Client(url, verbose=False).submit([handle_file(str(big))], api_name="/upload")
    wait_for(lambda: paused_lines(paused), "the upload to be part-way through its embedding")
    stored = store_dir / "uploads" / big.name
    assert stored.exists(), "the upload never reached the store"
    kill_9(server)
    assert sources_in_a_fresh_process(env) == before  # the half-ingested upload is invisible

    server = served_app(env, port, fake_embedder=True)
    conversation, sources, *_ = Client(url, verbose=False).predict(
        "What is Wee Breathers?", [], "All", "All", api_name="/chat"
    )
    assert "Scottish Attachment in Action" in sources and "Wee Breathers" in str(conversation[-1]["content"])
    server.terminate()
    server.wait(timeout=60)

    # The kept file is picked up by the next ingest, which also clears the chunks the kill left behind.
    done = subprocess.run(assistant_command("ingest", "--quiet", fake_embedder=True), env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    after = sources_in_a_fresh_process(env)
    assert {k: v for k, v in after.items() if k != big.name} == before and after[big.name] > 100
    logged = (tmp_path / "app.log").read_text(errors="replace")
    assert "young people into work" not in logged and "Wee Breathers" not in logged  # no questions in logs
