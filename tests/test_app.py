"""The web app against a live local server, driven through gradio_client, over a fake core.

The fake core is the real Answerer and Library over a store built with the hashing embedder and
the extractive generator: no model is loaded, but every request goes through Gradio's HTTP queue.
"""

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docx
import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from assistant.answer.answering import Answerer
from assistant.app import build_ui, check_binding, launch
from assistant.auth import User, hash_password, write_auth_file
from assistant.conversations import LOCAL_USER, ConversationStore, Message
from assistant.errors import ConfigError, DocumentError, QueryError
from assistant.library import Library, safe_name
from assistant.models import Answer, ChunkMetadata, Citation, Passage
from assistant.prompts import Prompts
from assistant.rendering import escape_markdown, highlighted_body, supporting_unit
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import open_store
from assistant.ui_ask import search_filters
from assistant.ui_chats import answer_from_record, answer_record, chat_view, stopped_answer, write_conversation
from ingest.pipeline import ingest_paths
from tests.conftest import SEEDS, HashingEmbeddings, free_port, language


def fake_core(store_dir: Path, **overrides: Any) -> tuple[Answerer, Library, Settings]:
    settings = Settings(
        store_dir=store_dir, embedding_model="fake-hashing", collection="app_notes", llm="extractive",
        port=free_port(), **overrides,
    )  # fmt: skip
    store = open_store(settings, HashingEmbeddings(), language())
    ingest_paths(store, [SEEDS], settings, progress=False)
    retriever = HybridRetriever(store, settings)
    return (
        Answerer(retriever, None, Prompts.load(), settings, language()),
        Library(store, retriever, settings),
        settings,
    )


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Library, Settings]]:
    answerer, library, settings = fake_core(tmp_path_factory.mktemp("app-store"))
    demo = build_ui(answerer, library)
    launch(demo, settings, block=False)
    try:
        yield Client(f"http://127.0.0.1:{settings.port}/", verbose=False), library, settings
    finally:
        demo.close()


def plain(markdown: str) -> str:
    """Markdown the app escaped, as the reader sees it."""
    return markdown.replace("\\", "")


def downloaded(update: Any) -> Path:
    """A DownloadButton's file, whether returned as a value or inside an update."""
    return Path(update["value"] if isinstance(update, dict) else update)


def last_message(conversation: list[dict[str, Any]]) -> str:
    content = conversation[-1]["content"]
    return content if isinstance(content, str) else " ".join(part.get("text", "") for part in content)


def ask(client: Client, question: str, document: str = "All", new_chat: bool = True) -> tuple[str, str]:
    return ask_for_download(client, question, document, new_chat)[:2]


def ask_for_download(
    client: Client, question: str, document: str = "All", new_chat: bool = True
) -> tuple[str, str, Any]:
    """The answer, its source cards and its download (an update, or None when there is none)."""
    if new_chat:
        client.reset_session()  # the conversation lives in the session's state
    conversation, sources, _, download = client.predict(question, [], "All", document, api_name="/chat")
    return last_message(conversation), sources, download


def test_chat_returns_a_cited_answer_with_source_cards(app: tuple[Client, Library, Settings]) -> None:
    client, _, _ = app
    answer, sources = ask(client, "What is Wee Breathers?")
    assert "Wee Breathers" in answer
    assert "(#source-1-1)" in answer  # [1] links to its card
    assert 'id="source-1-1"' in sources and "Scottish Attachment in Action" in sources
    assert "Showcase" in sources and "<mark>" in sources  # the supporting sentence is highlighted


def test_chat_says_when_the_notes_do_not_cover_a_question(app: tuple[Client, Library, Settings]) -> None:
    client, _, _ = app
    answer, sources, download = ask_for_download(client, "What is the capital of France?")
    assert "Not in the notes" in answer and "#source-" not in answer
    assert sources == "" and (not download or download.get("visible") is False)  # said once; nothing to download


def test_follow_ups_use_the_conversation_but_a_new_topic_does_not(app: tuple[Client, Library, Settings]) -> None:
    client, _, _ = app
    ask(client, "What is Wee Breathers?")
    follow_up, _ = ask(client, "Who is it for?", new_chat=False)
    assert "education workforce" in follow_up and "(#source-2-1)" in follow_up
    unrelated, _ = ask(client, "What is the capital of France?", new_chat=False)
    assert "Not in the notes" in unrelated


