"""The chat as people use it, in headless Chromium: saved conversations (reload, past chats, rename,
delete), Stop, Retry and Edit, thumbs up or down with a comment (stored and exported), the passages found
shown before the answer, a refusal said once, filters, exporting a whole conversation; two signed-in users
kept apart; the app killed mid-answer keeps every saved chat.

The app runs over the seeds ingested with the hashing embedder; answers are extractive, except for Stop,
which needs an answer that is still being written: there a fake chat model waits on an event the test holds, or
a scripted OpenAI-compatible endpoint streams a ten-second answer.
"""

import asyncio
import csv
import io
import json
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docx
import gradio.routes
import pytest
from gradio_client import Client
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.answer.answering import Answerer
from assistant.app import AssistantBlocks
from assistant.auth import User, hash_password, write_auth_file
from assistant.cli import main as cli_main
from assistant.conversations import LOCAL_USER, ConversationStore
from assistant.feedback import CSV_HEADER, FeedbackStore
from assistant.llm import make_llm
from assistant.prompts import Prompts
from assistant.settings import Settings
from tests.conftest import (
    CHROMIUM,
    PATIENCE_S,
    child_env,
    fake_core,
    free_port,
    language,
    paused_lines,
    running_app,
    wait_for,
)
from tests.fake_endpoint import ScriptedEndpoint

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium is not installed (Debian: apt-get install chromium)"
    ),
]

