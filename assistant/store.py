"""The Chroma store of chunks, with a manifest that says which chunks are live.

Crash safety: a document's new chunks are written first, then its manifest record is replaced in
one upsert, then its old chunks are deleted. Readers only see chunks the manifest lists, so until
that single write a query sees the previous version in full, and after it the new one in full.
Chunks no manifest lists (left by a crash) are removed by the next ingest.

Each chunk's quotable sentences and their vectors sit in a third collection, written before the
chunk itself: a stored chunk always has its sentences, so an interrupted write is simply redone.
"""

import contextlib
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.embeddings import embed_with_spans
from assistant.errors import EmbeddingModelMismatch, PromiseError, StoreError
from assistant.models import ChunkMetadata, Passage, document_title
from assistant.sentences import QUOTES_VERSION, EntityTagger, Mention, Quote, quotes_of
from assistant.settings import Settings

_MANIFEST_SUFFIX = "-manifest"
_SENTENCES_SUFFIX = "-sentences"
_DATABASE = "chroma.sqlite3"
_SEGMENT_DIR = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_MODEL_KEY = "embedding_model"
# Chroma refuses records without a vector; manifest records are looked up by id, never by similarity.
_PLACEHOLDER_VECTOR = [1.0]
# Ids per read or delete: SQLite limits the variables one statement may bind.
_ID_BATCH = 5000


@dataclass(frozen=True)
class ManifestEntry:
    source: str
    path: str
    doc_hash: str
    chunk_ids: tuple[str, ...]
    event: str
    date: str | None
    ingested_at: str
    # The display title, written at ingest. A record from before titles existed has none stored: it gets
    # the same title computed when read (it follows from the event, date and file name), so old stores read
    # unchanged, and the next ingest writes it only when the document changes for another reason.
    title: str = ""

    def __post_init__(self) -> None:
        if not self.title:
            object.__setattr__(self, "title", document_title(self.event, self.date, self.source))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "ManifestEntry":
        values = json.loads(text)
        values["chunk_ids"] = tuple(values["chunk_ids"])
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        return cls(**known)


def make_client(settings: Settings | None) -> Any:
    """The one place a Chroma client is made, telemetry off: an HTTP client when a Chroma server is configured,
    else an embedded persistent one in the store directory; without settings, an in-memory one for a throwaway
    collection (the evaluation's textbook baseline)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings is None:
        return chromadb.EphemeralClient(settings=chroma_settings)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        settings.store_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(settings.store_dir, os.W_OK):
            raise StoreError(f"The store directory {settings.store_dir} is not writable.")
        database = settings.store_dir / _DATABASE
        if database.exists() and not _is_chroma_database(database):
            raise StoreError(
                f"{database} is not a readable Chroma store (damaged, or another program's database); "
                "run 'promise-assistant ingest --rebuild' to replace it."
            )
        return chromadb.PersistentClient(path=str(settings.store_dir), settings=chroma_settings)
    except StoreError:
        raise
    except Exception as error:
        where = (
            f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
            if settings.chroma_host
            else f"the store at {settings.store_dir}"
        )
        raise StoreError(
            f"Cannot open {where} ({_first_line(error)}); if it is damaged, run 'promise-assistant ingest --rebuild'."
        ) from None


def _is_chroma_database(database: Path) -> bool:
    """A SQLite file holding Chroma's tables; checked read-only, so a foreign file is never altered."""
    try:
        with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as connection:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error:
        return False
    return {"collections", "segments", "embeddings"} <= tables


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


@contextlib.contextmanager
def _store_errors(action: str) -> Iterator[None]:
    """Chroma's and SQLite's exceptions (a full disk, a damaged file) as one sentence for the user."""
    try:
        yield
    except PromiseError:
        raise
    except Exception as error:
        raise StoreError(
            f"Cannot {action} the store ({_first_line(error)}); nothing was changed by the failed step. "
            "If the store is damaged, run 'promise-assistant ingest --rebuild'."
        ) from None