def test_a_document_filter_limits_the_sources(app: tuple[Client, Library, Settings]) -> None:
    client, library, _ = app
    showcase = next(entry.source for entry in library.documents() if "Showcase" in entry.event)
    _, sources = ask(client, "Which projects supported young people into work?", document=showcase)
    other_sources = {entry.source for entry in library.documents()} - {showcase}
    assert showcase in sources and not any(source in sources for source in other_sources)


def test_an_over_long_question_gets_a_message_not_an_error(app: tuple[Client, Library, Settings]) -> None:
    client, _, settings = app
    answer, _ = ask(client, "care " * settings.max_query_chars)
    assert "the limit is" in answer


def test_finder_returns_projects_and_a_csv(app: tuple[Client, Library, Settings]) -> None:
    client, _, _ = app
    cards, csv_path, status = client.predict("supporting families at home", api_name="/find_projects")
    with downloaded(csv_path).open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) >= 3 and all(row["Organisation"] and row["Event"] and row["Source"] for row in rows)
    assert f"{len(rows)} projects found" in status
    assert cards.count('class="project-card"') == len(rows) and "<mark>" in cards


def test_briefing_returns_a_docx(app: tuple[Client, Library, Settings]) -> None:
    client, _, _ = app
    preview, files = client.predict("supporting families", api_name="/brief")
    assert "Key points" in preview
    docx_path = next(path for path in files if path.endswith(".docx"))
    paragraphs = [paragraph.text for paragraph in docx.Document(docx_path).paragraphs]
    assert "Key points" in paragraphs and "Sources" in paragraphs


def test_an_upload_is_searchable_straight_after(app: tuple[Client, Library, Settings], tmp_path: Path) -> None:
    client, _, settings = app
    notes = tmp_path / "Harbour Lights notes.md"
    notes.write_text(
        "# Harbour Lights Network Meeting\n\n## Kelpie Mentoring\n\n"
        "Kelpie Mentoring pairs care-experienced teenagers with volunteer sailors for a season of weekly "
        "sessions on the water, building confidence and trust.\n",
        encoding="utf-8",
    )
    status, documents, *_ = client.predict([handle_file(str(notes))], api_name="/upload")
    try:
        assert status.startswith("Done:") and "Harbour Lights notes.md" in plain(status)
        rows = [dict(zip(documents["headers"], row, strict=False)) for row in documents["data"]]  # by column name
        assert any(
            "Harbour Lights notes.md" in row.values()
            and str(row.get("From", "")).startswith("uploaded by local user, 20")
            for row in rows
        )
        assert (settings.upload_dir / "Harbour Lights notes.md").is_file()
        answer, sources = ask(client, "What does Kelpie Mentoring do?")
        assert "volunteer sailors" in answer and "Harbour Lights notes.md" in sources
        assert "uploaded by local user" in plain(answer) and 'class="uploaded">uploaded by local user' in sources
    finally:
        status, documents, *_ = client.predict("Harbour Lights notes.md", False, api_name="/remove")
    assert status.startswith("Removed") and not (settings.upload_dir / "Harbour Lights notes.md").exists()
    assert "volunteer sailors" not in ask(client, "What does Kelpie Mentoring do?")[0]


def test_an_upload_may_not_take_over_a_document_from_the_notes_folder(
    app: tuple[Client, Library, Settings],
) -> None:
    _, library, _ = app
    seed = next(entry for entry in library.documents() if not library.is_upload(entry))
    before = {entry.source: entry.chunk_ids for entry in library.documents()}
    with pytest.raises(DocumentError, match="already in the library"):
        library.upload(seed.source, b"Replacement notes about something else entirely, written by someone.")
    assert {entry.source: entry.chunk_ids for entry in library.documents()} == before


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notes.txt", b"\x00\x01\x02\xff\xfe" * 200, "binary file"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj <<", "not a readable .pdf"),
        ("empty.txt", b"   \n", "empty"),
    ],
)
def test_a_bad_upload_is_rejected_and_changes_nothing(
    app: tuple[Client, Library, Settings], tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    client, library, settings = app
    before = {entry.source: entry.chunk_ids for entry in library.documents()}
    path = tmp_path / name
    path.write_bytes(content)
    status, *_ = client.predict([handle_file(str(path))], api_name="/upload")
    assert status.startswith("Warning:") and reason in plain(status) and "Nothing else was changed" in status
    assert {entry.source: entry.chunk_ids for entry in library.documents()} == before
    assert not (settings.upload_dir / name).exists()


def test_an_upload_of_the_wrong_type_is_refused_by_the_server(
    app: tuple[Client, Library, Settings], tmp_path: Path
) -> None:
    client, library, _ = app
    before = len(library.documents())
    program = tmp_path / "tool.exe"
    program.write_bytes(b"MZ\x90\x00 binary")
    with pytest.raises(AppError, match="Invalid file type"):
        client.predict([handle_file(str(program))], api_name="/upload")
    assert len(library.documents()) == before


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("notes; rm -rf $HOME.md", "notes_rm -rf_HOME.md"),
        (".hidden.PDF", "hidden.pdf"),
        ("Family Collaborative – March.docx", "Family Collaborative – March.docx"),
    ],
)
def test_upload_names_are_sanitised(name: str, expected: str) -> None:
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["../../..", "payload.sh", "noextension", "..txt"])
def test_unusable_upload_names_are_refused(name: str) -> None:
    with pytest.raises(DocumentError):
        safe_name(name)


