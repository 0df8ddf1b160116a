"""The one place the application is put together (assistant.wiring), the developer tools kept out of the
runtime (the bench extra), and the environment left to settings.py."""

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

import assistant.wiring as wiring
from assistant.errors import ConfigError
from assistant.llm import Generator
from assistant.settings import PROJECT_ROOT, Settings
from tests.conftest import DEV_CASES, SEEDS, HashingEmbeddings, ingest_seeds

PRODUCT = sorted([*(PROJECT_ROOT / "assistant").glob("*.py"), *(PROJECT_ROOT / "ingest").glob("*.py")])
BENCH_EXTRA = ("matplotlib", "langchain_chroma", "langchain_text_splitters")


def _product_lines(pattern: str) -> list[str]:
    found = re.compile(pattern)
    return [
        f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for path in PRODUCT
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if found.search(line)
    ]


@pytest.fixture
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> HashingEmbeddings:
    """The hashing embedder wherever the wiring would make the configured one."""
    embeddings = HashingEmbeddings()
    monkeypatch.setattr(wiring, "make_embeddings", lambda settings: embeddings)
    return embeddings


def test_the_wiring_builds_one_answerer_and_library_over_one_retriever(fake_settings: Settings, fake_embedder):
    ingest_seeds(fake_settings, fake_embedder)
    answerer = wiring.build_answerer(fake_settings)
    library = wiring.build_library(fake_settings, answerer.retriever)
    assert answerer.generator == "extractive" and answerer.retriever.store.embeddings is fake_embedder
    assert library.documents() and len(answerer.retriever) > 100
    answer = answerer.answer("What is Wee Breathers?")
    assert answer.answered and "Wee Breathers" in answer.text


def test_a_wrong_generator_setting_fails_before_the_store_or_the_embedder_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def no_embedder(settings: Settings) -> None:
        raise AssertionError("the embedder was made before the generator setting was checked")

    monkeypatch.setattr(wiring, "make_embeddings", no_embedder)
    settings = Settings(store_dir=tmp_path / "store", llm="openai", openai_base_url=None)
    with pytest.raises(ConfigError, match="PROMISE_OPENAI_BASE_URL"):
        wiring.build_answerer(settings)
    assert not (tmp_path / "store").exists()


def test_a_generator_fallback_notice_is_passed_on(fake_settings: Settings, monkeypatch: pytest.MonkeyPatch):
    import assistant.llm

    notice = "The local model could not be loaded (test); answering extractively instead."
    monkeypatch.setattr(assistant.llm, "make_llm", lambda settings: Generator(None, "extractive", notice))
    retriever = wiring.build_retriever(fake_settings, ingest_seeds(fake_settings))
    notices: list[str] = []
    answerer = wiring.build_answerer(fake_settings, retriever, notify=notices.append)
    assert notices == [notice] and answerer.retriever is retriever


def test_eval_scores_ours_and_the_textbook_baseline_through_the_one_store_factory(
    fake_settings: Settings, fake_embedder
):
    from assistant.evaluation import run_evaluation

    ingest_seeds(fake_settings, fake_embedder)
    out = io.StringIO()
    assert run_evaluation(fake_settings, DEV_CASES, k=5, baseline=True, answers=False, out=out) == 0
    rows = out.getvalue().splitlines()
    assert [row.split()[0] for row in rows] == ["hybrid", "baseline"]
    assert all("hit@5=" in row and "MRR@5=" in row for row in rows)


def test_two_textbook_baselines_in_one_process_keep_their_own_passages():
    from assistant.evaluation import TextbookBaseline

    class Wider(HashingEmbeddings):
        dimensions = 96  # another embedder: vectors of another length

    files = sorted(SEEDS.glob("*.txt"))
    first = TextbookBaseline(files, HashingEmbeddings())
    second = TextbookBaseline(files, Wider())
    assert first.chunks == second.chunks > 0
    hits = second.search("Wee Breathers", k=50)
    assert len(hits) == min(50, second.chunks)
    assert len({(hit.source, hit.text) for hit in hits}) == len(hits)  # no passage twice


def test_a_missing_bench_package_is_one_sentence_naming_the_extra(monkeypatch: pytest.MonkeyPatch):
    from assistant.evaluation import bench_module

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigError, match=r"matplotlib is not installed; install the bench extra: pip install -e"):
        bench_module("matplotlib")


@pytest.mark.slow
def test_the_app_and_the_command_line_need_no_bench_package():
    blocked = "".join(f"sys.modules[{name!r}] = None; " for name in BENCH_EXTRA)
    script = f"import sys; {blocked}import assistant.cli, assistant.app, assistant.wiring, assistant.bench"
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_one_constructor_each_for_the_embedder_the_chroma_client_and_the_generator():
    def calls(name: str) -> list[str]:
        return _product_lines(rf"(?<!class )(?<!def )\b{name}\(")

    assert len(calls("HuggingFaceEmbeddings")) == 1 and calls("SentenceTransformer") == []
    clients = _product_lines(r"chromadb\.\w*Client\(")  # persistent, server, in memory: one function
    assert len(clients) == 3 and {line.split(":")[0] for line in clients} == {"assistant/store.py"}
    assert len(calls("ChatOpenAI")) == 1 and len(calls("make_llm")) == 1
    assert len(calls("Answerer")) == 1 and len(calls("HybridRetriever")) == 1 and len(calls("open_store")) == 1


def test_nothing_imports_the_command_line_and_the_environment_is_settings_business():
    assert _product_lines(r"(from|import) assistant\.cli\b|from assistant import cli\b") == []
    environment = _product_lines(r"os\.environ|getenv|putenv")
    assert {line.split(":")[0] for line in environment} <= {"assistant/settings.py"}
    heavy = _product_lines(r"^\s*(import|from) (" + "|".join(BENCH_EXTRA) + r")\b")
    assert heavy == []  # the bench extra is imported through evaluation.bench_module, when needed


def test_offline_loading_is_said_to_the_model(monkeypatch: pytest.MonkeyPatch):
    import os

    import langchain_huggingface

    from assistant.embeddings import LazyEmbeddings

    made: list[dict] = []

    class Recorder:
        def __init__(self, **kwargs) -> None:
            made.append(kwargs)

    monkeypatch.setattr(langchain_huggingface, "HuggingFaceEmbeddings", Recorder)
    before = dict(os.environ)
    LazyEmbeddings("all-MiniLM-L6-v2", 8)._loaded()
    assert made and made[0]["model_kwargs"]["local_files_only"] is True
    assert dict(os.environ) == before
