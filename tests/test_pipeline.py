"""Idempotent, crash-safe ingest into a real Chroma store (with a fake embedder, so it runs fast)."""

from pathlib import Path

import pytest

from assistant.cli import main
from assistant.errors import EmbeddingModelMismatch
from assistant.settings import Settings
from assistant.store import ChunkStore, open_store
from ingest.pipeline import ingest_paths, remove_document
from tests.conftest import HashingEmbeddings, ingest_seeds, language


def _open(settings: Settings, embeddings: HashingEmbeddings | None = None, rebuild: bool = False) -> ChunkStore:
    return open_store(settings, embeddings or HashingEmbeddings(), language(), rebuild=rebuild)


def _live_by_source(store: ChunkStore) -> dict[str, set[str]]:
    live: dict[str, set[str]] = {}
    for passage in store.live_passages():
        live.setdefault(passage.metadata.source, set()).add(passage.chunk_id)
    return live


def test_reingesting_unchanged_seeds_embeds_nothing(fake_settings: Settings):
    embeddings = HashingEmbeddings()
    first = ingest_paths(_open(fake_settings, embeddings), [fake_settings.seeds_dir], fake_settings, progress=False)
    assert first.files == 5 and first.chunks_added > 100 and not first.failures
    embedded = embeddings.embedded_texts

    again = ingest_paths(_open(fake_settings, embeddings), [fake_settings.seeds_dir], fake_settings, progress=False)
    assert embeddings.embedded_texts == embedded  # the costly step, counted rather than timed
    assert (again.chunks_added, again.chunks_removed, again.chunks_unchanged) == (0, 0, first.chunks_added)


def test_editing_one_file_changes_only_its_chunks(fake_settings: Settings, fake_store: ChunkStore):
    store = fake_store
    before = _live_by_source(store)
    edited = next(fake_settings.seeds_dir.glob("003_*.txt"))
    edited.write_text(edited.read_text(encoding="utf-8").replace("Love Inc", "Hope Ltd"), encoding="utf-8")
    report = ingest_paths(store, [fake_settings.seeds_dir], fake_settings, progress=False)
    after = _live_by_source(store)
    assert report.chunks_added >= 1 and report.chunks_added == report.chunks_removed
    for source in before:
        if source == edited.name:
            assert after[source] != before[source]
        else:
            assert after[source] == before[source]
    texts = " ".join(p.text for p in store.live_passages())
    assert "Hope Ltd" in texts and "Love Inc" not in texts
    assert store.all_ids() == {chunk for chunks in after.values() for chunk in chunks}  # old chunks deleted


def test_deleting_a_file_removes_its_chunks(fake_settings: Settings, fake_store: ChunkStore):
    store = fake_store
    removed = next(fake_settings.seeds_dir.glob("004_*.txt"))
    removed.unlink()
    report = ingest_paths(store, [fake_settings.seeds_dir], fake_settings, progress=False)
    assert report.documents_removed == [removed.name]
    assert removed.name not in _live_by_source(store)
    assert removed.name not in store.manifest()
    assert len(store.all_ids()) == sum(len(e.chunk_ids) for e in store.manifest().values())


def test_remove_document_by_name(fake_settings: Settings, fake_store: ChunkStore):
    store = fake_store
    name = next(fake_settings.seeds_dir.glob("002_*.txt")).name
    assert remove_document(store, name) > 0
    assert name not in _live_by_source(store)


class FailingEmbeddings(HashingEmbeddings):
    """Fails part-way through a document, as a crash would: on its ``fail_on``-th call (a batch of chunks
    is two calls, the chunks' texts and their sentences')."""

    def __init__(self, fail_on: int) -> None:
        super().__init__()
        self.fail_on = fail_on
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls >= self.fail_on:
            raise RuntimeError("simulated crash")
        return super().embed_documents(texts)


def test_a_failure_mid_document_keeps_the_previous_version_live(fake_settings: Settings, fake_store: ChunkStore):
    store = fake_store
    before = _live_by_source(store)
    showcase = next(fake_settings.seeds_dir.glob("001_*.txt"))
    text = showcase.read_text(encoding="utf-8")
    showcase.write_text(text.replace("Key Insight", "Main Lesson"), encoding="utf-8")

    crashing = open_store(
        fake_settings.model_copy(update={"embedding_batch_size": 4}), FailingEmbeddings(5), language()
    )
    with pytest.raises(RuntimeError):
        ingest_paths(crashing, [fake_settings.seeds_dir], fake_settings, progress=False)
    assert _live_by_source(store) == before  # some new chunks are stored, none is live
    assert store.all_ids() > {chunk for chunks in before.values() for chunk in chunks}

    report = ingest_paths(store, [fake_settings.seeds_dir], fake_settings, progress=False)
    assert report.chunks_added > 0  # the chunks embedded before the crash are reused, not embedded again
    assert "Main Lesson" in " ".join(p.text for p in store.live_passages())
    assert len(store.all_ids()) == sum(len(e.chunk_ids) for e in store.manifest().values())


