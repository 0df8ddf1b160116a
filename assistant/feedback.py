"""Thumbs up or down on answers, and their exports: a CSV for people, evaluation cases for the tests.

Feedback lives in the conversations database (its own table, same schema version, same file to back up):
one place holds what users wrote, and a rating is kept when its conversation is deleted, because the
question and answer it judged are copied into it. ``promise-assistant feedback`` runs
``run_feedback_command``.
"""

import csv
import json
import sqlite3
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from assistant.conversations import connect, now, open_database
from assistant.errors import ConfigError
from assistant.exports import csv_cell

Rating = Literal["up", "down"]
CSV_HEADER = (
    "id", "time", "user", "rating", "question", "standalone_question", "answer", "citations", "generator", "comment",
)  # fmt: skip
_COLUMNS = (
    "id, created_at, user, rating, question, standalone_question, history_json, answer_text, citations_json, "
    "generator, comment"
)


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    created_at: str  # ISO 8601, UTC
    user: str
    rating: Rating
    question: str  # as the user asked it
    standalone_question: str | None  # a follow-up as retrieval read it ("how do I contact them?" spelled out)
    history: tuple[tuple[str, str], ...]  # (role, content) turns before the question
    answer_text: str
    citations: tuple[str, ...]
    generator: str
    comment: str | None

    def csv_row(self) -> list[str]:
        cells = [
            str(self.id), self.created_at, self.user, self.rating, self.question, self.standalone_question or "",
            self.answer_text, "\n".join(self.citations), self.generator, self.comment or "",
        ]  # fmt: skip
        return [csv_cell(cell) for cell in cells]

    def as_case(self) -> dict[str, object]:
        """An evaluation case (``assistant.evaluation.load_cases``) for a person to complete: the facts an
        answer must state (and the sources, entities, or ``refuse``) are left for them to fill in."""
        return {
            "id": f"feedback-{self.id}",
            "question": self.question,
            "kind": "followup" if self.history else "fact",
            "sources": [],
            "entities": [],
            "facts": [],
            "refuse": False,
            "history": [{"role": role, "content": content} for role, content in self.history],
            "note": self.comment or "",
            "standalone_question": self.standalone_question,
            "answer": self.answer_text,
            "citations": list(self.citations),
            "generator": self.generator,
            "rated_at": self.created_at,
        }


def _row(raw: sqlite3.Row) -> FeedbackRow:
    history = tuple((str(turn["role"]), str(turn["content"])) for turn in json.loads(raw["history_json"]))
    return FeedbackRow(
        raw["id"], raw["created_at"], raw["user"], "up" if raw["rating"] == "up" else "down", raw["question"],
        raw["standalone_question"], history, raw["answer_text"], tuple(json.loads(raw["citations_json"])),
        raw["generator"], raw["comment"],
    )  # fmt: skip


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = open_database(Path(path))

    def record(
        self,
        user: str,
        rating: Rating,
        question: str,
        answer_text: str,
        citations: Sequence[str],
        generator: str,
        comment: str | None = None,
        standalone_question: str | None = None,
        history: Sequence[Mapping[str, str]] = (),
    ) -> int:
        """Store one rating with the time; returns its id. ``history`` is the conversation before the question
        ([{"role", "content"}], as the answerer takes it), kept so a follow-up can be replayed as a case."""
        if rating not in ("up", "down"):
            raise ValueError(f"a rating is 'up' or 'down', not {rating!r}")
        if not user or not user.strip():
            raise ValueError("every feedback row names its user")
        turns = [{"role": str(turn["role"]), "content": str(turn["content"])} for turn in history]
        with connect(self.path, write=True) as connection:
            cursor = connection.execute(
                "INSERT INTO feedback (created_at, user, rating, question, standalone_question, history_json, "
                "answer_text, citations_json, generator, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now(), user, rating, question, standalone_question, json.dumps(turns, ensure_ascii=False),
                    answer_text, json.dumps(list(citations), ensure_ascii=False), generator, comment or None,
                ),
            )  # fmt: skip
        return int(cursor.lastrowid or 0)

    def add_comment(self, feedback_id: int, user: str, comment: str) -> bool:
        """A comment on a rating this user gave (written after the thumb, as people do); False if there is
        no such rating of theirs."""
        with connect(self.path, write=True) as connection:
            cursor = connection.execute(
                "UPDATE feedback SET comment = ? WHERE id = ? AND user = ?",
                (comment.strip() or None, feedback_id, user),
            )
        return cursor.rowcount == 1

    def rows(self, user: str | None = None) -> list[FeedbackRow]:
        """One user's ratings, or everyone's (the operator's export) with no user; oldest first."""
        where, parameters = ("WHERE user = ?", (user,)) if user is not None else ("", ())
        with connect(self.path) as connection:
            connection.row_factory = sqlite3.Row
            raw = connection.execute(f"SELECT {_COLUMNS} FROM feedback {where} ORDER BY id", parameters).fetchall()
        return [_row(row) for row in raw]

    def write_csv(self, out: TextIO, user: str | None = None) -> int:
        return write_csv(self.rows(user), out)

    def write_cases(self, out: TextIO, user: str | None = None) -> int:
        return write_cases(self.rows(user), out)


def write_csv(rows: Sequence[FeedbackRow], out: TextIO) -> int:
    """A header row, then one row per rating; no cell runs as a formula in a spreadsheet. Returns the rows."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(row.csv_row() for row in rows)
    return len(rows)


def write_cases(rows: Sequence[FeedbackRow], out: TextIO) -> int:
    """The thumbs-down ratings as JSON lines of evaluation cases. Returns how many."""
    down = [row for row in rows if row.rating == "down"]
    for row in down:
        out.write(json.dumps(row.as_case(), ensure_ascii=False) + "\n")
    return len(down)


@contextmanager
def _output(target: str) -> Iterator[TextIO]:
    if target == "-":
        yield sys.stdout
        return
    try:
        with Path(target).open("w", encoding="utf-8", newline="") as stream:
            yield stream
    except OSError as error:
        raise ConfigError(f"Cannot write the feedback to {target} ({error.strerror}).") from None


def run_feedback_command(database: Path, csv_to: str | None = None, cases_to: str | None = None) -> int:
    """``promise-assistant feedback --csv [FILE]`` or ``--as-cases [FILE]`` ("-", the default, is stdout).
    With no database yet there is no feedback: the CSV is its header alone, the cases file empty."""
    rows = FeedbackStore(database).rows() if Path(database).is_file() else []
    if csv_to is not None:
        with _output(csv_to) as out:
            count = write_csv(rows, out)
        what, target = f"{count} rating{'' if count == 1 else 's'}", csv_to
    else:
        with _output(cases_to or "-") as out:
            count = write_cases(rows, out)
        what, target = f"{count} thumbs-down case{'' if count == 1 else 's'}", cases_to or "-"
    if target != "-":
        print(f"Wrote {what} to {target}")
    return 0
