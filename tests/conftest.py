"""Shared fixtures: settings on temporary stores, a fake embedder, and the real one over the seeds."""

import hashlib
import math
import os
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from assistant.settings import PROJECT_ROOT, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SEEDS = PROJECT_ROOT / "seeds"
DEV_CASES = PROJECT_ROOT / "tests" / "data" / "dev.jsonl"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class HashingEmbeddings(Embeddings):
    """A deterministic bag-of-words embedder: texts sharing words are similar. Counts its calls."""

    dimensions = 64

    def __init__(self) -> None:
        self.embedded_texts = 0

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
        norm = math.sqrt(sum(value * value for value in vector)) or 1.0
        return [value / norm for value in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded_texts += len(texts)
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    for path in target.iterdir():
        path.chmod(0o644)
    return target


@pytest.fixture
def fake_settings(tmp_path: Path, seeds_copy: Path) -> Settings:
    return Settings(
        store_dir=tmp_path / "store", seeds_dir=seeds_copy, embedding_model="fake-hashing", collection="test_notes"
    )


@pytest.fixture(scope="session")
def real_embeddings() -> Embeddings:
    from assistant.embeddings import make_embeddings

    embeddings = make_embeddings(Settings())
    embeddings.embed_query("warm up")
    return embeddings


@pytest.fixture(scope="session")
def real_store_dir(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings) -> Iterator[Path]:
    """The seeds ingested once with the real embedder; tests only read it."""
    from assistant.store import open_store
    from ingest.pipeline import ingest_paths

    store_dir = tmp_path_factory.mktemp("real-store")
    settings = Settings(store_dir=store_dir)
    report = ingest_paths(open_store(settings, real_embeddings), [SEEDS], settings, progress=False)
    assert report.files == 5 and not report.failures
    yield store_dir


@pytest.fixture(scope="session")
def real_settings(real_store_dir: Path) -> Settings:
    return Settings(store_dir=real_store_dir)