PASSWORDS = {"ann": "ann reads the notes", "bob": "bob reads them too"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The app over the seeds, extractive answers, no sign-in (one local user)."""
    answerer, library, settings = fake_core(tmp_path_factory.mktemp("chat-store"))
    with running_app(answerer, library, settings) as (url, _):
        yield url, settings


def opened(browser: Any, url: str) -> Any:
    """A fresh browser context (its own local storage) on the app, the question box ready."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url)
    expect(page.get_by_label("Your question")).to_be_visible()
    return page


def ask(page: Any, question: str) -> Any:
    """Asks, and waits for the answer to end (its answer download, or the refusal); returns the chat."""
    from playwright.sync_api import expect

    settled(page)
    answers = bot_messages(page).count()
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    chat = page.locator("#chat")
    expect(chat).to_contain_text(question)
    expect(bot_messages(page)).to_have_count(answers + 1)
    settled(page)
    return chat


def settled(page: Any) -> None:
    """No event running: nothing pending or streaming on the page."""
    from playwright.sync_api import expect

    expect(page.locator(".pending, .generating")).to_have_count(0)


def bot_messages(page: Any) -> Any:
    return page.locator("#chat .message.bot")


def past_chats(page: Any) -> Any:
    return page.locator("#past-chats label")


# --- saved conversations ------------------------------------------------------------------------------


def test_a_reload_keeps_the_chat_and_a_past_chat_reopens(browser: Any, app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, settings = app
    page = opened(browser, url)
    ask(page, "What is Wee Breathers?")
    chat = ask(page, "Who is it for?")  # a follow-up: its cards are turn 2's
    expect(page.locator("#sources details#source-2-1")).to_be_visible()
    page.reload()
    expect(chat).to_contain_text("Who is it for?")
    expect(chat).to_contain_text("What is Wee Breathers?")
    expect(bot_messages(page)).to_have_count(2)
    expect(page.locator("#sources details#source-2-1")).to_be_visible()  # the last answer's cards, redrawn
    expect(past_chats(page).first).to_contain_text("What is Wee Breathers?")

    page.get_by_role("button", name="New chat").click()
    expect(bot_messages(page)).to_have_count(0)
    ask(page, "Which projects help families at home?")
    expect(past_chats(page).first).to_contain_text("Which projects help families at home?")  # newest first
    past_chats(page).filter(has_text="What is Wee Breathers?").click()
    expect(chat).to_contain_text("Who is it for?")
    expect(chat).not_to_contain_text("Which projects help families at home?")

    page.get_by_text("Rename or delete this chat").click()
    page.get_by_label("New title").fill("Wee Breathers, who for")
    page.get_by_role("button", name="Rename", exact=True).click()
    expect(past_chats(page).filter(has_text="Wee Breathers, who for")).to_have_count(1)
    page.get_by_role("button", name="Delete chat").click()
    expect(past_chats(page).filter(has_text="Wee Breathers, who for")).to_have_count(0)
    expect(bot_messages(page)).to_have_count(0)
    titles = [chat.title for chat in ConversationStore(settings.conversations_path).list(LOCAL_USER)]
    assert "Wee Breathers, who for" not in titles and "Which projects help families at home?" in titles
    page.close()


def test_retry_asks_the_last_question_again_and_edit_puts_it_back(browser: Any, app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, settings = app
    page = opened(browser, url)
    page.get_by_role("button", name="New chat").click()
    ask(page, "What is Wee Breathers?")
    ask(page, "Who created Wee Breathers?")
    store = ConversationStore(settings.conversations_path)
    conversation = store.list(LOCAL_USER)[0]
    answered = store.messages(conversation.id, LOCAL_USER)[-1].id
    page.get_by_role("button", name="Retry", exact=True).click()

    def asked_again() -> list[tuple[str, str]]:
        messages = store.messages(conversation.id, LOCAL_USER)
        done = len(messages) == 4 and messages[-1].role == "assistant" and messages[-1].id > answered
        return [(message.role, message.content) for message in messages] if done else []

    roles = wait_for(asked_again, "the last question to be answered again")
    assert [role for role, _ in roles] == ["user", "assistant"] * 2
    assert roles[2][1] == "Who created Wee Breathers?"  # asked once, answered once: the retry replaced it
    settled(page)
    expect(bot_messages(page)).to_have_count(2)

    page.get_by_role("button", name="Edit last question").click()
    expect(page.get_by_label("Your question")).to_have_value("Who created Wee Breathers?")
    expect(bot_messages(page)).to_have_count(1)
    ask(page, "Who is Wee Breathers for?")
    expect(bot_messages(page)).to_have_count(2)
    contents = [message.content for message in store.messages(conversation.id, LOCAL_USER)]
    assert "Who created Wee Breathers?" not in contents and contents[2] == "Who is Wee Breathers for?"
    page.close()


def test_the_passages_come_first_and_a_refusal_is_said_once(browser: Any, app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url)
    page.get_by_role("button", name="New chat").click()
    ask(page, "What is Wee Breathers?")
    expect(page.locator("#sources details.source-card").first).to_be_visible()
    expect(page.locator("#download-answer")).to_be_visible()
    chat = ask(page, "What is the capital of France?")
    expect(chat).to_contain_text("Not in the notes")
    expect(page.locator("#sources")).not_to_contain_text("the notes")  # not again below it
    expect(page.locator(".not-covered")).to_have_count(0)
    expect(page.locator("#download-answer")).to_be_hidden()
    page.close()


def test_filters_by_organisation_and_date_reach_the_search(browser: Any, app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url)
    page.get_by_role("button", name="New chat").click()
    page.get_by_label("Organisation or project").fill("Scottish Attachment")
    page.get_by_role("textbox", name="From", exact=True).fill("2024-12")
    page.get_by_role("textbox", name="To", exact=True).fill("2024-12")
    ask(page, "Which projects support young people?")
    cards = page.locator("#sources details.source-card summary")
    expect(cards.first).to_be_visible()
    for summary in cards.all_inner_texts():
        assert "Scottish Attachment in Action" in summary and re.search("December 2024|2024-12", summary), summary
    page.get_by_role("textbox", name="From", exact=True).fill("December")
    chat = ask(page, "Which projects support families?")
    expect(chat).to_contain_text("is not a date like 2025")
    page.close()


def test_a_whole_conversation_exports_as_markdown_and_word(browser: Any, app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url)
    page.get_by_role("button", name="New chat").click()
    ask(page, "What is Wee Breathers?")
    ask(page, "Which projects help families at home?")
    expect(page.locator("#export-md")).to_be_visible()

    def exported() -> str:
        """The Markdown export once it holds the second answer (it is rewritten just after each answer)."""
        with page.expect_download() as download:
            page.locator("#export-md").click()
        text = Path(download.value.path()).read_text(encoding="utf-8")
        return text if "Which projects help families at home?" in text else ""

    markdown = wait_for(exported, "the export to hold the whole conversation", every=0.2)
    assert markdown.startswith("# What is Wee Breathers?")
    assert "## What is Wee Breathers?" in markdown and "## Which projects help families at home?" in markdown
    assert markdown.count("### Sources") == 2 and "  > " in markdown  # each answer's sources and passages
    with page.expect_download() as word_download:
        page.locator("#export-docx").click()
    paragraphs = [paragraph.text for paragraph in docx.Document(word_download.value.path()).paragraphs]
    assert "Which projects help families at home?" in paragraphs and paragraphs.count("Sources") == 2
    page.close()


# --- feedback -------------------------------------------------------------------------------------------


def test_a_thumbs_down_with_a_comment_is_stored_and_exported(
    browser: Any, app: tuple[str, Settings], tmp_path: Path, clean_env: Callable[..., None]
) -> None:
    from playwright.sync_api import expect

    url, settings = app
    page = opened(browser, url)
    page.get_by_role("button", name="New chat").click()
    ask(page, "Who runs Wee Breathers?")
    feedback = FeedbackStore(settings.conversations_path)
    before = len(feedback.rows())
    bot_messages(page).last.hover()
    page.locator("#chat").get_by_role("button", name="Dislike").last.click()
    wait_for(lambda: len(feedback.rows()) == before + 1, "the thumbs-down to be stored")
    page.get_by_label("Thanks: your rating is saved. A comment (optional)").fill("It should name the contact.")
    page.get_by_role("button", name="Send comment").click()
    wait_for(lambda: feedback.rows()[-1].comment, "the comment to be stored")
    row = feedback.rows()[-1]
    assert (row.rating, row.user, row.question, row.comment) == (
        "down",
        LOCAL_USER,
        "Who runs Wee Breathers?",
        "It should name the contact.",
    )
    assert "Wee Breathers" in row.answer_text and row.citations and row.generator == "extractive"
    expect(page.locator("#feedback-comment")).to_be_hidden()

    exported = tmp_path / "feedback.csv"
    clean_env(conversations_db=settings.conversations_path)
    assert cli_main(["feedback", "--csv", str(exported)]) == 0
    rows = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == CSV_HEADER
    assert any(row[3] == "down" and row[4] == "Who runs Wee Breathers?" and row[9] == "It should name the contact."
               for row in rows[1:])  # fmt: skip
    page.close()


# --- Stop ---------------------------------------------------------------------------------------------

PASSAGE_ONE = re.compile(r"\[1\] \([^\n]*\)\n(.+?[.!?])(?:\s|$)")
CHUNKS = 200  # far more than an answer needs: a stream that ends early was abandoned, not finished
MODEL = SimpleNamespace(started=threading.Event(), release=threading.Event(), closed=threading.Event(), delivered=0)


class BlockingChat(BaseChatModel):
    """A chat model whose stream waits for ``MODEL.release`` before its first words (the first sentence of
    passage [1], cited, so the answer shows it), counts what it delivered, and sets ``MODEL.closed`` when
    its stream ends, finished or closed by its caller."""

    @property
    def _llm_type(self) -> str:
        return "blocking-fake"

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        text = "".join(str(chunk.message.content) for chunk in self._stream(messages))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        MODEL.started.set()
        found = PASSAGE_ONE.search(str(messages[-1].content))
        reply = f"{found[1][:-1]} [1]." if found else "The notes say so [1]."  # passage 1's first sentence, cited
        try:
            while not MODEL.release.wait(1.0):  # a wait can end early (a clock step); the test always sets it
                pass
            for number in range(CHUNKS):
                MODEL.delivered += 1
                yield ChatGenerationChunk(message=AIMessageChunk(content=reply if number == 0 else " It met weekly."))
        finally:
            MODEL.closed.set()


@pytest.fixture
def slow_app(tmp_path: Path) -> Iterator[tuple[str, Settings, AssistantBlocks]]:
    answerer, library, settings = fake_core(tmp_path / "store")
    slow = Answerer(answerer.retriever, BlockingChat(), Prompts.load(), settings, language(), "blocking-fake")
    for event in (MODEL.started, MODEL.release, MODEL.closed):
        event.clear()
    MODEL.delivered = 0
    with running_app(slow, library, settings) as (url, demo):
        yield url, settings, demo
    MODEL.release.set()  # never leave a worker waiting


def test_stop_closes_the_models_stream_and_leaves_no_request_running(
    browser: Any, slow_app: tuple[str, Settings, AssistantBlocks], monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    cancelling = threading.Event()  # set once Gradio's cancel route has cancelled the answer's task
    cancel_tasks = gradio.routes.cancel_tasks

    async def recorded(task_ids: set[str]) -> list[str]:
        cancelled = asyncio.ensure_future(cancel_tasks(task_ids))
        await asyncio.sleep(0)  # it cancels the tasks, then waits for them to end
        cancelling.set()
        return await cancelled

    monkeypatch.setattr(gradio.routes, "cancel_tasks", recorded)

    url, settings, demo = slow_app
    page = opened(browser, url)
    settled(page)
    box = page.get_by_label("Your question")
    box.fill("What is Wee Breathers?")
    box.press("Enter")
    wait_for(MODEL.started.is_set, "the model to be asked")
    # Sources first: the passages found are shown while the answer is still being written.
    expect(page.locator("#sources")).to_contain_text("Passages found")
    expect(page.locator("#sources details.source-card").first).to_be_visible()
    expect(bot_messages(page)).to_have_count(0)
    page.get_by_role("button", name="Stop").click()
    wait_for(cancelling.is_set, "Stop to cancel the answer's job")
    assert not MODEL.closed.is_set()  # the worker thread is still inside the model call, held by the test
    MODEL.release.set()  # the model would now write all its chunks, if its stream were not closed
    wait_for(MODEL.closed.is_set, "the model's stream to be closed")
    assert MODEL.delivered < CHUNKS, "the model's stream ran to its end: Stop did not abandon it"
    wait_for(lambda: all(job is None for job in demo._queue.active_jobs), "no request still running")
    expect(page.locator("#chat .generating, #chat .pending")).to_have_count(0)
    expect(page.locator("#chat")).to_contain_text("Stopped before the answer was finished")
    store = ConversationStore(settings.conversations_path)
    conversation = store.list(LOCAL_USER)[0]
    # The stopped answer is saved as the closed stream unwinds: what was written, and that it was stopped.
    saved = wait_for(lambda: (found := store.messages(conversation.id, LOCAL_USER))[1:] and found, "the stopped answer")
    assert [message.role for message in saved] == ["user", "assistant"]
    assert json.loads(saved[1].citations_json or "{}")["stopped"] and "Stopped" in saved[1].content
    page.close()


def test_stop_during_a_ten_second_answer_closes_the_http_stream_and_retry_works_at_once(
    browser: Any, tmp_path: Path
) -> None:
    """The model an OpenAI-compatible endpoint (PROMISE_LLM=openai), streaming a word every 0.1 s."""
    from playwright.sync_api import expect

    answerer, library, settings = fake_core(tmp_path / "store")
    with ScriptedEndpoint(seconds_per_word=0.1).serving() as endpoint:
        settings = settings.model_copy(
            update={"llm": "openai", "openai_base_url": endpoint.url, "openai_model": "fake"}
        )
        model = Answerer(
            answerer.retriever, make_llm(settings).llm, Prompts.load(), settings, language(), "openai:fake"
        )
        with running_app(model, library, settings) as (url, _):
            page = opened(browser, url)
            settled(page)
            box = page.get_by_label("Your question")
            box.fill("What is Wee Breathers?")
            box.press("Enter")
            expect(bot_messages(page)).to_have_count(1)  # the first sentences are shown
            wait_for(lambda: endpoint.words_sent >= 50, "the answer to be half written")
            page.get_by_role("button", name="Stop").click()
            pressed = time.monotonic()
            closed_at = wait_for(lambda: endpoint.closed_at, "the endpoint to see its stream closed", timeout=10)
            assert closed_at - pressed < 1.0 and endpoint.finished == 0
            expect(bot_messages(page).last).to_contain_text("Stopped before the answer was finished")
            settled(page)
            shown = bot_messages(page).last.inner_text().replace("Stopped before the answer was finished.", "").strip()
            store = ConversationStore(settings.conversations_path)
            conversation = store.list(LOCAL_USER)[0]
            stopped = store.messages(conversation.id, LOCAL_USER)[1].content
            assert " ".join(stopped.split()) == " ".join(f"{shown} (Stopped before the answer was finished.)".split())

            endpoint.seconds_per_word = 0.0
            page.get_by_role("button", name="Retry").click()  # at once: no "still being written"
            expect(bot_messages(page).last).to_contain_text("Sources")
            settled(page)
            expect(page.locator("#chat")).not_to_contain_text("still being written")
            saved = wait_for(lambda: (found := store.messages(conversation.id, LOCAL_USER))[1:] and found, "the answer")
            assert [message.role for message in saved] == ["user", "assistant"] and endpoint.finished == 1
            assert "Stopped" not in saved[1].content and "Wee Breathers" in saved[1].content
            page.close()


# --- two users; the app killed mid-answer --------------------------------------------------------------


def signed_in(browser: Any, url: str, name: str) -> Any:
    """A browser context of its own for ``name``, signed in, on the Ask tab."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Login").click()
    expect(page.get_by_label("Your question")).to_be_visible()
    return page


def test_two_signed_in_users_never_see_each_others_chats_or_feedback(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    users = tmp_path / "users"
    write_auth_file(users, [User(name, "reader", hash_password(password)) for name, password in PASSWORDS.items()])
    answerer, library, settings = fake_core(tmp_path / "store", auth_file=users)
    with running_app(answerer, library, settings) as (url, demo):
        ann, bob = signed_in(browser, url, "ann"), signed_in(browser, url, "bob")
        ask(ann, "What is Wee Breathers?")
        ann.locator("#chat").get_by_role("button", name="Dislike").last.click()
        ask(bob, "Which projects help families at home?")
        bob.locator("#chat").get_by_role("button", name="Like").last.click()
        feedback = FeedbackStore(settings.conversations_path)
        wait_for(lambda: len(feedback.rows()) == 2, "both ratings to be stored")
        for page in (ann, bob):
            page.reload()
            expect(past_chats(page)).to_have_count(1)
        expect(past_chats(ann)).to_have_text(
            [re.compile(r"^\s*What is Wee Breathers\? \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$")]
        )
        expect(past_chats(bob)).to_have_text([re.compile(r"^\s*Which projects help families at home\? \(")])
        expect(bob.locator("#chat")).not_to_contain_text("Wee Breathers")
        assert [(row.rating, row.question) for row in feedback.rows("ann")] == [("down", "What is Wee Breathers?")]
        assert [(row.rating, row.question) for row in feedback.rows("bob")] == [
            ("up", "Which projects help families at home?")
        ]
        # Bob's session given Ann's conversation id (as a crafted request could) opens a new chat, not hers.
        conversations = ConversationStore(settings.conversations_path)
        anns = conversations.list("ann")[0].id
        ask_tab = next(fn.fn.__self__ for fn in demo.fns.values() if fn.api_name == "chat")  # type: ignore[union-attr]
        updates = ask_tab.side.restore(anns, SimpleNamespace(username="bob"))
        assert updates[ask_tab.chatbot] == [] and updates[ask_tab.conversation_id] == ""
        assert [message.role for message in conversations.messages(anns, "ann")] == ["user", "assistant"]


@pytest.mark.parametrize("kill", [signal.SIGKILL], ids=["kill -9"])
def test_killing_the_app_mid_answer_loses_only_that_answer(
    tmp_path: Path, served_app: Callable[..., subprocess.Popen], kill: signal.Signals
) -> None:
    _, _, settings = fake_core(tmp_path / "store")  # a store the served app opens with the same fake embedder
    paused = tmp_path / "paused"
    env = child_env(store_dir=settings.store_dir, embedding_model="fake-hashing", collection=settings.collection,
                    llm="extractive", cache_dir=tmp_path / "cache")  # fmt: skip
    # The app embeds one query to warm up and one per question: the second question's never returns.
    pausing = env | {"PAUSE_QUERIES_AFTER": "2", "PAUSED_FILE": str(paused)}
    port = free_port()
    server = served_app(pausing, port, fake_embedder=True)
    client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)
    client.predict("What is Wee Breathers?", [], "All", "All", api_name="/chat")
    client.submit("Who is it for?", [], "All", "All", api_name="/chat")
    wait_for(lambda: paused_lines(paused), "the second answer to be under way")
    server.send_signal(kill)
    server.wait(timeout=PATIENCE_S)

    store = ConversationStore(settings.conversations_path)  # opened after the kill, as a restart would
    (conversation,) = store.list(LOCAL_USER)
    saved = [(message.role, message.content) for message in store.messages(conversation.id, LOCAL_USER)]
    assert [role for role, _ in saved] == ["user", "assistant", "user"]  # only the answer being written is lost
    assert (
        saved[0][1] == "What is Wee Breathers?" and "Wee Breathers" in saved[1][1] and saved[2][1] == "Who is it for?"
    )
    restarted = served_app(env, free_port(), fake_embedder=True)  # the app starts again over the same file
    assert restarted.poll() is None
    assert [summary.id for summary in store.list(LOCAL_USER)] == [conversation.id]
