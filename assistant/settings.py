"""All configuration, read once at start-up from ``PROMISE_*`` environment variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The name under which the packaged all-MiniLM-L6-v2 is recorded; any other value is a local model path.
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROMISE_", extra="ignore")

    # Where things live.
    store_dir: Path = PROJECT_ROOT / "vectorstore"
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    eval_cases: Path = PROJECT_ROOT / "tests" / "data" / "dev.jsonl"
    collection: str = "promise_notes"

    # A Chroma server instead of the embedded store, when a host is given.
    chroma_host: str | None = None
    chroma_port: int = 8000

    # Embeddings.
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_batch_size: int = Field(default=64, ge=1)

    # Chunking: all-MiniLM-L6-v2 reads 256 word pieces, about 180 words of English.
    chunk_max_words: int = Field(default=150, ge=20)
    max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1)

    # Retrieval.
    top_k: int = Field(default=5, ge=1)
    candidates: int = Field(default=30, ge=1)
    rrf_k: int = Field(default=60, ge=1)
    # Reciprocal-rank weights. BM25 counts double: names of projects and organisations carry most
    # questions, and the small embedder knows few of them (chosen on tests/data/calibration.jsonl).
    dense_weight: float = Field(default=0.5, ge=0)
    sparse_weight: float = Field(default=1.0, ge=0)
    near_duplicate_jaccard: float = Field(default=0.8, gt=0, le=1)
    max_query_chars: int = Field(default=2000, ge=1)

    # Answers.
    llm: str = "llamacpp"  # llamacpp | openai | extractive
    cache_dir: Path = PROJECT_ROOT / ".cache"  # the assembled model and the llama.cpp server log
    llm_model: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"  # a packaged model (see assistant/llm.py)
    llm_model_path: Path | None = None  # any other GGUF file instead
    llm_port: int = 0  # 0: a free port on 127.0.0.1
    llm_context: int = 4096
    llm_threads: int = 2
    llm_start_timeout: float = 180.0
    llm_timeout: float = 120.0
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_api_key: str = "not-needed"
    # Below this relevance (mean of the best passage's cosine similarity and its idf-weighted coverage
    # of the question's words) the notes are taken not to cover the question; see README for calibration.
    relevance_threshold: float = Field(default=0.40, ge=0, le=1)
    # A sentence is supported by a passage holding this share of its (idf-weighted) content words,
    # and every number and name in it.
    support_threshold: float = Field(default=0.6, ge=0, le=1)
    answer_passages: int = Field(default=3, ge=1)
    passage_words: int = Field(default=60, ge=10)
    max_answer_tokens: int = Field(default=160, ge=16)
    extractive_sentences: int = Field(default=3, ge=1)
    briefing_points: int = Field(default=6, ge=3)

    # The web app. Serving beyond this machine (any host but loopback) requires auth.
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=0, le=65535)
    auth: str | None = None  # "user:password"
    auth_file: Path | None = None  # one "user:password" per line
    concurrency: int = Field(default=2, ge=1)  # answers worked on at once; the rest wait in the queue
    max_upload_files: int = Field(default=10, ge=1)

    @property
    def upload_dir(self) -> Path:
        """Documents added in the app: always inside the store's own directory."""
        return self.store_dir / "uploads"
