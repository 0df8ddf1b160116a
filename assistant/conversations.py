"""Saved conversations, per user, in one SQLite file (feedback shares it: assistant.feedback).

Gradio runs handlers in worker threads: every call opens its own connection and each write is one
``BEGIN IMMEDIATE`` transaction, so a process killed mid-write loses that write only; WAL lets readers go
on while a writer commits. Every call names its user: another user's conversation is simply not found."""

import builtins
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from assistant.errors import QueryError, StoreError
from assistant.provenance import LOCAL_USER

__all__ = ["LOCAL_USER", "Conversation", "ConversationNotFound", "ConversationStore", "ConversationSummary", "Message"]

Role = Literal["user", "assistant"]
TITLE_CHARS = 80
BUSY_TIMEOUT_S = 10.0  # a writer waits this long for another's transaction (each takes milliseconds)
SCHEMA_VERSION = 1  # PRAGMA user_version; MIGRATIONS[n] takes a file from n - 1 to n (add steps, never edit one)
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE IF NOT EXISTS conversations (
            id TEXT PRIMARY KEY,
            user TEXT NOT NULL,
            title TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            activity INTEGER NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS conversations_by_user ON conversations (user, activity DESC)",
        "CREATE INDEX IF NOT EXISTS conversations_by_activity ON conversations (activity)",  # MAX(activity)
        """CREATE TABLE IF NOT EXISTS messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            content TEXT NOT NULL,
            citations_json TEXT,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, id)",
        """CREATE TABLE IF NOT EXISTS feedback (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user TEXT NOT NULL,
            rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
            question TEXT NOT NULL,
            standalone_question TEXT,
            history_json TEXT NOT NULL,
            answer_text TEXT NOT NULL,
            citations_json TEXT NOT NULL,
            generator TEXT NOT NULL,
            comment TEXT,
            created_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS feedback_by_user ON feedback (user, id)",
    ),
}


class ConversationNotFound(QueryError):
    """No conversation with this id belongs to this user (another user's counts as none)."""


@dataclass(frozen=True)
class Conversation:
    id: str
    user: str
    title: str
    created_at: str  # ISO 8601, UTC
    updated_at: str  # the last message (or the creation)


@dataclass(frozen=True)
class ConversationSummary:  # one line of the list of past chats
    id: str
    title: str
    updated_at: str
    message_count: int


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: str
    role: Role
    content: str
    citations_json: str | None  # what the UI needs to redraw the answer's source cards, as it gave it
    created_at: str


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_title(question: str) -> str:
    """The question on one line, cut at a word boundary to at most TITLE_CHARS characters (with an ellipsis)."""
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text
    cut = text[: TITLE_CHARS - 1]
    space = cut.rfind(" ")
    if space >= TITLE_CHARS // 2:  # one very long word: cut inside it rather than keep only a few words
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—") + "…"


def _check_user(user: str) -> str:
    if not user or not user.strip():
        raise ValueError("every conversation read or write names its user")
    return user