def test_document_text_is_never_rendered_as_markup() -> None:
    hostile = '<img src=x onerror="alert(1)"> **bold** [link](javascript:alert(1))'
    escaped = escape_markdown(hostile)
    assert "<img" not in escaped and "\\*\\*bold" in escaped and "\\[link\\]" in escaped
    highlighted = highlighted_body(f"Intro.\n{hostile}", "Intro.")
    assert "<img" not in highlighted and "&lt;img" in highlighted and "<mark>Intro.</mark>" in highlighted


def test_web_and_email_addresses_are_shown_as_written_and_the_rest_stays_text() -> None:
    """The chat's Markdown links addresses from the raw text, so an escape inside one would be shown."""
    from markdown_it import MarkdownIt

    text = "Apply at https://kelpie-mentoring.example/apply_now or write to sail.team@kelpie.example [1]."
    escaped = escape_markdown(text)
    assert "https://kelpie-mentoring.example/apply_now" in escaped and "sail.team@kelpie.example" in escaped
    assert "\\[1\\]" in escaped  # the citation marker is still text
    assert MarkdownIt("commonmark").render(escaped) == f"<p>{text}</p>\n"
    hostile = escape_markdown("www.harbour.example/[x](javascript:alert(1)) and https://a.example/<img src=x>")
    assert "](javascript" not in hostile and "<img" not in hostile


def test_the_supporting_sentence_is_chosen_from_the_answer_sentences_citing_the_passage() -> None:
    asked: list[tuple[str, Any]] = []

    class Answerer:
        def best_unit(self, question: str, passage: Any) -> str:
            asked.append((question, passage))
            return "the unit"

    text = "Kelpie pairs teenagers with sailors [1]. Sessions run weekly [2]. It builds trust [1][2]."
    assert supporting_unit(Answerer(), text, SimpleNamespace(n=2, passage="second")) == "the unit"  # type: ignore[arg-type]
    supporting_unit(Answerer(), text, SimpleNamespace(n=3, passage="third"))  # type: ignore[arg-type]
    assert asked == [("Sessions run weekly. It builds trust.", "second"), (text, "third")]


def test_answer_rendering_needs_no_web_framework() -> None:
    check = "import sys, assistant.rendering; sys.exit('gradio' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", check], timeout=60).returncode == 0


