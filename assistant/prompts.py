"""Prompts are text files in prompts/, loaded by name."""

from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ConfigError
from assistant.settings import shipped_dir


@dataclass(frozen=True)
class Prompts:
    answer_system: str
    answer_user: str
    rewrite: str
    briefing_system: str

    @classmethod
    def load(cls, directory: Path | None = None) -> "Prompts":
        """The prompts in ``directory`` (settings.prompts_dir); by default the ones that ship with the code."""
        directory = directory or shipped_dir("prompts")

        def read(name: str) -> str:
            try:
                return (directory / f"{name}.txt").read_text(encoding="utf-8").strip()
            except OSError:
                raise ConfigError(f"The prompt file {directory / name}.txt is missing.") from None

        return cls(
            answer_system=read("answer_system"),
            answer_user=read("answer_user"),
            rewrite=read("rewrite"),
            briefing_system=read("briefing_system"),
        )
