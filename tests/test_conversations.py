"""Saved conversations and feedback in SQLite: per-user scoping, titles, concurrency, a kill -9 mid-write,
and the feedback exports (CSV for people, evaluation cases for the tests). No models, no store."""

import csv
import io
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.conversations import (
    LOCAL_USER,
    SCHEMA_VERSION,
    TITLE_CHARS,
    ConversationNotFound,
    ConversationStore,
    make_title,
)
from assistant.errors import ConfigError, PromiseError, QueryError, StoreError
from assistant.evaluation import load_cases
from assistant.feedback import CSV_HEADER, FeedbackStore, run_feedback_command
from assistant.settings import PROJECT_ROOT
from tests.conftest import PATIENCE_S


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "conversations.sqlite3"


@pytest.fixture
def store(db: Path) -> ConversationStore:
    return ConversationStore(db)


def test_create_append_and_list_newest_first(store):
    first = store.create("alice", "What is Wee Breathers?")
    second = store.create("alice", "Who runs SPRAG?")
    assert [summary.id for summary in store.list("alice")] == [second.id, first.id]
    store.append(first.id, "alice", "user", "What is Wee Breathers?")
    answer = store.append(first.id, "alice", "assistant", "A reflective space [1].", '[{"source": "001.txt"}]')
    listed = store.list("alice")
    assert [summary.id for summary in listed] == [first.id, second.id]  # the last active comes first
    assert (listed[0].title, listed[0].message_count, listed[1].message_count) == ("What is Wee Breathers?", 2, 0)
    messages = store.messages(first.id, "alice")
    assert [(m.role, m.content) for m in messages] == [
        ("user", "What is Wee Breathers?"),
        ("assistant", "A reflective space [1]."),
    ]
    assert messages[1] == answer and answer.citations_json == '[{"source": "001.txt"}]'
    assert messages[0].citations_json is None
    assert store.list("alice", limit=1)[0].id == first.id


def test_a_restart_keeps_conversations_in_a_versioned_wal_file(db, store):
    conversation = store.create(LOCAL_USER, "Where was the showcase?")
    store.append(conversation.id, LOCAL_USER, "user", "Where was the showcase?")
    reopened = ConversationStore(db)
    assert reopened.get(conversation.id, LOCAL_USER) == conversation
    assert [m.content for m in reopened.messages(conversation.id, LOCAL_USER)] == ["Where was the showcase?"]
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_titles_are_the_first_question_on_one_line_cut_at_a_word():
    assert make_title("  What is\n Wee   Breathers? ") == "What is Wee Breathers?"
    long = "How did the projects at the December showcase involve care experienced young people in designing " * 3
    title = make_title(long)
    assert len(title) <= TITLE_CHARS and title.endswith("…")
    assert long.startswith(title[:-1]) and long[len(title) - 1] == " "  # cut before a space, not inside a word
    assert len(make_title("x" * 500)) == TITLE_CHARS  # one huge word is cut inside it
    assert make_title("Short one") == "Short one"


def test_an_empty_question_or_title_is_refused(store):
    with pytest.raises(QueryError):
        store.create("alice", "   ")
    conversation = store.create("alice", "A question")
    with pytest.raises(QueryError):
        store.rename(conversation.id, "alice", " \n ")
    with pytest.raises(ValueError):
        store.append(conversation.id, "alice", "system", "no")
    with pytest.raises(ValueError):
        store.list("")


def test_rename_keeps_the_order_and_delete_removes_the_messages(db, store):
    old = store.create("alice", "First question")
    new = store.create("alice", "Second question")
    store.append(old.id, "alice", "user", "First question")
    renamed = store.rename(old.id, "alice", "  Wee Breathers,\n contacts ")
    assert renamed.title == "Wee Breathers, contacts"
    assert [(s.id, s.title) for s in store.list("alice")] == [(old.id, renamed.title), (new.id, "Second question")]
    store.delete(old.id, "alice")
    assert [s.id for s in store.list("alice")] == [new.id]
    with pytest.raises(ConversationNotFound):
        store.messages(old.id, "alice")
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0


def test_two_users_never_see_each_others_conversations(store):
    mine = store.create("alice", "Alice's question")
    store.append(mine.id, "alice", "user", "Alice's question")
    theirs = store.create("bob", "Bob's question")
    assert [s.id for s in store.list("alice")] == [mine.id]
    assert [s.id for s in store.list("bob")] == [theirs.id]
    for attempt in (
        lambda: store.get(mine.id, "bob"),
        lambda: store.messages(mine.id, "bob"),
        lambda: store.append(mine.id, "bob", "user", "sneaking in"),
        lambda: store.rename(mine.id, "bob", "taken over"),
        lambda: store.delete(mine.id, "bob"),
        lambda: store.messages("no-such-id", "alice"),
    ):
        with pytest.raises(ConversationNotFound) as raised:
            attempt()
        assert isinstance(raised.value, PromiseError) and "not found" in str(raised.value)
    assert store.get(mine.id, "alice").title == "Alice's question"
    assert [m.content for m in store.messages(mine.id, "alice")] == ["Alice's question"]


