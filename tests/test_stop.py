"""Stop in the chat, with a model reached over HTTP as ``PROMISE_LLM=openai`` reaches one (a scripted endpoint
streaming a ten-second answer): the model's stream is closed at once, the saved answer is what the user was
shown, and Retry works straight after. The chat's own handlers are driven as Gradio drives them; the browser
test of the same is in tests/test_chat_browser.py."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.answer.answering import Answerer
from assistant.app import build_ui
from assistant.conversations import LOCAL_USER, ConversationStore
from assistant.llm import make_llm
from assistant.prompts import Prompts
from assistant.ui_ask import AskTab
from assistant.ui_chats import STOPPED
from tests.conftest import fake_core, language, wait_for
from tests.fake_endpoint import ScriptedEndpoint

SECONDS_PER_WORD = 0.1  # the seeds' passages on Wee Breathers make an answer of well over 100 words: 10 s


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[tuple[AskTab, ScriptedEndpoint, ConversationStore]]:
    """The Ask tab of the app whose answers come from the scripted endpoint."""
    answerer, library, settings = fake_core(tmp_path / "store")
    with ScriptedEndpoint(SECONDS_PER_WORD).serving() as endpoint:
        settings = settings.model_copy(
            update={"llm": "openai", "openai_base_url": endpoint.url, "openai_model": "fake"}
        )
        model = Answerer(
            answerer.retriever, make_llm(settings).llm, Prompts.load(), settings, language(), "openai:fake"
        )
        demo = build_ui(model, library)
        tab = next(fn.fn.__self__ for fn in demo.fns.values() if fn.api_name == "chat")  # type: ignore[union-attr]
        yield tab, endpoint, ConversationStore(settings.conversations_path)


def last_answer(update: dict[Any, Any], tab: AskTab) -> str:
    chat = update[tab.chatbot]
    return str(chat[-1]["content"]) if chat and chat[-1]["role"] == "assistant" else ""


def test_stop_closes_the_models_stream_at_once_and_saves_what_was_shown(
    chat: tuple[AskTab, ScriptedEndpoint, ConversationStore],
) -> None:
    tab, endpoint, store = chat
    request = SimpleNamespace(username=None, session_hash="session-1")
    updates: list[dict[Any, Any]] = []

    def asking() -> None:  # as Gradio's worker: each update taken, then the next asked for
        for update in tab.respond("What is Wee Breathers?", [], [], "All", "All", [], "", {}, request):  # type: ignore[arg-type]
            updates.append(update)

    worker = threading.Thread(target=asking)
    worker.start()
    wait_for(lambda: endpoint.words_sent >= 40, "the model to be halfway through a sentence or more")
    assert last_answer(updates[-1], tab), "some of the answer is shown before Stop"
    pressed = time.monotonic()
    chat_after = tab.stopped(updates[-1][tab.chatbot], updates[-1][tab.conversation_id], request)  # type: ignore[arg-type]
    closed_at = wait_for(lambda: endpoint.closed_at, "the endpoint to see its stream closed", timeout=10)
    assert closed_at - pressed < 1.0 and endpoint.finished == 0
    worker.join(timeout=5)
    assert not worker.is_alive()

    shown = last_answer(updates[-1], tab)
    conversation = store.list(LOCAL_USER)[0]
    saved = store.messages(conversation.id, LOCAL_USER)
    assert [message.role for message in saved] == ["user", "assistant"]
    assert saved[1].content == f"{plain(shown)} ({STOPPED})"  # the sentences shown, nothing written after Stop
    assert chat_after[-1]["content"].startswith(shown) and STOPPED in chat_after[-1]["content"]

    endpoint.seconds_per_word = 0.0  # the answer asked again comes at once
    retried = tab.retry(conversation.id, request)  # type: ignore[arg-type]
    assert retried[tab.question_box] == "What is Wee Breathers?"
    final = list(tab.respond("What is Wee Breathers?", retried[tab.chatbot], retried[tab.history], "All", "All",
                             retried[tab.turns], conversation.id, {}, request))[-1]  # type: ignore[arg-type]  # fmt: skip
    saved = store.messages(conversation.id, LOCAL_USER)
    assert [message.role for message in saved] == ["user", "assistant"] and endpoint.finished == 1
    assert "Wee Breathers" in saved[1].content and STOPPED not in saved[1].content
    assert STOPPED not in last_answer(final, tab)


def plain(markdown: str) -> str:
    """The chat's escaped Markdown as the text it shows."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
