"""Idempotent ingest: only new chunks are embedded; changed and removed documents are replaced atomically."""

import hashlib
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from assistant.errors import DocumentError
from assistant.models import document_title
from assistant.provenance import Upload, read_records
from assistant.settings import Settings
from assistant.store import ChunkStore, ManifestEntry
from ingest.chunking import Chunk, chunk_document
from ingest.instructions import InstructionFinder, instruction_finder
from ingest.loaders import LoadedText, document_from_bytes, load_document
from ingest.structure import analyse


@dataclass(frozen=True)
class PreparedDocument:
    source: str
    path: str
    doc_hash: str
    event: str
    date: str | None
    chunks: list[Chunk]

    @property
    def title(self) -> str:
        return document_title(self.event, self.date, self.source)


@dataclass
class IngestReport:
    files: int = 0
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    documents_removed: list[str] = field(default_factory=list)
    failures: list[DocumentError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def nothing_ingested(self) -> bool:
        """True when files were offered and every one of them failed."""
        return self.files == 0 and bool(self.failures)

    def summary(self) -> str:
        failed = f", {len(self.failures)} failed" if self.failures else ""
        removed_docs = f", {len(self.documents_removed)} removed" if self.documents_removed else ""
        return (
            f"{_counted(self.files, 'file')}{failed}{removed_docs}: {_counted(self.chunks_added, 'chunk')} added, "
            f"{self.chunks_removed} removed, {self.chunks_unchanged} unchanged in {self.seconds:.1f} s"
        )


def _counted(number: int, noun: str) -> str:
    """ "1 file", "5 files"."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def prepare_text(
    text: str | LoadedText, source: str, path: str, max_words: int, finder: InstructionFinder | None = None
) -> PreparedDocument:
    """The document's chunks, each recording the lines that talk to an AI (found by ``finder``; by default
    over the language model Settings names by default)."""
    loaded = text if isinstance(text, LoadedText) else LoadedText(text)
    structure = analyse(loaded.text, fallback_title=Path(source).stem)
    doc_hash = hashlib.sha256(loaded.text.encode()).hexdigest()
    finder = finder or instruction_finder(Settings.model_fields["language_model"].default)
    chunks = chunk_document(structure, source, doc_hash, max_words, finder.spans(loaded.text))
    if not chunks:
        raise DocumentError(path, "no passages of text could be taken from it")
    if loaded.page_starts:  # a PDF: each passage records the pages it starts and ends on
        chunks = [
            replace(chunk, metadata=replace(
                chunk.metadata,
                page=loaded.page_at(chunk.metadata.start),
                last_page=loaded.page_at(max(chunk.metadata.end - 1, chunk.metadata.start)),
            ))
            for chunk in chunks
        ]  # fmt: skip
    return PreparedDocument(source, path, doc_hash, structure.event, structure.date, chunks)


def prepare_file(path: Path, settings: Settings) -> PreparedDocument:
    loaded = load_document(path, settings.max_file_bytes)
    finder = instruction_finder(settings.language_model)
    document = prepare_text(loaded, path.name, str(path.resolve()), settings.chunk_max_words, finder)
    if path.resolve().parent != settings.upload_dir.resolve():
        return document
    # An upload read back (by --rebuild, or after the app was killed mid-upload) keeps who added each passage.
    recorded = read_records(settings.upload_dir).get(path.name, {})
    unrecorded = Upload.unrecorded(path)
    uploads = {chunk.chunk_id: recorded.get(chunk.chunk_id, unrecorded) for chunk in document.chunks}
    return as_uploaded(document, uploads)


def as_uploaded(document: PreparedDocument, uploads: dict[str, Upload]) -> PreparedDocument:
    """The document with each passage recording who uploaded it and when (``uploads`` by chunk id)."""
    chunks = []
    for chunk in document.chunks:
        upload = uploads[chunk.chunk_id]
        chunks.append(replace(chunk, metadata=replace(chunk.metadata, uploaded_by=upload.by, uploaded_at=upload.at)))
    return replace(document, chunks=chunks)


def prepare_upload(data: bytes, name: str, stored_path: str, settings: Settings) -> PreparedDocument:
    loaded = document_from_bytes(data, Path(name).suffix, name)
    finder = instruction_finder(settings.language_model)
    return prepare_text(loaded, name, stored_path, settings.chunk_max_words, finder)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[DocumentError]]:
    """Files to ingest, directories given (for pruning removed files), and paths that do not exist."""
    files: list[Path] = []
    directories: list[Path] = []
    missing: list[DocumentError] = []
    for path in paths:
        if path.is_dir():
            directories.append(path.resolve())
            files.extend(
                sorted(
                    child
                    for child in path.rglob("*")
                    if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts)
                )
            )
        elif path.exists():
            files.append(path)
        else:
            missing.append(DocumentError(str(path), "no such file or directory"))
    return files, directories, missing


def ingest_paths(store: ChunkStore, paths: Iterable[Path], settings: Settings, progress: bool = True) -> IngestReport:
    started = time.perf_counter()
    files, directories, failures = discover(paths)
    prepared: list[PreparedDocument] = []
    for path in files:
        try:
            prepared.append(prepare_file(path, settings))
        except DocumentError as error:
            failures.append(error)
    report = apply(store, prepared, directories, progress)
    report.failures = failures + report.failures
    report.seconds = time.perf_counter() - started
    return report


def apply(
    store: ChunkStore,
    documents: list[PreparedDocument],
    prune_under: Iterable[Path] = (),
    progress: bool = True,
) -> IngestReport:
    """Bring the store in line with ``documents``; drop documents that vanished from ``prune_under``."""
    report = IngestReport(files=len(documents))
    manifest = store.manifest()
    stored = store.complete_ids()
    fresh = [[chunk for chunk in document.chunks if chunk.chunk_id not in stored] for document in documents]
    to_embed = sum(len(chunks) for chunks in fresh)
    if to_embed and progress:
        embedding = f"{_counted(to_embed, 'new chunk')} from {_counted(sum(1 for c in fresh if c), 'document')}"
        print(f"Embedding {embedding}…", file=sys.stderr)
    _refresh_metadata(store, [chunk for document in documents for chunk in document.chunks if chunk.chunk_id in stored])
    with tqdm(total=to_embed, unit="chunk", disable=not progress or to_embed == 0, file=sys.stderr) as bar:
        for document, new_chunks in zip(documents, fresh, strict=True):
            previous = manifest.get(document.source)
            ids = tuple(chunk.chunk_id for chunk in document.chunks)
            report.chunks_unchanged += len(ids) - len(new_chunks)
            report.chunks_added += len(new_chunks)
            if (
                not new_chunks
                and previous
                and (previous.chunk_ids, previous.path, previous.title) == (ids, document.path, document.title)
            ):
                continue
            store.add(
                [chunk.chunk_id for chunk in new_chunks],
                [chunk.text for chunk in new_chunks],
                [chunk.metadata for chunk in new_chunks],
                on_batch=bar.update,
            )
            entry = ManifestEntry(
                source=document.source,
                path=document.path,
                doc_hash=document.doc_hash,
                chunk_ids=ids,
                event=document.event,
                date=document.date,
                ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
                title=document.title,
            )
            store.commit(entry)
            manifest[document.source] = entry
            if previous:
                stale = set(previous.chunk_ids) - set(ids)
                store.delete(stale)
                report.chunks_removed += len(stale)
    offered = {document.source for document in documents}
    for directory in prune_under:
        for source, entry in list(manifest.items()):
            if source not in offered and Path(entry.path).is_relative_to(directory) and not Path(entry.path).exists():
                report.chunks_removed += remove_document(store, source, manifest)
                report.documents_removed.append(source)
    live = {chunk_id for entry in manifest.values() for chunk_id in entry.chunk_ids}
    # Chunks no manifest lists: left by a crash, or by the replacements above.
    current = store.all_ids() if report.chunks_added or report.chunks_removed else stored
    store.delete(current - live)
    if report.chunks_added or report.chunks_removed:
        store.delete_orphan_sentences()
    return report


def _refresh_metadata(store: ChunkStore, unchanged: list[Chunk]) -> None:
    """Stored chunks whose text is unchanged but which lack a field ingest now records (a PDF's pages): the
    field is added, without embedding them again. Fields already stored are kept as they are (an uploader's
    name, say, which a lost upload record could no longer give)."""
    if not unchanged:
        return
    stored = store.stored_metadata([chunk.chunk_id for chunk in unchanged])
    ids, metadatas = [], []
    for chunk in unchanged:
        before = stored.get(chunk.chunk_id, {})
        missing = {key: value for key, value in chunk.metadata.to_store().items() if key not in before}
        if missing:
            ids.append(chunk.chunk_id)
            metadatas.append(before | missing)
    if ids:
        store.update_metadata(ids, metadatas)


def remove_document(store: ChunkStore, source: str, manifest: dict[str, ManifestEntry] | None = None) -> int:
    """Remove a document: forget it first (so readers stop seeing it), then delete its chunks."""
    entries = manifest if manifest is not None else store.manifest()
    entry = entries.pop(source, None)
    if entry is None:
        raise DocumentError(source, "no such document in the store")
    store.forget(source)
    store.delete(entry.chunk_ids)
    return len(entry.chunk_ids)