def test_serving_beyond_loopback_without_auth_is_refused(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMISE_")}
    env |= {"PROMISE_STORE_DIR": str(tmp_path / "store"), "PROMISE_LLM": "extractive"}
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert result.returncode == 2
    assert "PROMISE_AUTH" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("line", ["ann:first secret", "bob", "ann:admin:scrypt$1$2$3$4$5", "a b:reader:scrypt$x"])
def test_auth_file_lines_must_name_a_user_a_role_and_a_hash(tmp_path: Path, line: str) -> None:
    users = tmp_path / "users"
    users.write_text(f"# team\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="users add"):
        check_binding(Settings(host="0.0.0.0", auth_file=users))


def test_with_auth_an_unauthenticated_request_is_rejected(tmp_path: Path) -> None:
    users = tmp_path / "users"
    write_auth_file(users, [User("ann", "reader", hash_password("first secret"))])
    answerer, library, settings = fake_core(tmp_path / "store", host="0.0.0.0", auth_file=users)
    demo = build_ui(answerer, library)
    launch(demo, settings, block=False)
    base = f"http://127.0.0.1:{settings.port}"
    try:
        assert httpx.get(f"{base}/config").status_code == 401
        assert httpx.post(f"{base}/login", data={"username": "ann", "password": "wrong"}).status_code == 400
        with pytest.raises(ValueError):
            Client(f"{base}/", verbose=False)
        client = Client(f"{base}/", auth=("ann", "first secret"), verbose=False)
        conversation, *_ = client.predict("What is Wee Breathers?", [], "All", "All", api_name="/chat")
        assert "Wee Breathers" in last_message(conversation)
    finally:
        demo.close()


# --- the chat's saved conversations -------------------------------------------------------------------


def test_each_question_and_answer_is_saved_and_redraws_as_it_was_shown(app: tuple[Client, Library, Settings]) -> None:
    client, _, settings = app
    client.reset_session()
    first, _, _, _ = client.predict("What is Wee Breathers?", [], "All", "All", api_name="/chat")
    conversation, cards, _, _ = client.predict("Who is it for?", [], "All", "All", api_name="/chat")
    store = ConversationStore(settings.conversations_path)
    chat = next(summary for summary in store.list(LOCAL_USER) if summary.title == "What is Wee Breathers?")
    messages = store.messages(chat.id, LOCAL_USER)
    assert [(message.role, message.content) for message in messages][::2] == [
        ("user", "What is Wee Breathers?"),
        ("user", "Who is it for?"),
    ]
    view = chat_view(messages)
    assert view.chat[-1]["content"] == last_message(conversation)  # the answer, its links and sources, as shown
    assert view.chat[1]["content"] == last_message(first)
    assert view.history[0] == {"role": "user", "content": "What is Wee Breathers?"} and len(view.history) == 4
    assert view.last_turn == 2 and "(#source-2-1)" in view.chat[-1]["content"] and 'id="source-2-1"' in cards
    assert view.turns[1] is not None and view.turns[1]["citations"] and view.turns[1]["generator"] == "extractive"


def test_a_record_that_cannot_be_read_gives_the_answer_uncited() -> None:
    answer = answer_from_record("Question?", "An answer [1].", "{not json")
    assert (answer.text, answer.citations, answer.answered) == ("An answer [1].", [], True)
    stopped = chat_view(
        [
            Message(1, "c", "user", "Question?", None, "t"),
            Message(
                2,
                "c",
                "assistant",
                "Half an answer (stopped).",
                answer_record(stopped_answer("Q", "Half"), stopped=True),
                "t",
            ),
        ]
    )
    assert stopped.history == [] and stopped.turns == [None, None] and not stopped.answers[0].answered


def test_a_whole_conversation_is_written_as_text_in_markdown_and_word(tmp_path: Path) -> None:
    hostile = '<img src=x onerror="alert(1)"> [link](javascript:alert(1))\n# heading'
    passage = Passage("c1", "Context\nKelpie Mentoring pairs teenagers with sailors.", chunk_meta(hostile))
    answer = Answer(hostile, hostile, "Kelpie pairs teenagers with sailors [1].", True,
                    [Citation(1, passage, 0.5)], {}, "extractive", [])  # fmt: skip
    markdown = write_conversation(hostile, [answer, answer], tmp_path / "chat.md").read_text(encoding="utf-8")
    assert "<img" not in markdown and "](javascript" not in markdown and "\n# heading" not in markdown
    assert markdown.count("### Sources") == 2 and "> Kelpie Mentoring pairs teenagers with sailors." in markdown
    document = docx.Document(str(write_conversation(hostile, [answer], tmp_path / "chat.docx")))
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert "Sources" in texts and "Kelpie Mentoring pairs teenagers with sailors." in texts


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"organisation": " Kibble ", "date_from": "2025", "date_to": "2025-06"}, ("Kibble", "2025", "2025-06")),
        ({}, (None, None, None)),
    ],
)
def test_the_chat_filters_become_search_filters(extra: dict[str, str], expected: tuple[Any, ...]) -> None:
    filters = search_filters("All", "notes.txt", extra)
    assert (filters.organisation, filters.date_from, filters.date_to) == expected
    assert filters.event is None and filters.source == "notes.txt"


def test_a_date_filter_that_is_not_a_date_is_one_sentence() -> None:
    with pytest.raises(QueryError, match="not a date like 2025"):
        search_filters("All", "All", {"date_from": "last spring"})


def chunk_meta(text: str) -> ChunkMetadata:
    return ChunkMetadata(
        source="harbour.md", event=text, date="2025-06-04", place=None, organisation=text, project=None,
        section=None, contact=None, start=0, end=10, content_hash="h", unit_id="u", unit_index=0, part=0,
        doc_hash="d", context="Context",
    )  # fmt: skip
