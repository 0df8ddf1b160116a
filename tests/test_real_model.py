"""Smoke test of the real local generator (llama.cpp server with the packaged Qwen GGUF)."""

import re

import pytest

from assistant.answering import Answerer
from assistant.llm import make_llm
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.store import open_store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_answerer(real_settings, real_embeddings):
    generator = make_llm(real_settings.model_copy(update={"llm": "llamacpp"}), progress=False)
    assert generator.llm is not None, generator.notice
    retriever = HybridRetriever(open_store(real_settings, real_embeddings), real_settings)
    return Answerer(retriever, generator.llm, Prompts.load(), real_settings, generator.name)


def _valid_citations(answer) -> bool:
    return {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} <= {c.n for c in answer.citations}


def test_fact(real_answerer):
    answer = real_answerer.answer("What is Wee Breathers and who created it?")
    assert answer.answered and _valid_citations(answer)
    assert answer.generator.startswith("llamacpp:")
    assert any(c.passage.metadata.organisation == "Scottish Attachment in Action" for c in answer.citations)


def test_follow_up(real_answerer):
    history = [
        {"role": "user", "content": "Tell me about the Why Not? Trust's project."},
        {"role": "assistant", "content": "The Why Not? Trust developed Thinking Space [1]."},
    ]
    answer = real_answerer.answer("What did it find in Polmont Prison?", history)
    assert answer.answered and _valid_citations(answer)
    assert any(c.passage.metadata.organisation == "Why Not? Trust" for c in answer.citations)


def test_refusal(real_answerer):
    answer = real_answerer.answer("What is the capital of France?")
    assert not answer.answered and answer.citations == []
