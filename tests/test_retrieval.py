"""Hybrid retrieval on the seeds with the real embedding model and a real Chroma store."""

import itertools
import json
import subprocess
from dataclasses import asdict

import pytest

from assistant.cli import main
from assistant.errors import QueryError
from assistant.evaluation import TextbookBaseline, hit_from_metadata, load_cases, score_retrieval
from assistant.models import SearchFilters
from assistant.retrieval import HybridRetriever
from assistant.store import open_store
from tests.conftest import DEV_CASES, SEEDS, assistant_command, child_env, language


@pytest.fixture(scope="module")
def retriever(real_settings, real_embeddings) -> HybridRetriever:
    return HybridRetriever(open_store(real_settings, real_embeddings, language()), real_settings)


def test_dev_set_hit_and_mrr_beat_the_textbook_baseline(retriever, real_embeddings):
    cases = load_cases(DEV_CASES)

    def ours(question):
        results = retriever.search(question, k=5)
        return [
            hit_from_metadata(r.passage.metadata.source, r.passage.text, asdict(r.passage.metadata)) for r in results
        ], 0.0

    baseline = TextbookBaseline(sorted(SEEDS.glob("*.txt")), real_embeddings)
    hybrid = score_retrieval("hybrid", cases, ours, 5)
    textbook = score_retrieval("baseline", cases, lambda q: (baseline.search(q, 5), 0.0), 5)
    assert hybrid.hit_at_k >= 0.95 and hybrid.mrr_at_k >= 0.85, hybrid
    assert hybrid.hit_at_k >= textbook.hit_at_k and hybrid.mrr_at_k > textbook.mrr_at_k, (hybrid, textbook)


def test_results_are_distinct_units_with_metadata(retriever):
    results = retriever.search("Which projects support residential childcare staff to reflect on their practice?", k=5)
    assert len(results) == 5
    assert len({r.passage.metadata.unit_id for r in results}) == 5
    assert [r.rank for r in results] == [1, 2, 3, 4, 5]
    assert all(a.score >= b.score for a, b in itertools.pairwise(results))
    organisations = {r.passage.metadata.organisation for r in results}
    assert {"SPRAG", "Circle"} <= organisations


def test_filters_by_source_event_organisation_and_date(retriever):
    by_source = retriever.search("funding", k=5, filters=SearchFilters(source="000_8499c543783cf847.txt"))
    assert by_source and {r.passage.metadata.source for r in by_source} == {"000_8499c543783cf847.txt"}
    by_event = retriever.search("fathers", k=3, filters=SearchFilters(event="learning collaborative"))
    assert by_event and all("Learning Collaborative" in r.passage.metadata.event for r in by_event)
    by_org = retriever.search("what did they do", k=3, filters=SearchFilters(organisation="king's trust"))
    assert by_org and all("King" in (r.passage.metadata.organisation or "") for r in by_org)
    in_2025 = retriever.search("family support", k=5, filters=SearchFilters(date_from="2025-01-01", date_to="2025-12"))
    assert in_2025 and all((r.passage.metadata.date or "").startswith("2025") for r in in_2025)
    assert retriever.search("family support", k=5, filters=SearchFilters(date_to="2020")) == []


def test_empty_and_overlong_queries_are_refused(retriever):
    for query in ("", "   \n\t", "?!"):
        with pytest.raises(QueryError):
            retriever.search(query)
    with pytest.raises(QueryError, match="10,000 characters"):
        retriever.search("x" * 10_000)


