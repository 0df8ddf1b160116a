"""A generator that fails cannot take answers down: one restart, then the notes' own sentences, saying so."""

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.answer.answering import Answerer
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.store import open_store
from assistant.wiring import assistant_for
from tests.conftest import language

WEE_BREATHERS = (
    "Scottish Attachment in Action created Wee Breathers, a supervision programme [1]. "
    "The programme is for the education workforce and is attachment-informed and trauma sensitive [1]."
)


class FlakyChat(BaseChatModel):
    """Streams its reply word by word; on the calls listed in ``fail_after`` it raises after that many words."""

    reply: str
    fail_after: dict[int, int]  # call number (from 0) -> words written before the connection drops
    error: type[Exception] = ConnectionError
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "flaky"

    def _words(self) -> Iterator[str]:
        call, self.calls = self.calls, self.calls + 1
        words = self.reply.split(" ")
        for index, word in enumerate(words):
            if self.fail_after.get(call) == index:
                raise self.error("the generator stopped answering")
            yield word if index == len(words) - 1 else word + " "

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage("".join(self._words())))])

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for word in self._words():
            yield ChatGenerationChunk(message=AIMessageChunk(content=word))


class Restarts:
    """Stands in for the local server's restart: counts calls, and can fail like a server that won't start."""

    def __init__(self, works: bool = True) -> None:
        self.calls = 0
        self.works = works

    def __call__(self) -> None:
        self.calls += 1
        if not self.works:
            raise OSError("the model server did not come back")


@pytest.fixture(scope="module")
def retriever(real_settings, real_embeddings) -> HybridRetriever:
    return HybridRetriever(open_store(real_settings, real_embeddings, language()), real_settings)


def answerer(retriever, settings, llm: FlakyChat, restart: Restarts | None) -> Answerer:
    return Answerer(retriever, llm, Prompts.load(), settings, language(), "llamacpp:test", restart)


def valid_citations(answer) -> bool:
    shown = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    return bool(shown) and shown == {citation.n for citation in answer.citations}


def test_a_server_that_died_is_restarted_once_and_the_model_answers(retriever, real_settings):
    restart = Restarts()
    llm = FlakyChat(reply=WEE_BREATHERS, fail_after={0: 0})
    answer = answerer(retriever, real_settings, llm, restart).answer("What is Wee Breathers?")
    assert restart.calls == 1 and llm.calls == 2
    assert answer.answered and answer.notice is None and answer.generator == "llamacpp:test"
    assert "attachment-informed and trauma sensitive" in answer.text and valid_citations(answer)


def test_when_the_restart_fails_the_notes_answer_with_a_one_line_notice(retriever, real_settings):
    restart = Restarts(works=False)
    llm = FlakyChat(reply=WEE_BREATHERS, fail_after={0: 0, 1: 0})
    answer = answerer(retriever, real_settings, llm, restart).answer("What is Wee Breathers?")
    assert restart.calls == 1
    assert answer.answered and answer.generator == "extractive" and valid_citations(answer)
    assert answer.notice and "ConnectionError" in answer.notice and "\n" not in answer.notice
    assert any(c.passage.metadata.organisation == "Scottish Attachment in Action" for c in answer.citations)


def test_a_timeout_is_not_tried_again(retriever, real_settings):
    restart = Restarts()
    llm = FlakyChat(reply=WEE_BREATHERS, fail_after={0: 0}, error=TimeoutError)
    answer = answerer(retriever, real_settings, llm, restart).answer("What is Wee Breathers?")
    assert llm.calls == 1 and restart.calls == 1  # a dead server is still brought back for the next question
    assert answer.answered and answer.notice and "TimeoutError" in answer.notice and valid_citations(answer)


def test_an_endpoint_is_not_restarted_and_still_answers_from_the_notes(retriever, real_settings):
    llm = FlakyChat(reply=WEE_BREATHERS, fail_after={0: 0, 1: 0})
    answer = answerer(retriever, real_settings, llm, None).answer("What is Wee Breathers?")
    assert llm.calls == 1  # no restart to try, so no second attempt
    assert answer.answered and answer.notice and valid_citations(answer)


def test_a_failure_mid_answer_keeps_the_verified_sentences_and_completes_from_the_notes(retriever, real_settings):
    restart = Restarts()
    first_sentence_words = len(WEE_BREATHERS.split(". ")[0].split(" "))
    llm = FlakyChat(reply=WEE_BREATHERS, fail_after={0: first_sentence_words + 2})
    events = list(answerer(retriever, real_settings, llm, restart).stream("What is Wee Breathers?"))
    answer = events[-1].answer
    assert llm.calls == 1, "text was already shown: the model is not asked again"
    assert restart.calls == 1, "the dead server is brought back for the next question"
    assert answer.text.startswith("Scottish Attachment in Action created Wee Breathers")
    assert "The programme is for" not in answer.text, "the cut-off sentence is not shown"
    assert answer.generator == "llamacpp:test + extractive" and answer.notice
    assert len(answer.text.split("[")) > 2 and valid_citations(answer)


def test_a_follow_up_rewrite_that_fails_is_not_swallowed_silently(retriever, real_settings):
    llm = FlakyChat(reply=WEE_BREATHERS, fail_after={0: 0, 1: 0, 2: 0, 3: 0})
    history = [
        {"role": "user", "content": "What is Wee Breathers?"},
        {"role": "assistant", "content": "Scottish Attachment in Action created Wee Breathers [1]."},
    ]
    answer = answerer(retriever, real_settings, llm, Restarts(works=False)).answer("Who is it for?", history)
    assert answer.notice and "ConnectionError" in answer.notice
    assert "Wee Breathers" in answer.standalone_question  # the conversation still carried the subject


def test_a_briefing_whose_model_call_fails_is_written_from_the_notes(retriever, real_settings):
    llm = FlakyChat(reply=WEE_BREATHERS, fail_after={0: 3, 1: 0})
    briefer = assistant_for(answerer(retriever, real_settings, llm, Restarts(works=False))).briefer
    briefing = briefer.brief("supporting families at home")
    assert briefing.answered and briefing.generator == "extractive"
    assert briefing.notice and "ConnectionError" in briefing.notice
    assert {int(n) for point in briefing.points for n in re.findall(r"\[(\d+)\]", point)} == {
        citation.n for citation in briefing.citations
    }


def test_failures_are_logged_with_their_traceback_and_never_the_question(retriever, real_settings, caplog):
    question = "Who created Wee Breathers for school staff?"
    llm = FlakyChat(reply=WEE_BREATHERS, fail_after={0: 0, 1: 0})
    with caplog.at_level(logging.ERROR, logger="assistant"):
        answer = answerer(retriever, real_settings, llm, Restarts(works=False)).answer(question)
    assert answer.answered and answer.notice
    failures = [record for record in caplog.records if record.exc_info]
    assert failures and "ConnectionError" in caplog.text
    assert "school staff" not in caplog.text and "Who created" not in caplog.text


def test_the_chat_shows_the_notice_as_one_line_above_the_answer(retriever, real_settings):
    from assistant.app import answer_markdown_for_chat

    llm = FlakyChat(reply=WEE_BREATHERS, fail_after={0: 0, 1: 0})
    answer = answerer(retriever, real_settings, llm, Restarts(works=False)).answer("What is Wee Breathers?")
    first_line, _, rest = answer_markdown_for_chat(answer, turn=1).partition("\n\n")
    assert first_line.startswith("*Note: The model did not answer") and "ConnectionError" in first_line
    assert "Scottish Attachment in Action" in rest and "(#source-1-1)" in rest
