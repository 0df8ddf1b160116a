"""Choosing the generator: settings pick it; a local model that cannot load falls back, saying so."""

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.llm import make_llm
from assistant.settings import Settings


def test_extractive_needs_no_model():
    generator = make_llm(Settings(llm="extractive"))
    assert generator.llm is None and generator.name == "extractive" and generator.notice is None


def test_a_missing_model_file_is_a_configuration_mistake(tmp_path: Path):
    with pytest.raises(ConfigError, match="PROMISE_LLM_MODEL_PATH"):
        make_llm(Settings(llm="llamacpp", llm_model_path=tmp_path / "absent.gguf", cache_dir=tmp_path))


@pytest.mark.slow  # starts the llama.cpp server
def test_a_model_file_the_server_cannot_load_falls_back_to_extractive_with_a_notice(tmp_path: Path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 1024)
    # A fresh checkout has no cache directory yet: the server's log goes there all the same.
    fresh_cache = tmp_path / "not-yet" / "cache"
    settings = Settings(llm="llamacpp", llm_model_path=broken, cache_dir=fresh_cache, llm_start_timeout=60)
    generator = make_llm(settings, progress=False)
    assert generator.llm is None and generator.name == "extractive" and generator.restart is None
    assert generator.notice and "answering extractively" in generator.notice
    assert (fresh_cache / "llama-server.log").is_file()


def test_openai_mode_uses_the_configured_endpoint():
    generator = make_llm(Settings(llm="openai", openai_base_url="http://127.0.0.1:9/v1", openai_model="m"))
    assert generator.name == "openai:m" and generator.llm is not None
    assert generator.restart is None  # an endpoint is not ours to restart
    with pytest.raises(ConfigError):
        make_llm(Settings(llm="openai"))
