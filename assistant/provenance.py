"""Who uploaded each passage of the documents in the uploads folder, and when.

The store's chunk metadata carries it, so every citation can show it; this record beside the files
keeps it for the passages' next ingest (after ``ingest --rebuild``, or an upload the app was killed in
the middle of). A passage keeps the name of whoever first uploaded its text: replacing a document
with a version that changes one paragraph names the new uploader on that paragraph only.
"""

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import StoreError

# Hidden, so ingest (which skips dot files) never takes it for a document.
RECORD_NAME = ".uploaders.json"
# A passage found in the uploads folder with no record (the file was put there by hand).
UNKNOWN_UPLOADER = "unknown"
# Who uploads when the app runs on loopback without sign-in (not a possible user name: it has a space).
LOCAL_USER = "local user"


@dataclass(frozen=True)
class Upload:
    by: str
    at: str  # ISO 8601, UTC

    @classmethod
    def now(cls, by: str) -> "Upload":
        return cls(by, datetime.now(UTC).isoformat(timespec="seconds"))

    @classmethod
    def unrecorded(cls, path: Path) -> "Upload":
        return cls(UNKNOWN_UPLOADER, datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds"))


# For each uploaded document, each of its passages (by chunk id) and who uploaded it.
Records = dict[str, dict[str, Upload]]


def read_records(upload_dir: Path) -> Records:
    try:
        raw = json.loads((upload_dir / RECORD_NAME).read_text(encoding="utf-8"))
        return {
            source: {chunk_id: Upload(str(upload["by"]), str(upload["at"])) for chunk_id, upload in passages.items()}
            for source, passages in raw.items()
        }
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        # None yet, or damaged: that loses names, never documents (the passages show an unknown uploader).
        return {}


def write_records(upload_dir: Path, records: Records) -> None:
    """Replace the record in one rename, so a crash leaves the previous or the new one; none, no file."""
    payload = {
        source: {chunk_id: {"by": upload.by, "at": upload.at} for chunk_id, upload in passages.items()}
        for source, passages in sorted(records.items())
    }
    try:
        if payload:
            write_atomically(upload_dir / RECORD_NAME, json.dumps(payload, ensure_ascii=False, indent=1).encode())
        else:
            (upload_dir / RECORD_NAME).unlink(missing_ok=True)
    except OSError as error:
        raise StoreError(f"Cannot record who uploaded what in {upload_dir} ({error.strerror}).") from None


def write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside ``target``, then rename: a crash never leaves half a file. The
    temporary file's name starts with a dot, so ingest never takes it for a document, and mkstemp makes
    the file readable by its owner only (an upload, this record, or the users' password hashes)."""
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name.lstrip('.')}-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
