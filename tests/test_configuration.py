"""Every configuration mistake is one sentence naming its setting: no traceback, exit code 2."""

from pathlib import Path

import pytest

from assistant.cli import main

MISTAKES = {
    "unknown generator": ({"PROMISE_LLM": "gpt"}, "PROMISE_LLM"),
    "unknown packaged model": ({"PROMISE_LLM": "llamacpp", "PROMISE_LLM_MODEL": "llama-70b"}, "PROMISE_LLM_MODEL"),
    "missing model file": (
        {"PROMISE_LLM": "llamacpp", "PROMISE_LLM_MODEL_PATH": "/nowhere/model.gguf"},
        "PROMISE_LLM_MODEL_PATH",
    ),
    "endpoint without an address": ({"PROMISE_LLM": "openai"}, "PROMISE_OPENAI_BASE_URL"),
    "endpoint address that is not a URL": (
        {"PROMISE_LLM": "openai", "PROMISE_OPENAI_BASE_URL": "localhost 8080"},
        "PROMISE_OPENAI_BASE_URL",
    ),
    "a number that is not one": ({"PROMISE_TOP_K": "five"}, "PROMISE_TOP_K"),
    "a port out of range": ({"PROMISE_PORT": "99999"}, "PROMISE_PORT"),
    "a threshold out of range": ({"PROMISE_RELEVANCE_THRESHOLD": "3"}, "PROMISE_RELEVANCE_THRESHOLD"),
    "an embedding model that is not there": ({"PROMISE_EMBEDDING_MODEL": "/nowhere/minilm"}, "/nowhere/minilm"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_configuration_mistake_is_one_sentence_naming_the_setting(mistake, clean_env, capsys, tmp_path: Path):
    environment, named = MISTAKES[mistake]
    clean_env(store_dir=tmp_path / "store", cache_dir=tmp_path / "cache")
    clean_env(**{variable.removeprefix("PROMISE_").lower(): value for variable, value in environment.items()})
    code = main(["ask", "What is Wee Breathers?"])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith("promise-assistant: ") and named in lines[0], captured.err
    assert "Traceback" not in captured.err + captured.out


def test_the_default_generator_is_extractive_and_needs_no_model(clean_env):
    from assistant.settings import load_settings

    assert load_settings().llm == "extractive"


def test_a_prompt_folder_of_ones_own_may_lack_new_prompts_but_not_use_wrong_variables(tmp_path):
    from assistant.errors import ConfigError
    from assistant.prompts import Prompts

    (tmp_path / "answer_system.txt").write_text("Answer from the passages only.", encoding="utf-8")
    prompts = Prompts.load(tmp_path)  # the other files are the shipped ones
    assert prompts.answer_system == "Answer from the passages only."
    assert set(prompts.rewrite.input_variables) == {"conversation", "question"}
    (tmp_path / "answer_user.txt").write_text("Passages: {passages}\nQuestion: {the_question}", encoding="utf-8")
    with pytest.raises(ConfigError, match="must use exactly"):
        Prompts.load(tmp_path)


@pytest.mark.parametrize("command", ["ask", "projects", "brief"])
def test_a_bad_question_is_told_before_any_model_loads(command, clean_env, tmp_path, capsys):
    # An embedding model that cannot load: had it been loaded first, its error would be the one told.
    clean_env(store_dir=tmp_path / "store", embedding_model=str(tmp_path / "no-such-model"))
    assert main([command, "   "]) == 2
    assert "The question is empty" in capsys.readouterr().err