def chunk_quotes(text: str, metadata: ChunkMetadata) -> list[Quote]:
    """A chunk's quotable sentences; its whole body when it has none (a chunk always has one)."""
    quotes = quotes_of(text, metadata.context)
    if quotes:
        return quotes
    start = len(metadata.context) + 1 if text.startswith(metadata.context + "\n") else 0
    return [Quote(text[start:].strip() or text, start, len(text))]


# A chunk's sentences as the answer layer reads them: the quotes, and their vectors as matrix rows.
ChunkSentences = tuple[list[Quote], np.ndarray]


class ChunkStore:
    """Chunks with their embeddings in one Chroma collection, the manifest in another, sentences in a third."""

    def __init__(self, client: Any, settings: Settings, embeddings: Embeddings, tagger: EntityTagger) -> None:
        self._client = client
        self.tagger = tagger
        self.embedding_model = settings.embedding_model
        self.batch_size = settings.embedding_batch_size
        self.embeddings = embeddings
        self._name = settings.collection
        try:
            collection = client.get_or_create_collection(
                self._name,
                metadata={_MODEL_KEY: self.embedding_model},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
            self._manifest = client.get_or_create_collection(self._name + _MANIFEST_SUFFIX, embedding_function=None)
            self._sentences = client.get_or_create_collection(
                self._name + _SENTENCES_SUFFIX,
                metadata={_MODEL_KEY: self.embedding_model},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
        except Exception as error:
            raise StoreError(
                f"Cannot open the collection '{self._name}' ({_first_line(error)}); "
                "run 'promise-assistant ingest --rebuild' to recreate it."
            ) from None
        recorded = (collection.metadata or {}).get(_MODEL_KEY)
        if recorded != self.embedding_model:
            raise EmbeddingModelMismatch(
                f"The store was built with the embedding model '{recorded}', not '{self.embedding_model}'; "
                "re-ingest with 'promise-assistant ingest --rebuild' to rebuild it with the new model."
            )
        self._collection = collection

    # --- manifest ---------------------------------------------------------------------------

    def manifest(self) -> dict[str, ManifestEntry]:
        with _store_errors("read"):
            records = self._manifest.get(include=["documents"])
        return {
            record_id: ManifestEntry.from_json(document)
            for record_id, document in zip(records["ids"], records["documents"] or [], strict=True)
        }

    def commit(self, entry: ManifestEntry) -> None:
        """Make ``entry``'s chunks the live version of its document, in one atomic write."""
        with _store_errors("write to"):
            self._manifest.upsert(ids=[entry.source], embeddings=[_PLACEHOLDER_VECTOR], documents=[entry.to_json()])

    def forget(self, source: str) -> None:
        with _store_errors("write to"):
            self._manifest.delete(ids=[source])

    # --- chunks -----------------------------------------------------------------------------

    def all_ids(self) -> set[str]:
        return {record_id for page in pages(self._collection, []) for record_id in page["ids"]}

    def complete_ids(self) -> set[str]:
        """Chunks stored with their sentences (a chunk stored before sentence vectors existed is not)."""
        return self.all_ids() & self._chunks_with_sentences(current_only=True)

    def _chunks_with_sentences(self, current_only: bool = False) -> set[str]:
        """Chunks with sentence records (``current_only``: cut by this version of the sentence rules)."""
        return {
            str(meta["chunk_id"])
            for page in pages(self._sentences, ["metadatas"])
            for meta in page["metadatas"] or []
            if not current_only or meta.get("version") == QUOTES_VERSION
        }

    def add(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        metadatas: Sequence[ChunkMetadata],
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        for first in range(0, len(ids), self.batch_size):
            last = first + self.batch_size
            batch = list(texts[first:last])
            quotes = [chunk_quotes(text, meta) for text, meta in zip(batch, metadatas[first:last], strict=True)]
            # One forward pass gives the chunk's vector and its sentences'; an embedder's failure is its own.
            vectors, sentence_vectors = embed_with_spans(
                self.embeddings, batch, [[(quote.start, quote.end) for quote in row] for row in quotes]
            )
            found = iter(self.tagger.mentions([quote.text for row in quotes for quote in row]))
            sentence_ids, sentence_texts, sentence_meta, sentence_rows = [], [], [], []
            for chunk_id, row, row_vectors in zip(ids[first:last], quotes, sentence_vectors, strict=True):
                for number, (quote, vector) in enumerate(zip(row, row_vectors, strict=True)):
                    mentions = next(found)
                    sentence_ids.append(f"{chunk_id}:{number}")
                    sentence_texts.append(quote.text)
                    sentence_meta.append(
                        {
                            "chunk_id": chunk_id,
                            "index": number,
                            "start": quote.start,
                            "end": quote.end,
                            "mentions": json.dumps([[m.label, m.start, m.end] for m in mentions]),
                            "version": QUOTES_VERSION,
                        }
                    )
                    sentence_rows.append(vector)
            with _store_errors("write to"):
                # Sentences first: the chunk record is what marks the pair complete. Sentences an older
                # version of the rules cut for these chunks go first, so none is left over.
                self._sentences.delete(where={"chunk_id": {"$in": list(ids[first:last])}})
                self._sentences.upsert(
                    ids=sentence_ids, embeddings=sentence_rows, documents=sentence_texts, metadatas=sentence_meta
                )
                self._collection.upsert(
                    ids=list(ids[first:last]),
                    embeddings=vectors,
                    documents=batch,
                    metadatas=[meta.to_store() for meta in metadatas[first:last]],
                )
            if on_batch:
                on_batch(len(ids[first:last]))

    def delete(self, ids: Iterable[str]) -> None:
        batch = list(ids)
        for first in range(0, len(batch), _ID_BATCH):
            part = batch[first : first + _ID_BATCH]
            with _store_errors("write to"):
                self._collection.delete(ids=part)
                self._sentences.delete(where={"chunk_id": {"$in": part}})

    def stored_metadata(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The Chroma metadata of these chunks as stored (chunks not stored are left out)."""
        found: dict[str, dict[str, Any]] = {}
        for first in range(0, len(ids), _ID_BATCH):
            with _store_errors("read"):
                records = self._collection.get(ids=list(ids[first : first + _ID_BATCH]), include=["metadatas"])
            found |= {
                record_id: dict(meta)
                for record_id, meta in zip(records["ids"], records["metadatas"] or [], strict=True)
            }
        return found

    def update_metadata(self, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]) -> None:
        """Replace stored chunks' Chroma metadata (to add a page, say) without embedding them again."""
        for first in range(0, len(ids), self.batch_size):
            with _store_errors("write to"):
                self._collection.update(
                    ids=list(ids[first : first + self.batch_size]),
                    metadatas=list(metadatas[first : first + self.batch_size]),
                )

    def delete_orphan_sentences(self) -> None:
        """Sentences whose chunk was never written (an ingest interrupted between the two writes)."""
        orphans = self._chunks_with_sentences() - self.all_ids()
        if orphans:
            self.delete(orphans)

    def sentences(self, chunk_ids: Sequence[str]) -> dict[str, ChunkSentences]:
        """The stored sentences of these chunks, in passage order, with their vectors."""
        if not chunk_ids:
            return {}
        with _store_errors("read"):
            records = self._sentences.get(
                where={"chunk_id": {"$in": list(chunk_ids)}}, include=["documents", "metadatas", "embeddings"]
            )
        rows: dict[str, list[tuple[int, Quote, Any]]] = {}
        for document, meta, vector in zip(
            records["documents"] or [], records["metadatas"] or [], records["embeddings"], strict=True
        ):
            mentions = tuple(Mention(str(label), int(start), int(end)) for label, start, end in _mentions(meta))
            quote = Quote(document, int(meta["start"]), int(meta["end"]), mentions)
            rows.setdefault(str(meta["chunk_id"]), []).append((int(meta["index"]), quote, vector))
        found: dict[str, ChunkSentences] = {}
        for chunk_id, row in rows.items():
            row.sort(key=lambda item: item[0])
            found[chunk_id] = (
                [quote for _, quote, _ in row],
                np.array([vector for _, _, vector in row], dtype=np.float32),
            )
        return found

    def live_passages(self, manifest: dict[str, ManifestEntry] | None = None) -> list[Passage]:
        """The chunks ``manifest`` (by default the store's own, read now) lists as live."""
        return [passage for passage, _ in self._live(manifest, with_vectors=False)]

    def live_chunks(self, manifest: dict[str, ManifestEntry] | None = None) -> tuple[list[Passage], np.ndarray]:
        """The live chunks (as ``live_passages``) and their embeddings, scaled to unit length, one matrix row
        each in the same order: read in the same pages, so a chunk never comes without its vector."""
        pairs = list(self._live(manifest, with_vectors=True))
        vectors = [vector / (np.linalg.norm(vector) or 1.0) for _, vector in pairs]
        return [passage for passage, _ in pairs], np.array(vectors, dtype=np.float32)

    def _live(
        self, manifest: dict[str, ManifestEntry] | None, with_vectors: bool
    ) -> Iterator[tuple[Passage, np.ndarray]]:
        manifest = self.manifest() if manifest is None else manifest
        live = {chunk_id for entry in manifest.values() for chunk_id in entry.chunk_ids}
        include = ["documents", "metadatas", *(["embeddings"] if with_vectors else [])]
        for page in pages(self._collection, include):
            vectors = page["embeddings"] if with_vectors and len(page["ids"]) else [None] * len(page["ids"])
            for record_id, document, meta, vector in zip(
                page["ids"], page["documents"] or [], page["metadatas"] or [], vectors, strict=True
            ):
                if record_id in live:
                    passage = Passage(chunk_id=record_id, text=document, metadata=ChunkMetadata.from_store(dict(meta)))
                    yield passage, np.asarray(vector if vector is not None else (), dtype=np.float32)


def pages(collection: Any, include: list[str], size: int = _ID_BATCH) -> Iterator[Any]:
    """Every record of a collection, ``size`` at a time: one read of a large collection binds more SQL
    variables than SQLite allows (the sentence records of 100× the seeds, about 100,000, could not be read)."""
    offset = 0
    while True:
        with _store_errors("read"):
            page = collection.get(include=include, limit=size, offset=offset)
        yield page
        if len(page["ids"]) < size:
            return
        offset += size


def _mentions(meta: Any) -> list[Any]:
    """A sentence record's entities; none for a record written before they were stored (its chunk counts as
    incomplete, ``complete_ids``, so the next ingest writes it again)."""
    return list(json.loads(meta["mentions"])) if meta.get("mentions") else []


def open_store(settings: Settings, embeddings: Embeddings, tagger: EntityTagger, rebuild: bool = False) -> ChunkStore:
    try:
        client = make_client(settings)
    except StoreError:
        if not rebuild or settings.chroma_host:
            raise
        # A store Chroma cannot even open (a damaged or foreign database): start a new one. Uploaded
        # documents are kept; the rebuild's ingest reads them back in.
        _clear_store_dir(settings)
        client = make_client(settings)
    if rebuild:
        for name in (
            settings.collection,
            settings.collection + _MANIFEST_SUFFIX,
            settings.collection + _SENTENCES_SUFFIX,
        ):
            with contextlib.suppress(Exception):
                client.delete_collection(name)
    return ChunkStore(client, settings, embeddings, tagger)


def _clear_store_dir(settings: Settings) -> None:
    """Delete Chroma's own files only (its database and its segment folders), whatever else is there."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # Chroma keeps one client per path per process
    for child in settings.store_dir.iterdir():
        if child.name.startswith(_DATABASE) and child.is_file():
            child.unlink()
        elif child.is_dir() and not child.is_symlink() and _SEGMENT_DIR.fullmatch(child.name):
            shutil.rmtree(child)
