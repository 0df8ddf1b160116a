"""The document library behind the app: what the store holds, uploads and removals.

Uploads are checked (type, size, readable text) before anything is written, stored under a
sanitised name inside the upload directory only, and ingested with the same idempotent pipeline
as the command line. Writes are serialised, and the retriever is refreshed after each, so a
document is searchable as soon as its upload returns.
"""

import re
import shutil
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from confusable_homoglyphs import confusables

from assistant.errors import DocumentError
from assistant.provenance import LOCAL_USER, Upload, read_records, write_atomically, write_records
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import ChunkStore, ManifestEntry
from assistant.text import plural
from ingest.loaders import SUPPORTED_SUFFIXES, check_size
from ingest.pipeline import apply, as_uploaded, prepare_upload, remove_document

_UNSAFE = re.compile(r"[^\w.\-– ]+")
_MAX_NAME_BYTES = 120


@dataclass(frozen=True)
class UploadOutcome:
    source: str
    event: str
    chunks: int
    replaced: bool
    title: str = ""  # the document's display title
    instructions: tuple[str, ...] = ()  # its lines that talk to an AI (see ``Library.instructions``)

    def message(self) -> str:
        verb = "Updated" if self.replaced else "Added"
        added = f"{verb} {self.title or self.source} ({self.source}): {plural(self.chunks, 'passage')}, searchable now."
        return added + (f" {instructions_note(len(self.instructions))}" if self.instructions else "")


def instructions_note(lines: int) -> str:
    """What editors are told of a document's lines that talk to an AI."""
    return (
        f"It has {plural(lines, 'line')} talking to an AI assistant instead of to readers (marked in the "
        "Library); answers never quote them or send them to a model."
    )


def disk_refusal(directory: Path, incoming: int, floor: int) -> str | None:
    """Why ``incoming`` bytes may not be written under ``directory`` (it would leave less than ``floor``
    bytes free on its disk), as a phrase to say; None when they may."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free - incoming >= floor:
        return None
    return (
        f"the server's disk is nearly full ({free / 1e6:,.0f} MB free, {floor / 1e6:,.0f} MB must stay free), "
        "so nothing was written; ask whoever runs this app to make room"
    )


def safe_name(name: str) -> str:
    """A file name safe to store: no directories, no control or shell characters, a supported type,
    at most 120 bytes (file systems count bytes, and names may be written in any script)."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")
    stem, dot, suffix = cleaned.rpartition(".")
    suffix = f".{suffix.lower()}" if dot else ""
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(name, f"unsupported file type '{suffix or 'none'}' (use {', '.join(SUPPORTED_SUFFIXES)})")
    stem = re.sub(r"[\s_]*_[\s_]*", "_", stem).strip(" ._-")
    while len(stem.encode()) > _MAX_NAME_BYTES - len(suffix):
        stem = stem[:-1]
    stem = stem.rstrip(" ._-")
    if not stem:
        raise DocumentError(name, "the file name has no usable characters")
    return stem + suffix


def look_alike_key(name: str) -> str:
    """What a file name looks like in a list: the same for names that differ only in case, in compatibility
    forms (full-width letters) or in letters borrowed from another script ("Ηarbour.md" with a Greek Eta,
    Cyrillic "е" for "e"), by Unicode's confusables (the ``confusable-homoglyphs`` data)."""
    shown = []
    for character in unicodedata.normalize("NFKC", name):
        if not character.isascii():
            found = confusables.is_confusable(character, greedy=True) or []
            alike = [glyph["c"] for entry in found for glyph in entry["homoglyphs"] if glyph["c"].isascii()]
            character = alike[0] if alike else character
        shown.append(character)
    return "".join(shown).casefold()


def original_file(retriever: HybridRetriever, settings: Settings, source: str) -> Path | None:
    """The file ``source`` was read from, when the app serves it: one still there in the notes folder or the
    uploads folder (``launch``'s ``allowed_paths``); else None. The retriever's documents: no store read."""
    entry = retriever.documents.get(source)
    if entry is None:
        return None
    # Resolved as Gradio resolves it: a link in the notes folder to a file elsewhere is not served (Gradio
    # would refuse it with a message naming the file's absolute path).
    try:
        path = Path(entry.path).resolve(strict=True)
    except OSError:
        return None
    roots = (settings.seeds_dir.resolve(), settings.upload_dir.resolve())
    return path if any(path.is_relative_to(root) for root in roots) and path.is_file() else None