def test_dropping_the_last_turn_takes_the_last_question_and_its_answer(store):
    chat = store.create("alice", "What is Wee Breathers?")
    assert store.drop_last_turn(chat.id, "alice") is None  # nothing asked yet
    for role, content in [("user", "What is Wee Breathers?"), ("assistant", "A programme [1]."),
                          ("user", "Who is it for?"), ("assistant", "Teachers [1].")]:  # fmt: skip
        store.append(chat.id, "alice", role, content)  # type: ignore[arg-type]
    with pytest.raises(ConversationNotFound):
        store.drop_last_turn(chat.id, "bob")
    assert store.drop_last_turn(chat.id, "alice") == "Who is it for?"
    assert [m.content for m in store.messages(chat.id, "alice")] == ["What is Wee Breathers?", "A programme [1]."]
    store.append(chat.id, "alice", "user", "Who runs it?")  # asked, its answer never written (a kill)
    assert store.drop_last_turn(chat.id, "alice") == "Who runs it?"
    assert len(store.messages(chat.id, "alice")) == 2
    assert store.get(chat.id, "alice").title == "What is Wee Breathers?"


def test_a_comment_is_added_to_ones_own_rating_only(db):
    feedback = FeedbackStore(db)
    mine = _record(feedback, "alice", "down")
    assert not feedback.add_comment(mine, "bob", "hijacked")
    assert feedback.add_comment(mine, "alice", "  It should name the contact. ")
    assert feedback.rows("alice")[0].comment == "It should name the contact."
    assert not feedback.add_comment(mine + 1, "alice", "no such rating")


def test_threads_appending_at_once_lose_nothing(store):
    threads_n, messages_n = 6, 30
    conversations = [store.create(f"user{n % 2}", f"question {n}") for n in range(threads_n)]
    start = threading.Barrier(threads_n + 1)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        start.wait()
        try:
            for m in range(messages_n):
                store.append(conversations[n].id, f"user{n % 2}", "user", f"{n}-{m}")
        except BaseException as error:  # reported below, with the thread's message
            failures.append(error)

    def read() -> None:
        start.wait()
        try:
            for _ in range(messages_n):
                store.list("user0")
        except BaseException as error:
            failures.append(error)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads_n)] + [threading.Thread(target=read)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(PATIENCE_S)
    assert not failures, failures
    for n, conversation in enumerate(conversations):
        contents = [m.content for m in store.messages(conversation.id, f"user{n % 2}")]
        assert contents == [f"{n}-{m}" for m in range(messages_n)]
    assert sum(s.message_count for s in store.list("user0") + store.list("user1")) == threads_n * messages_n


# Appends forever: five messages per conversation, a line on stdout after each commit.
_WRITER = """
import sys
from pathlib import Path
from assistant.conversations import ConversationStore
store = ConversationStore(Path(sys.argv[1]))
for i in range(10**9):
    conversation = store.create(sys.argv[2], f"question {i}")
    for j in range(5):
        store.append(conversation.id, sys.argv[2], "user" if j % 2 == 0 else "assistant", f"{i}-{j}", "[]")
        print(conversation.id, j, flush=True)
"""


def _message_count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=PATIENCE_S) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
    except sqlite3.OperationalError:  # the writer has not created the schema yet
        return 0


def test_a_kill_mid_write_loses_at_most_the_message_being_written(db, tmp_path):
    log = tmp_path / "committed.log"
    with log.open("w") as out:
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(db), LOCAL_USER], cwd=PROJECT_ROOT, stdout=out)
        try:
            deadline = time.monotonic() + PATIENCE_S
            while _message_count(db) < 200 and writer.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert writer.poll() is None, "the writer stopped on its own"
            writer.send_signal(signal.SIGKILL)
        finally:
            writer.kill()
            writer.wait(PATIENCE_S)
    assert writer.returncode == -signal.SIGKILL
    committed = [line.split() for line in log.read_text().splitlines(keepends=True) if line.endswith("\n")]
    assert len(committed) >= 150

    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = ConversationStore(db)
    found = {s.id: s for s in store.list(LOCAL_USER)}
    stored = 0
    for conversation_id in found:
        messages = store.messages(conversation_id, LOCAL_USER)
        number = found[conversation_id].title.split()[-1]
        assert [m.content for m in messages] == [f"{number}-{j}" for j in range(len(messages))]  # no gaps
        stored += len(messages)
    for conversation_id, j in committed:  # every write reported done is there
        assert found[conversation_id].message_count > int(j)
    assert stored - len(committed) in (0, 1)  # at most the one committed as the process died
    last = store.list(LOCAL_USER)[0]
    store.append(last.id, LOCAL_USER, "assistant", "written after the crash")  # nothing is left locked
    assert store.messages(last.id, LOCAL_USER)[-1].content == "written after the crash"


