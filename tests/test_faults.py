"""Faults: kill -9 during a chat and during an upload, a damaged or foreign store, a full disk, a
read-only store. After each, the store is consistent and the previous content is still served."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from assistant.errors import StoreError
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import open_store
from ingest.pipeline import apply, ingest_paths, prepare_text
from tests.conftest import SEEDS, HashingEmbeddings, free_port
from tests.test_crash_and_server import ASSISTANT, _env, _grown_notes

BIG_NOTES = _grown_notes("# Harbour Network Meeting\n\nNotes of the harbour network.", 300)


def fake_settings_for(store_dir: Path) -> Settings:
    return Settings(store_dir=store_dir, embedding_model="fake-hashing", collection="fault_notes", llm="extractive")


def seeded_store(store_dir: Path) -> Settings:
    settings = fake_settings_for(store_dir)
    ingest_paths(open_store(settings, HashingEmbeddings()), [SEEDS], settings, progress=False)
    return settings


def manifest_of(settings: Settings) -> dict[str, tuple[str, ...]]:
    store = open_store(settings, HashingEmbeddings())
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
        subprocess.run(["python3", "-c", f"import sqlite3; sqlite3.connect('{database}').execute('create table t(x)')"],
                       check=True)  # fmt: skip
    foreign_bytes = database.read_bytes()

    with pytest.raises(StoreError) as raised:
        open_store(settings, HashingEmbeddings())
    message = str(raised.value)
    assert "\n" not in message and "ingest --rebuild" in message
    assert database.read_bytes() == foreign_bytes  # looked at read-only, never altered

    store = open_store(settings, HashingEmbeddings(), rebuild=True)
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
            apply(open_store(settings, HashingEmbeddings()), [document], progress=False)
        assert "\n" not in str(raised.value) and "Cannot write to the store" in str(raised.value)
        filler.unlink()
        # Chroma's client is not usable again in the process that hit the full disk (it hangs), so the
        # store is checked, and the document added once there is space, from a fresh process.
        check = (
            "from pathlib import Path; from tests.test_faults import *\n"
            f"settings = fake_settings_for(Path({str(settings.store_dir)!r}))\n"
            f"print(sorted(manifest_of(settings)) == {sorted(before)!r})\n"
            "store = open_store(settings, HashingEmbeddings())\n"
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
        open_store(fake_settings_for(read_only), HashingEmbeddings())
    assert "not writable" in str(raised.value) and "\n" not in str(raised.value)
    assert manifest_of(settings) == before


# --- kill -9 of the app during chats and during an upload -------------------------------------------


def start_app(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("ab") as output:
        server = subprocess.Popen([*ASSISTANT, "serve", "--port", str(port)], env=env, stdout=output, stderr=output)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the app exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                return server
        time.sleep(0.5)
    server.kill()
    pytest.fail(f"the app did not start within 180 s:\n{log.read_text(errors='replace')}")


def kill_9(server: subprocess.Popen) -> None:
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=30)


def sources_in_a_fresh_process(env: dict[str, str]) -> dict[str, int]:
    done = subprocess.run([*ASSISTANT, "sources", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return {row["source"]: row["chunks"] for row in json.loads(done.stdout)["documents"]}


def test_kill_9_during_chats_and_an_upload_leaves_the_previous_content_served(
    real_store_dir: Path, tmp_path: Path
) -> None:
    store_dir = tmp_path / "store"
    shutil.copytree(real_store_dir, store_dir)
    env = _env(store_dir=str(store_dir), llm="extractive")
    before = sources_in_a_fresh_process(env)
    port, log = free_port(), tmp_path / "app.log"
    url = f"http://127.0.0.1:{port}/"

    server = start_app(env, port, log)
    chats = [Client(url, verbose=False) for _ in range(6)]
    jobs = [client.submit("Which projects supported young people into work?", [], "All", "All", api_name="/chat")
            for client in chats]  # fmt: skip
    time.sleep(0.3)  # answers in flight
    kill_9(server)
    assert sources_in_a_fresh_process(env) == before
    del jobs

    server = start_app(env, port, log)
    big = tmp_path / "Harbour network notes.md"
    big.write_text(BIG_NOTES, encoding="utf-8")
    Client(url, verbose=False).submit([handle_file(str(big))], api_name="/upload")
    stored = store_dir / "uploads" / big.name
    deadline = time.monotonic() + 120
    while not stored.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored.exists(), "the upload never reached the store"
    time.sleep(1.0)  # embedding its ~300 passages takes far longer than this
    kill_9(server)
    assert sources_in_a_fresh_process(env) == before  # the half-ingested upload is invisible

    server = start_app(env, port, log)
    try:
        conversation, sources, *_ = Client(url, verbose=False).predict(
            "What is Wee Breathers?", [], "All", "All", api_name="/chat"
        )
        assert "Scottish Attachment in Action" in sources and "Wee Breathers" in str(conversation[-1]["content"])
    finally:
        server.terminate()
        server.wait(timeout=30)

    # The kept file is picked up by the next ingest, which also clears the chunks the kill left behind.
    done = subprocess.run([*ASSISTANT, "ingest", "--quiet"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    after = sources_in_a_fresh_process(env)
    assert {k: v for k, v in after.items() if k != big.name} == before and after[big.name] > 100
    logged = log.read_text(errors="replace")
    assert "young people into work" not in logged and "Wee Breathers" not in logged  # no questions in logs
