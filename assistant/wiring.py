"""The one place the application is put together from its settings.

settings → embeddings (``make_embeddings``) → store (``open_store``) → retriever (``HybridRetriever``)
→ generator (``make_llm``) → ``Answerer``, with the ``ProjectFinder`` and ``Briefer`` that share its
retriever, relevance gate and generator (an ``Assistant``), and the ``Library`` beside it. The command
line, the app, the bench and the evaluation build through these functions, and so can a notebook::

    from assistant.settings import load_settings
    from assistant.wiring import build_answerer

    answerer = build_answerer(load_settings())
    print(answerer.answer("What is Wee Breathers?").text)

Each function takes what it would otherwise build (embeddings, a store, a retriever) when the caller
already has one: the bench shares one loaded embedder across its scratch stores.
"""

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from assistant.embeddings import make_embeddings
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import ChunkStore, open_store

if TYPE_CHECKING:
    from assistant.answer.answering import Answerer
    from assistant.answer.finder import ProjectFinder
    from assistant.briefer import Briefer
    from assistant.library import Library


@dataclass(frozen=True)
class Assistant:
    """The three faces of the core over one retriever, relevance gate and generator."""

    answerer: "Answerer"  # chat answers and follow-ups
    finder: "ProjectFinder"  # projects that tackled a challenge
    briefer: "Briefer"  # briefings with cited key points


def _on_stderr(notice: str) -> None:
    print(notice, file=sys.stderr)


def open_chunk_store(settings: Settings, rebuild: bool = False, embeddings: Embeddings | None = None) -> ChunkStore:
    """The store the settings name, with the configured embedder (loaded on first use, not here) and the language
    model that finds each sentence's entities as it is stored."""
    from assistant.answer.language import load_language

    embedder = embeddings if embeddings is not None else make_embeddings(settings)
    return open_store(settings, embedder, load_language(settings.language_model), rebuild=rebuild)


def build_retriever(settings: Settings, store: ChunkStore | None = None) -> HybridRetriever:
    """Hybrid (dense + BM25) search over the live chunks of ``store`` (default: the configured one)."""
    return HybridRetriever(store if store is not None else open_chunk_store(settings), settings)


def build_answerer(
    settings: Settings,
    retriever: HybridRetriever | None = None,
    notify: Callable[[str], None] = _on_stderr,
) -> "Answerer":
    """Grounded answers with the configured generator; the embedding model is loaded before this returns.

    The generator comes first, so a wrong generator setting fails before the slow embedder load; when a
    local model cannot start, its fallback notice goes to ``notify`` (stderr by default) and, through
    ``assistant.llm``'s logger, to whatever logging the caller set up (the CLI: the log file).
    """
    from assistant.answer.answering import Answerer
    from assistant.answer.language import load_language
    from assistant.llm import make_llm
    from assistant.prompts import Prompts

    generator = make_llm(settings)
    if generator.notice:
        notify(generator.notice)
    retriever = retriever if retriever is not None else build_retriever(settings)
    retriever.warm_up()
    prompts = Prompts.load(settings.prompts_dir)
    language = load_language(settings.language_model)
    return Answerer(retriever, generator.llm, prompts, settings, language, generator.name, generator.restart)


def assistant_for(answerer: "Answerer") -> Assistant:
    """The finder and the briefer beside an answerer, sharing its retriever, gate and generator."""
    from assistant.briefer import Briefer

    finder = answerer.finder
    return Assistant(answerer, finder, Briefer(finder, answerer.prompts, answerer.settings, answerer.model))


def build_assistant(
    settings: Settings, retriever: HybridRetriever | None = None, notify: Callable[[str], None] = _on_stderr
) -> Assistant:
    """Answerer, finder and briefer with the configured generator (see ``build_answerer``)."""
    return assistant_for(build_answerer(settings, retriever, notify))


def build_library(settings: Settings, retriever: HybridRetriever | None = None) -> "Library":
    """Uploads and removals into the retriever's store (default: a retriever over the configured store),
    refreshing that retriever after each; pass the answerer's retriever so answers see new documents."""
    from assistant.library import Library

    retriever = retriever if retriever is not None else build_retriever(settings)
    return Library(retriever.store, retriever, settings)