@contextmanager
def connect(path: Path, write: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection for one call; with ``write``, one transaction taken at once (BEGIN IMMEDIATE), committed
    at the end and rolled back on any error. SQLite's own errors become a StoreError naming the file."""
    try:
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as error:
        raise StoreError(f"Cannot open the conversations database {path} ({error}).") from None
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = FULL")  # a commit survives a power cut, not only a kill
        if write:
            connection.execute("BEGIN IMMEDIATE")
        yield connection
        if write:
            connection.execute("COMMIT")
    except sqlite3.Error as error:
        raise StoreError(f"Cannot use the conversations database {path} ({error}).") from None
    finally:
        if connection.in_transaction:  # an error (or an exception from the caller) before the commit
            connection.execute("ROLLBACK")
        connection.close()


def open_database(path: Path) -> Path:
    """Create the file (and its folder) or bring its schema up to date; refuse one from a newer version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")  # kept in the file: set once, for every connection
    with connect(path, write=True) as connection:
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The conversations database {path} was written by a newer Promise Assistant "
                f"(schema {version}, this one reads {SCHEMA_VERSION}); upgrade the app."
            )
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return path


class ConversationStore:
    def __init__(self, path: Path) -> None:
        self.path = open_database(Path(path))

    def create(self, user: str, first_question: str, with_question: bool = False) -> Conversation:
        """A new conversation titled by its first question; ``with_question`` stores the question as its first
        message in the same transaction (so a crash never leaves a titled chat without it), else the caller
        appends it."""
        title = make_title(first_question)
        if not title:
            raise QueryError("A conversation starts with a question; this one is empty.")
        stamp = now()
        conversation = Conversation(uuid.uuid4().hex, _check_user(user), title, stamp, stamp)
        with connect(self.path, write=True) as connection:
            connection.execute(
                "INSERT INTO conversations (id, user, title, created_at, updated_at, activity) "
                "VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(activity), 0) + 1 FROM conversations))",
                (conversation.id, user, title, stamp, stamp),
            )
            if with_question:
                connection.execute(
                    "INSERT INTO messages (conversation_id, role, content, citations_json, created_at) "
                    "VALUES (?, 'user', ?, NULL, ?)",
                    (conversation.id, first_question, stamp),
                )
        return conversation

    def append(
        self, conversation_id: str, user: str, role: Role, content: str, citations_json: str | None = None
    ) -> Message:
        """One message, committed on return; the conversation moves to the top of its user's list."""
        if role not in ("user", "assistant"):
            raise ValueError(f"a message is from the user or the assistant, not {role!r}")
        stamp = now()
        with connect(self.path, write=True) as connection:
            self._require(connection, conversation_id, user)
            cursor = connection.execute(
                "INSERT INTO messages (conversation_id, role, content, citations_json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (conversation_id, role, content, citations_json, stamp),
            )
            connection.execute(
                "UPDATE conversations SET updated_at = ?, activity = (SELECT MAX(activity) + 1 FROM conversations) "
                "WHERE id = ?",
                (stamp, conversation_id),
            )
        return Message(int(cursor.lastrowid or 0), conversation_id, role, content, citations_json, stamp)

    def get(self, conversation_id: str, user: str) -> Conversation:
        with connect(self.path) as connection:
            row = self._require(connection, conversation_id, user)
        return Conversation(conversation_id, user, row[0], row[1], row[2])

    def list(self, user: str, limit: int | None = None) -> "builtins.list[ConversationSummary]":
        """The user's conversations, the most recently active first."""
        with connect(self.path) as connection:
            rows = connection.execute(
                "SELECT c.id, c.title, c.updated_at, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) "
                "FROM conversations c WHERE c.user = ? ORDER BY c.activity DESC LIMIT ?",
                (_check_user(user), -1 if limit is None else limit),
            ).fetchall()
        return [ConversationSummary(*row) for row in rows]

    def messages(self, conversation_id: str, user: str) -> "builtins.list[Message]":
        """The conversation's messages in the order they were written."""
        with connect(self.path) as connection:
            self._require(connection, conversation_id, user)
            rows = connection.execute(
                "SELECT id, conversation_id, role, content, citations_json, created_at FROM messages "
                "WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        return [Message(*row) for row in rows]

    def drop_last_turn(self, conversation_id: str, user: str) -> str | None:
        """Remove the last question and whatever followed it (its answer), in one transaction, for a retry or
        an edit; returns that question, or None when there is none. The title stays as it was."""
        with connect(self.path, write=True) as connection:
            self._require(connection, conversation_id, user)
            row = connection.execute(
                "SELECT id, content FROM messages WHERE conversation_id = ? AND role = 'user' ORDER BY id DESC LIMIT 1",
                (conversation_id,),
            ).fetchone()
            if row is None:
                return None
            connection.execute("DELETE FROM messages WHERE conversation_id = ? AND id >= ?", (conversation_id, row[0]))
        return str(row[1])

    def rename(self, conversation_id: str, user: str, title: str) -> Conversation:
        """A new title (on one line, at most TITLE_CHARS); renaming does not move it up the list."""
        clean = make_title(title)
        if not clean:
            raise QueryError("A conversation's title cannot be empty.")
        with connect(self.path, write=True) as connection:
            self._require(connection, conversation_id, user)
            connection.execute("UPDATE conversations SET title = ? WHERE id = ?", (clean, conversation_id))
        return self.get(conversation_id, user)

    def delete(self, conversation_id: str, user: str) -> None:
        """The conversation and its messages, in one transaction."""
        with connect(self.path, write=True) as connection:
            self._require(connection, conversation_id, user)
            connection.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    @staticmethod
    def _require(connection: sqlite3.Connection, conversation_id: str, user: str) -> tuple[str, str, str]:
        """The conversation's title and times, if it is this user's; else ConversationNotFound."""
        row = connection.execute(
            "SELECT title, created_at, updated_at FROM conversations WHERE id = ? AND user = ?",
            (conversation_id, _check_user(user)),
        ).fetchone()
        if row is None:
            raise ConversationNotFound("That conversation was not found; it may have been deleted.")
        return row[0], row[1], row[2]
