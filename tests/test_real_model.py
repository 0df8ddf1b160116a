"""The real local generator (llama.cpp server, packaged Qwen GGUF): it writes answers, survives kill -9,
and never outlives the app."""

import os
import platform
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from assistant.answer.answering import Answerer
from assistant.llm import Generator, make_llm
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.store import open_store
from tests.conftest import child_env, free_port, language

pytestmark = pytest.mark.slow

SMALL_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


def model_servers(parent: int) -> list[int]:
    """Live (not zombie) llama.cpp server processes whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and state != "Z" and b"llama_cpp.server" in command:
            found.append(int(entry.name))
    return found


def gone(pid: int, timeout: float = 60.0) -> bool:
    """The process has ended and been reaped: no entry in /proc, not even a zombie."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(platform.machine() != "x86_64" or not shutil.which("objdump"), reason="x86-64 with objdump only")
def test_the_llama_cpp_build_uses_no_instruction_a_vm_may_refuse():
    """AVX2/FMA/F16C is the floor; AVX-512 (zmm registers) or AMX (tile instructions) in the library would die
    with an illegal instruction on a CPU, or a VM, that lacks or withholds them."""
    import llama_cpp

    [library] = Path(llama_cpp.__file__).parent.glob("lib/libggml-cpu*.so")
    listing = subprocess.run(["objdump", "-d", str(library)], capture_output=True, text=True, check=True).stdout
    assert "ymm" in listing and "vfmadd" in listing  # AVX2 and FMA: the build is not a slow generic one
    assert "zmm" not in listing
    assert not re.search(r"\b(tilezero|tileloadd|tdpb\w*|ldtilecfg)\b", listing)


@pytest.fixture(scope="module")
def generator(real_settings) -> Generator:
    generator = make_llm(real_settings.model_copy(update={"llm": "llamacpp"}), progress=False)
    assert generator.llm is not None, generator.notice
    return generator


@pytest.fixture(scope="module")
def real_answerer(real_settings, real_embeddings, generator) -> Answerer:
    retriever = HybridRetriever(open_store(real_settings, real_embeddings, language()), real_settings)
    return Answerer(
        retriever, generator.llm, Prompts.load(), real_settings, language(), generator.name, generator.restart
    )


def _valid_citations(answer) -> bool:
    shown = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    return bool(shown) and shown <= {c.n for c in answer.citations}


def test_the_model_writes_a_cited_answer(real_answerer, generator):
    answer = real_answerer.answer("What is Wee Breathers and who created it?")
    # The gate let it through and every kept sentence is the model's: no extractive fallback stood in.
    assert answer.answered and answer.generator == generator.name and answer.notice is None, answer
    assert _valid_citations(answer)
    assert any(c.passage.metadata.organisation == "Scottish Attachment in Action" for c in answer.citations)


def test_the_model_rewrites_a_follow_up_and_answers_it(real_answerer, generator):
    history = [
        {"role": "user", "content": "Tell me about the Why Not? Trust's project."},
        {"role": "assistant", "content": "The Why Not? Trust developed Thinking Space [1]."},
    ]
    question = "What did it find in Polmont Prison?"
    standalone = real_answerer.followups.standalone(question, history)  # a failed rewrite raises here
    assert standalone != question and "Polmont" in standalone
    answer = real_answerer.answer(question, history)
    assert answer.answered and answer.generator == generator.name and answer.notice is None, answer
    assert _valid_citations(answer)
    assert any(c.passage.metadata.organisation == "Why Not? Trust" for c in answer.citations)


def test_refusal_never_reaches_the_model(real_answerer):
    answer = real_answerer.answer("What is the capital of France?")
    assert not answer.answered and answer.citations == []


def test_a_server_killed_mid_session_is_restarted_and_the_next_question_answered(real_answerer, generator):
    [server] = model_servers(os.getpid())
    os.kill(server, signal.SIGKILL)
    assert gone(server) or model_servers(os.getpid()) == []
    answer = real_answerer.answer("What did the Why Not? Trust find in Polmont Prison?")
    assert answer.answered and answer.generator == generator.name and answer.notice is None, answer
    [restarted] = model_servers(os.getpid())
    assert restarted != server


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_no_model_server_outlives_the_app(stop, real_settings, tmp_path, served_app):
    environment = child_env(store_dir=real_settings.store_dir, llm="llamacpp", llm_model=SMALL_MODEL,
                            log_file=tmp_path / "promise.log")  # fmt: skip
    # Python ignores Ctrl-C in a process started with SIGINT ignored, as a background job may be.
    app = served_app(environment, free_port(), preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    [server] = model_servers(app.pid)
    app.send_signal(stop)
    assert app.wait(timeout=60) is not None
    assert gone(server), "the llama.cpp server outlived the app"