def test_search_json_is_one_object_with_the_documented_fields(real_settings, clean_env, capsys):
    clean_env(store_dir=real_settings.store_dir)
    assert main(["search", "What is Wee Breathers?", "-k", "3", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["query"] == "What is Wee Breathers?"
    assert len(payload["results"]) == 3
    expected = {
        "rank",
        "score",
        "chunk_id",
        "source",
        "event",
        "date",
        "organisation",
        "project",
        "section",
        "contact",
        "text",
    }
    for result in payload["results"]:
        assert set(result) == expected
    top = payload["results"][0]
    assert top["organisation"] == "Scottish Attachment in Action" and top["date"] == "2024-12-04"
    assert "Wee Breathers" in top["text"]


@pytest.mark.slow  # starts processes
def test_cli_bad_queries_give_a_message_not_a_traceback(real_settings):
    env = child_env(store_dir=real_settings.store_dir)
    for query in ("", "y" * 10_000):
        done = subprocess.run(assistant_command("search", query), capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert done.stderr.strip().count("\n") == 0 and "question" in done.stderr


def test_sources_lists_documents_with_counts_and_dates(real_settings, clean_env, capsys):
    clean_env(store_dir=real_settings.store_dir)
    assert main(["sources", "--json"]) == 0
    documents = {d["source"]: d for d in json.loads(capsys.readouterr().out)["documents"]}
    assert len(documents) == 5
    assert documents["001_5b5a222d77539bfb.txt"]["date"] == "2024-12-04"
    assert all(d["chunks"] > 0 for d in documents.values())


def test_one_forward_pass_gives_the_chunk_vector_and_sentence_vectors(real_embeddings):
    """The chunk's vector from the token embeddings equals the model's own; a sentence's is close to its own."""
    import numpy as np

    from assistant.embeddings import embed_with_spans

    text = "Notes · Why Not? Trust\nThe Trust developed Thinking Space. Young people prefer confidential space."
    spans = [(23, 58), (59, len(text))]
    vectors, sentence_vectors = embed_with_spans(real_embeddings, [text], [spans])
    assert np.dot(vectors[0], real_embeddings.embed_documents([text])[0]) > 0.9999
    for (start, end), vector in zip(spans, sentence_vectors[0], strict=True):
        assert np.dot(vector, real_embeddings.embed_query(text[start:end])) > 0.7


# --- the hybrid retriever as a LangChain retriever (hashing embedder) --------------------------------


def test_the_langchain_retriever_gives_documents_with_the_chunk_metadata(fake_store, fake_settings):
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    hybrid = HybridRetriever(fake_store, fake_settings)
    retriever = hybrid.as_retriever(k=3)
    assert isinstance(retriever, BaseRetriever)
    question = "Which projects support residential childcare staff?"
    documents = retriever.invoke(question)
    results = hybrid.search(question, k=3)
    assert len(documents) == 3 and all(isinstance(document, Document) for document in documents)
    for document, result in zip(documents, results, strict=True):
        assert document.page_content == result.passage.text
        assert document.id == document.metadata["chunk_id"] == result.passage.chunk_id
        assert document.metadata["rank"] == result.rank and document.metadata["score"] == result.score
        assert {k: document.metadata[k] for k in asdict(result.passage.metadata)} == asdict(result.passage.metadata)
    filtered = hybrid.as_retriever(filters=SearchFilters(source="000_8499c543783cf847.txt")).invoke("funding")
    assert filtered and {d.metadata["source"] for d in filtered} == {"000_8499c543783cf847.txt"}
    with pytest.raises(QueryError):
        retriever.invoke("   ")


def test_the_langchain_retriever_composes_in_a_chain(fake_store, fake_settings):
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    retriever = HybridRetriever(fake_store, fake_settings).as_retriever(k=2)
    sources = retriever | RunnableLambda(lambda documents: [d.metadata["source"] for d in documents])
    assert len(sources.invoke("kinship care")) == 2
    chain = {"passages": retriever, "question": RunnablePassthrough()} | RunnableLambda(
        lambda inputs: f"{inputs['question']}: {len(inputs['passages'])} passages"
    )
    assert chain.invoke("kinship care") == "kinship care: 2 passages"
    assert [len(batch) for batch in retriever.batch(["kinship care", "fathers"])] == [2, 2]