def test_a_file_from_a_newer_version_or_not_a_database_is_refused(tmp_path, db):
    ConversationStore(db)
    with sqlite3.connect(db) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer"):
        ConversationStore(db)
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database at all " * 100)
    with pytest.raises(StoreError, match=str(junk)):
        FeedbackStore(junk)


def _record(feedback: FeedbackStore, user: str, rating: str = "down", **fields: object) -> int:
    values: dict[str, object] = {
        "question": "Who created Wee Breathers?",
        "answer_text": "Scottish Attachment in Action [1].",
        "citations": ["[1] Promise Partnership Showcase (December 2024), 001.txt"],
        "generator": "extractive",
    }
    return feedback.record(user, rating, **(values | fields))  # type: ignore[arg-type]


def test_two_users_never_see_each_others_feedback(db):
    feedback = FeedbackStore(db)
    mine = _record(feedback, "alice", "up")
    theirs = _record(feedback, "bob", comment="wrong organisation")
    assert [row.id for row in feedback.rows("alice")] == [mine]
    assert [(row.id, row.comment) for row in feedback.rows("bob")] == [(theirs, "wrong organisation")]
    assert [row.user for row in feedback.rows()] == ["alice", "bob"]  # the operator's export: everyone
    row = feedback.rows("alice")[0]
    assert row.citations == ("[1] Promise Partnership Showcase (December 2024), 001.txt",)
    assert row.created_at.endswith("+00:00") and row.rating == "up" and row.comment is None
    with pytest.raises(ValueError):
        _record(feedback, "alice", "meh")


def test_the_feedback_csv_has_a_header_even_with_no_rows(db, tmp_path, capsys):
    out = io.StringIO()
    assert FeedbackStore(db).write_csv(out) == 0
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [list(CSV_HEADER)]
    missing = tmp_path / "never-created.sqlite3"
    assert run_feedback_command(missing, csv_to="-") == 0  # no database yet: a header, and no file made
    assert list(csv.reader(io.StringIO(capsys.readouterr().out))) == [list(CSV_HEADER)]
    assert not missing.exists()
    with pytest.raises(ConfigError, match="Cannot write the feedback"):
        run_feedback_command(missing, csv_to=str(tmp_path / "no such folder" / "feedback.csv"))


def test_feedback_csv_cells_cannot_run_as_formulas(db, tmp_path, capsys):
    feedback = FeedbackStore(db)
    _record(feedback, "=cmd", question='=HYPERLINK("http://evil")', comment="+1", citations=["@SUM(A1)", "ok"])
    target = tmp_path / "feedback.csv"
    assert run_feedback_command(db, csv_to=str(target)) == 0
    assert "Wrote 1 rating to" in capsys.readouterr().out
    with target.open(newline="", encoding="utf-8") as stream:
        header, row = list(csv.reader(stream))
    cells = dict(zip(header, row, strict=True))
    assert cells["question"] == '\'=HYPERLINK("http://evil")'
    assert (cells["user"], cells["comment"], cells["citations"]) == ("'=cmd", "'+1", "'@SUM(A1)\nok")
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)


def test_thumbs_down_feedback_reads_back_as_evaluation_cases(db, tmp_path):
    feedback = FeedbackStore(db)
    _record(feedback, "alice", "up")
    history = [{"role": "user", "content": "What is Wee Breathers?"}, {"role": "assistant", "content": "A space [1]."}]
    follow_up = _record(
        feedback, "alice", question="How do I contact them?", comment="no email given",
        standalone_question="How do I contact Wee Breathers?", history=history,
    )  # fmt: skip
    plain = _record(feedback, "bob")
    target = tmp_path / "cases.jsonl"
    assert run_feedback_command(db, cases_to=str(target)) == 0
    cases = load_cases(target)
    assert [case.id for case in cases] == [f"feedback-{follow_up}", f"feedback-{plain}"]
    first, second = cases
    assert (first.question, first.kind, first.history, first.facts) == (
        "How do I contact them?", "followup", tuple(history), (),
    )  # fmt: skip
    assert (second.kind, second.history, second.refuse, second.sources) == ("fact", (), False, ())
    raw = json.loads(target.read_text(encoding="utf-8").splitlines()[0])
    assert raw["note"] == "no email given" and raw["standalone_question"] == "How do I contact Wee Breathers?"
    assert "user" not in raw  # cases may be committed to the repository: no user names in them
    out = io.StringIO()
    assert FeedbackStore(db).write_cases(out, user="alice") == 1


def test_a_chat_is_created_with_its_first_question_in_one_transaction(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "chats.sqlite3")
    chat = store.create("alice", "What is Wee Breathers?", with_question=True)
    assert [(m.role, m.content) for m in store.messages(chat.id, "alice")] == [("user", "What is Wee Breathers?")]
    assert store.list("alice")[0].message_count == 1
