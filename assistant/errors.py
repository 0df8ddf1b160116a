"""The project's errors. Each carries a message fit to show a user as one sentence."""


class PromiseError(Exception):
    """Base class: the CLI and the UI print ``str(error)`` and nothing else."""


class ConfigError(PromiseError):
    """A setting is missing or contradicts the state on disk."""


class StoreError(PromiseError):
    """The vector store cannot be opened, read or written."""


class EmbeddingModelMismatch(StoreError):
    """The collection was built with a different embedding model."""


class DocumentError(PromiseError):
    """One document cannot be ingested; the others still can."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class QueryError(PromiseError):
    """A question or search the assistant will not run, such as an empty one."""


class GeneratorUnavailable(PromiseError):
    """The configured generator cannot be started; the caller falls back to extractive answers."""


class GeneratorFailed(PromiseError):
    """A request to a running generator failed, after one restart of a local server; answers go extractive."""


class AnswerStopped(PromiseError):
    """The user pressed Stop: the model's stream was closed, and only what was already shown stands."""