def test_bad_files_are_reported_and_the_rest_ingested(fake_settings: Settings, tmp_path: Path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.md").write_text("# Kinship Forum\n\nCarers in Fife asked for clearer allowance rules.\n")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 10)
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 64)
    (folder / "latin.txt").write_bytes("Réunion in Ayr about kinship care and allowances.".encode("latin-1"))
    report = ingest_paths(_open(fake_settings), [folder, tmp_path / "absent.txt"], fake_settings, progress=False)
    assert report.files == 2
    reasons = {Path(failure.path).name: failure.reason for failure in report.failures}
    assert set(reasons) == {"empty.txt", "binary.txt", "photo.jpg", "absent.txt"}
    assert not report.nothing_ingested


def test_cli_ingest_exit_status_and_messages(tmp_path: Path, clean_env, capsys):
    clean_env(store_dir=tmp_path / "cli-store", embedding_model="all-MiniLM-L6-v2")
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    assert main(["ingest", "--quiet", str(bad), str(tmp_path / "missing.md")]) == 1
    err = capsys.readouterr().err
    assert f"{bad.name}: the file is empty" in err and "missing.md: no such file or directory" in err
    assert "Traceback" not in err


def test_opening_with_another_embedding_model_is_a_clear_error(fake_settings: Settings):
    _open(fake_settings)
    other = fake_settings.model_copy(update={"embedding_model": "another-model"})
    with pytest.raises(EmbeddingModelMismatch, match="--rebuild"):
        _open(other)
    rebuilt = _open(other, rebuild=True)
    assert rebuilt.embedding_model == "another-model" and not rebuilt.manifest()


def test_every_live_chunk_has_its_sentences_and_removed_chunks_lose_theirs(
    fake_settings: Settings, fake_store: ChunkStore
):
    store = fake_store
    passages = store.live_passages()
    sentences = store.sentences([p.chunk_id for p in passages])
    assert set(sentences) == {p.chunk_id for p in passages}
    for passage in passages:
        quotes, vectors = sentences[passage.chunk_id]
        assert len(quotes) == len(vectors) >= 1
        assert all(0 <= quote.start < quote.end <= len(passage.text) for quote in quotes)
    edited = next(fake_settings.seeds_dir.glob("003_*.txt"))
    gone = {p.chunk_id for p in passages if p.metadata.source == edited.name}
    edited.unlink()
    ingest_paths(store, [fake_settings.seeds_dir], fake_settings, progress=False)
    assert not store.sentences(sorted(gone))


def test_chunks_stored_without_sentences_are_embedded_again(fake_settings: Settings):
    """A store from before sentence vectors, or an ingest killed between the two writes, heals on the next ingest."""
    embeddings = HashingEmbeddings()
    store = ingest_seeds(fake_settings, embeddings)
    victim = store.live_passages()[0].chunk_id
    store._sentences.delete(where={"chunk_id": victim})  # as if the sentence write never happened
    assert victim not in store.complete_ids()
    report = ingest_paths(_open(fake_settings, embeddings), [fake_settings.seeds_dir], fake_settings, progress=False)
    assert report.chunks_added == 1
    assert victim in store.complete_ids() and store.sentences([victim])


def test_a_store_without_sentence_vectors_still_answers_before_its_next_ingest(
    fake_settings: Settings, fake_store: ChunkStore
):
    from assistant.retrieval import HybridRetriever

    store = fake_store
    passages = store.live_passages()[:3]
    store._sentences.delete(where={"chunk_id": {"$in": [p.chunk_id for p in passages]}})
    found = HybridRetriever(store, fake_settings).sentences(passages)
    assert set(found) == {p.chunk_id for p in passages} and all(len(v) for _, v in found.values())


def test_a_collection_is_read_page_by_page_whole(tmp_path: Path):
    """One read of a large collection binds more SQL variables than SQLite allows (100,000 sentence records
    at 100× the seeds could not be read): pages of any size give every record once."""
    from assistant.store import make_client, pages

    settings = Settings(store_dir=tmp_path / "store")
    collection = make_client(settings).get_or_create_collection("paged", embedding_function=None)
    collection.add(ids=[f"r{n}" for n in range(25)], embeddings=[[float(n), 1.0] for n in range(25)])
    read = [record_id for page in pages(collection, [], size=10) for record_id in page["ids"]]
    assert sorted(read) == sorted(f"r{n}" for n in range(25)) and len(read) == 25
    assert [len(page["ids"]) for page in pages(collection, [], size=5)] == [5, 5, 5, 5, 5, 0]
