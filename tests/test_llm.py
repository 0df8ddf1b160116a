"""Choosing the generator: settings pick it; a local model that cannot load falls back, saying so."""

from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.llm import make_llm
from assistant.settings import Settings


def test_extractive_needs_no_model():
    generator = make_llm(Settings(llm="extractive"))
    assert generator.llm is None and generator.name == "extractive" and generator.notice is None


def test_a_local_model_that_cannot_load_falls_back_to_extractive_with_a_notice(tmp_path: Path):
    missing = tmp_path / "absent.gguf"
    generator = make_llm(Settings(llm="llamacpp", llm_model_path=missing, cache_dir=tmp_path), progress=False)
    assert generator.llm is None and generator.name == "extractive"
    assert generator.notice and "answering extractively" in generator.notice


def test_a_broken_model_file_falls_back_too(tmp_path: Path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 1024)
    settings = Settings(llm="llamacpp", llm_model_path=broken, cache_dir=tmp_path, llm_start_timeout=60)
    generator = make_llm(settings, progress=False)
    assert generator.llm is None and generator.notice


def test_openai_mode_uses_the_configured_endpoint():
    generator = make_llm(Settings(llm="openai", openai_base_url="http://127.0.0.1:9/v1", openai_model="m"))
    assert generator.name == "openai:m" and generator.llm is not None
    with pytest.raises(ConfigError):
        make_llm(Settings(llm="openai"))
    with pytest.raises(ConfigError):
        make_llm(Settings(llm="gpt"))