class Library:
    def __init__(self, store: ChunkStore, retriever: HybridRetriever, settings: Settings) -> None:
        self.store = store
        self.retriever = retriever
        self.settings = settings
        self._write_lock = threading.Lock()

    def original(self, source: str) -> Path | None:
        """See ``original_file``."""
        return original_file(self.retriever, self.settings, source)

    def documents(self) -> list[ManifestEntry]:
        return sorted(self.store.manifest().values(), key=lambda entry: (entry.date or "", entry.source))

    def events(self) -> list[str]:
        return sorted({entry.event for entry in self.documents()})

    def upload(
        self,
        name: str,
        data: bytes,
        progress: Callable[[float, str], None] | None = None,
        uploaded_by: str = LOCAL_USER,
    ) -> UploadOutcome:
        """Check, store and ingest one uploaded file; a bad file raises DocumentError and changes nothing.
        Each new passage records ``uploaded_by`` and the time; passages the previous version had keep theirs."""
        source = safe_name(name)
        check_size(source, len(data), self.settings.max_file_bytes)
        directory = self.settings.upload_dir.resolve()
        if (full := disk_refusal(directory, len(data), self.settings.min_free_disk_bytes)) is not None:
            raise DocumentError(source, full)
        target = directory / source
        if target.parent != directory:  # safe_name makes this impossible; checked because it must never happen
            raise DocumentError(name, "not a plain file name")
        if progress:
            progress(0.1, f"Reading {source}")
        document = prepare_upload(data, source, str(target), self.settings)
        upload = Upload.now(uploaded_by)
        with self._write_lock:
            manifest = self.store.manifest()
            existing = manifest.get(source)
            self._check_name_is_free(source, manifest)
            records = read_records(directory)
            earlier = records.get(source, {})
            passages = {chunk.chunk_id: earlier.get(chunk.chunk_id, upload) for chunk in document.chunks}
            document = as_uploaded(document, passages)
            previous = target.read_bytes() if target.exists() else None
            directory.mkdir(parents=True, exist_ok=True)
            write_atomically(target, data)
            if progress:
                progress(0.3, f"Embedding {len(document.chunks)} passages")
            try:
                write_records(directory, records | {source: passages})
                apply(self.store, [document], progress=False)
            except BaseException:
                # The store still serves the previous version; the folder must hold that version too.
                if previous is None:
                    target.unlink(missing_ok=True)
                else:
                    write_atomically(target, previous)
                write_records(directory, records)
                raise
            finally:
                self.retriever.refresh()
        if progress:
            progress(1.0, "Done")
        return UploadOutcome(
            source, document.event, len(document.chunks), existing is not None, document.title,
            tuple(self.instructions().get(source, ())),
        )  # fmt: skip

    def instructions(self) -> dict[str, list[str]]:
        """Each document's lines that talk to an AI (found at ingest: ``ingest.instructions``), in order, each
        once, by file name; documents with none are left out."""
        found: dict[str, dict[str, None]] = {}
        for passage in self.retriever.passages:
            for line in passage.instruction_lines:
                found.setdefault(passage.metadata.source, {})[line] = None
        return {source: list(lines) for source, lines in found.items()}

    def _check_name_is_free(self, source: str, manifest: dict[str, ManifestEntry]) -> None:
        """An upload may replace an upload of exactly its name, nothing else: not a notes-folder document,
        and not a document whose name only looks the same in every list (``look_alike_key``)."""
        key = look_alike_key(source)
        for name, entry in manifest.items():
            if look_alike_key(name) != key:
                continue
            if not self.is_upload(entry):
                raise DocumentError(
                    source, "a document of this name is already in the library from the notes folder; rename the file"
                )
            if name != source:
                raise DocumentError(source, f"the library already has {name}; use that exact name to replace it")

    def remove(self, source: str) -> int:
        """Remove a document from the store, and its file and upload record when it was uploaded here."""
        with self._write_lock:
            entry = self.store.manifest().get(source)
            try:
                removed = remove_document(self.store, source)
            finally:
                self.retriever.refresh()
            if entry is not None and self.is_upload(entry):
                Path(entry.path).unlink(missing_ok=True)
                records = read_records(self.settings.upload_dir)
                if records.pop(source, None) is not None:
                    write_records(self.settings.upload_dir, records)
        return removed

    def is_upload(self, entry: ManifestEntry) -> bool:
        return Path(entry.path).parent == self.settings.upload_dir.resolve()

    def last_upload(self, entry: ManifestEntry) -> Upload | None:
        """The latest upload among the document's passages; None for a notes-folder document or no record."""
        if not self.is_upload(entry):
            return None
        uploads = read_records(self.settings.upload_dir).get(entry.source, {}).values()
        return max(uploads, key=lambda upload: upload.at, default=None)
