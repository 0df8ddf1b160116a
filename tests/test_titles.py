"""Documents by name: each has a display title made at ingest (its event and date, its first heading, or its file
name), shown on every card, list and export instead of the stored file name; PDF passages carry their pages; a card
links to the original file."""

import json
import re
from pathlib import Path

import pytest

from assistant.briefing_files import to_markdown
from assistant.cli import main
from assistant.models import Answer, Briefing, Citation, Passage, ProjectMatch, document_title
from assistant.rendering import (
    ORIGINALS_ROUTE,
    answer_to_markdown,
    original_links,
    project_cards_html,
    source_cards_html,
)
from assistant.settings import Settings
from assistant.store import ChunkStore, ManifestEntry, open_store
from ingest.loaders import document_from_bytes
from ingest.pipeline import apply, ingest_paths, prepare_file, prepare_text
from tests.conftest import SEEDS, HashingEmbeddings, fake_core, language
from tests.test_loaders import minimal_pdf

HASHED_NAME = re.compile(r"\d{3}_[0-9a-f]{16}")
SEED_TITLES = {
    "000_8499c543783cf847.txt": "Promise Learning Collaborative, November 2025",
    "001_5b5a222d77539bfb.txt": "Promise Partnership Showcase, 4 December 2024",
    "002_eeb01a348512ac74.txt": "Promise Learning Collaborative, 25 March 2025",
    "003_3cc7c248197af859.txt": "Participation Network Online Event",
    "004_2e7505d43a537495.txt": "The Promise",
}
WORDS = (
    "Kinship carers in the harbour towns shared how they keep children close to brothers and sisters, "
    "what helped them through the first months, and which services listened when they asked for support. "
)
# Three pages, a heading and a paragraph on each: one passage per page.
PAGES = (
    "Harbour Learning Event\nDate: 12 May 2025\nMorning session\n" + WORDS * 2,
    "Housing and moving on\n" + WORDS.replace("Kinship carers", "Young people leaving care") * 2,
    "Wee Breathers at the harbour\n" + WORDS.replace("Kinship carers", "Parents at Wee Breathers") * 2,
)


def _cited(passage: Passage, text: str = "Kinship carers in the harbour towns shared advice [1].") -> Answer:
    return Answer("q", "q", text, True, [Citation(1, passage, 1.0)], {}, "extractive", [])


def test_each_seed_is_titled_by_its_event_and_date_never_its_hashed_file_name(fake_store: ChunkStore) -> None:
    manifest = fake_store.manifest()
    assert {source: entry.title for source, entry in manifest.items()} == SEED_TITLES
    for passage in fake_store.live_passages():
        assert passage.metadata.title == SEED_TITLES[passage.metadata.source]
        assert not HASHED_NAME.search(Citation(1, passage, 1.0).label())


def test_a_title_falls_back_to_the_first_heading_then_to_the_file_name_without_its_hash() -> None:
    heading = prepare_text("Minutes of the kinship group\n\nWe met and talked about care.", "a.txt", "/a.txt", 150)
    assert heading.title == "Minutes of the kinship group"
    untitled = "we met and talked about care. it was useful for all of us, and more notes follow."
    assert prepare_text(untitled, "007_0123456789abcdef.txt", "/x", 150).title == "007"
    assert prepare_text(untitled, "harbour_team_notes.md", "/x", 150).title == "harbour team notes"
    assert document_title("Harbour Showcase - 3rd June 2025", "2025-06-03", "a.txt") == "Harbour Showcase, 3 June 2025"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        # a label and a dateline over the headline of a release
        (
            "NEWS RELEASE\nFor release on Monday 2 June 2025\n\nHarbourside Dads wins national award for peer "
            "support\n\nA group of fathers in Arbroath ...",
            "Harbourside Dads wins national award for peer support",
        ),
        (
            "Issued 4 March 2025\n# Sibling Days open in Tayside\n\nFamilies in Dundee ...",
            "Sibling Days open in Tayside",
        ),
        # a breadcrumb, then the page's main heading
        (
            "Home › News › 2025\n# Braeside Trust backs six kinship groups\n\nSix groups ...",
            "Braeside Trust backs six kinship groups",
        ),
        # a site's name, then the page's main heading
        (
            "Tideline Network\n# Winter gathering for foster families\n\nJoin us ...",
            "Winter gathering for foster families",
        ),
        # minutes: the body's name, not the line saying when it met
        (
            "Glenview Family Forum\nNotes of the meeting held on Thursday 3 April 2025 at the library\n\nPresent ...",
            "Glenview Family Forum",
        ),
    ],
)
def test_a_document_is_titled_by_its_headline_never_its_dateline_label_or_breadcrumb(text: str, title: str) -> None:
    """The headline, with the date the document gives after it (as every title shows its date)."""
    shown = prepare_text(text, "upload.md", "/upload.md", 150).title
    assert shown == title or re.fullmatch(rf"{re.escape(title)}, \d{{1,2}} \w+ 2025", shown), shown


def test_an_upload_without_a_title_in_its_text_is_named_by_its_file(tmp_path: Path) -> None:
    _, library, _ = fake_core(tmp_path / "store")
    notes = b"we met at the harbour and talked about kinship care. it was useful. more notes follow here."
    outcome = library.upload("Harbour team notes.txt", notes)
    assert outcome.title == "Harbour team notes"
    entry = next(entry for entry in library.documents() if entry.source == "Harbour team notes.txt")
    assert entry.title == "Harbour team notes"
    titled = library.upload("notes.txt", b"Harbour Kinship Network meeting\n\n" + notes)
    assert titled.title == "Harbour Kinship Network meeting"


def test_pdf_passages_carry_their_pages_through_the_store_to_citations(fake_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "harbour.pdf"
    path.write_bytes(minimal_pdf(*PAGES))
    document = prepare_file(path, fake_settings)
    assert document.title == "Harbour Learning Event, 12 May 2025"
    for chunk in document.chunks:
        page = chunk.metadata.page
        assert page is not None and chunk.metadata.last_page == page
        assert PAGES[page - 1].split("\n")[0] in chunk.text  # each passage's heading is on its page
    assert {chunk.metadata.page for chunk in document.chunks} == {1, 2, 3}

    store = open_store(fake_settings, HashingEmbeddings(), language())
    ingest_paths(store, [path], fake_settings, progress=False)
    passages = {passage.metadata.page: passage for passage in store.live_passages()}
    assert set(passages) == {1, 2, 3}
    assert Citation(2, passages[2], 1.0).label() == "[2] Harbour Learning Event, 12 May 2025 · p. 2"


def test_a_pdf_stored_before_pages_were_recorded_gets_them_without_being_embedded_again(
    fake_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "harbour.pdf"
    path.write_bytes(minimal_pdf(*PAGES))
    embeddings = HashingEmbeddings()
    store = open_store(fake_settings, embeddings, language())
    loaded = document_from_bytes(path.read_bytes(), ".pdf", path.name)
    apply(store, [prepare_text(loaded.text, path.name, str(path.resolve()), fake_settings.chunk_max_words)])
    assert {passage.metadata.page for passage in store.live_passages()} == {None}
    embedded = embeddings.embedded_texts

    report = ingest_paths(store, [path], fake_settings, progress=False)
    assert report.chunks_added == 0 and embeddings.embedded_texts == embedded
    assert {passage.metadata.page for passage in store.live_passages()} == {1, 2, 3}


def test_a_manifest_record_written_before_titles_still_reads_with_its_title(fake_store: ChunkStore) -> None:
    entry = fake_store.manifest()["002_eeb01a348512ac74.txt"]
    old = {key: value for key, value in json.loads(entry.to_json()).items() if key != "title"}
    assert ManifestEntry.from_json(json.dumps(old)).title == "Promise Learning Collaborative, 25 March 2025"
    fake_store._manifest.upsert(ids=[entry.source], embeddings=[[1.0]], documents=[json.dumps(old)])
    assert fake_store.manifest()[entry.source] == entry


def test_sources_lists_each_document_by_title(
    fake_store: ChunkStore, fake_settings: Settings, clean_env, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    clean_env(store_dir=fake_settings.store_dir, collection=fake_settings.collection, embedding_model="fake-hashing")
    monkeypatch.setattr("assistant.wiring.make_embeddings", lambda *args, **kwargs: HashingEmbeddings())
    assert main(["sources", "--json"]) == 0
    documents = json.loads(capsys.readouterr().out)["documents"]
    assert {document["source"]: document["title"] for document in documents} == SEED_TITLES
    assert main(["sources"]) == 0
    listed = capsys.readouterr().out
    assert all(title in listed for title in SEED_TITLES.values())


def test_a_card_shows_the_title_and_keeps_the_file_name_and_a_link_to_the_original_inside(tmp_path: Path) -> None:
    answerer, library, settings = fake_core(tmp_path / "store")
    seed = next(p for p in answerer.retriever.passages if p.metadata.source == "002_eeb01a348512ac74.txt")
    cards = source_cards_html(answerer, _cited(seed), 1)
    summary, _, inside = cards.partition("</summary>")
    assert "Promise Learning Collaborative, 25 March 2025" in summary and "002_eeb01a348512ac74" not in summary
    assert "file: 002_eeb01a348512ac74.txt" in inside
    assert f'href="{ORIGINALS_ROUTE}002_eeb01a348512ac74.txt"' in inside
    assert str(SEEDS.resolve()) not in cards  # where the notes sit on the server is nobody's business

    hostile = b"Harbour <img src=x onerror=alert(1)> Learning Event\nDate: 12 May 2025\n\n" + WORDS.encode() * 2
    source = library.upload("Harbour notes (draft).txt", hostile).source
    assert source == "Harbour notes_draft.txt"
    passage = next(p for p in answerer.retriever.passages if p.metadata.source == source)
    cards = source_cards_html(answerer, _cited(passage), 2)
    assert "<img" not in cards and "Harbour &lt;img src=x onerror=alert(1)&gt; Learning Event, 12 May 2025" in cards
    assert f'href="{ORIGINALS_ROUTE}Harbour%20notes_draft.txt"' in cards and str(settings.upload_dir) not in cards
    assert f"file: {source}" in cards and " download>" not in cards

    page = b"<html><body><h1>Harbour Kinship Event</h1><p>" + WORDS.encode() + b"</p></body></html>"
    source = library.upload("harbour.html", page).source
    passage = next(p for p in answerer.retriever.passages if p.metadata.source == source)
    assert " download>open the original</a>" in source_cards_html(answerer, _cited(passage), 3)


def test_a_card_for_a_file_the_app_does_not_serve_has_no_link(tmp_path: Path) -> None:
    answerer, _, settings = fake_core(tmp_path / "store")
    elsewhere = tmp_path / "elsewhere" / "harbour.pdf"
    elsewhere.parent.mkdir()
    elsewhere.write_bytes(minimal_pdf(*PAGES))
    ingest_paths(answerer.retriever.store, [elsewhere], settings, progress=False)
    answerer.retriever.refresh()
    passage = next(p for p in answerer.retriever.passages if p.metadata.source == "harbour.pdf")
    cards = source_cards_html(answerer, _cited(passage), 1)
    assert "file: harbour.pdf · p. " in cards and ORIGINALS_ROUTE not in cards
    assert "<b>Harbour Learning Event, 12 May 2025</b> · " in cards


def test_exports_name_documents_by_title_with_pages(fake_store: ChunkStore) -> None:
    passage = next(p for p in fake_store.live_passages() if p.metadata.source == "001_5b5a222d77539bfb.txt")
    answer = _cited(passage)
    briefing = Briefing("design", "Design thinking helps [1].", ["Design thinking helps [1]."], answer.citations, "x")
    for exported in (answer_to_markdown(answer), to_markdown(briefing)):
        assert "Promise Partnership Showcase, 4 December 2024" in exported and not HASHED_NAME.search(exported)


def test_project_cards_show_the_title_and_link_the_original(tmp_path: Path) -> None:
    answerer, _, _ = fake_core(tmp_path / "store")
    passage = next(p for p in answerer.retriever.passages if p.metadata.organisation)
    meta = passage.metadata
    match = ProjectMatch(meta.organisation or "", meta.project, meta.event, meta.date, meta.source,
                         "They helped [1].", None, [Citation(1, passage, 1.0)])  # fmt: skip
    cards = project_cards_html([match], original_links(answerer))
    assert meta.title in cards and f"file: {meta.source}" in cards and ORIGINALS_ROUTE in cards
    assert match.to_json()["title"] == meta.title


def test_a_passage_running_onto_the_next_page_names_both(fake_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "short.pdf"
    path.write_bytes(minimal_pdf("Harbour Kinship Meeting\nCarers met at the harbour.", "They shared advice."))
    (chunk,) = prepare_file(path, fake_settings).chunks
    assert (chunk.metadata.page, chunk.metadata.last_page, chunk.metadata.pages) == (1, 2, "pp. 1–2")
    assert document_title("March 2025", "2025-03", "a.txt") == "March 2025"  # the date alone is not repeated


def test_a_dateline_is_no_section_of_the_text_under_it() -> None:
    """A release's "Issued 4 March 2025" says when, not what its paragraphs are about: answers and cards that
    name a part by its heading never name it by the date."""
    text = (
        "Sibling Days open in Tayside\nIssued 4 March 2025\n\n"
        "Families in Dundee and Perth can now book weekend days out that bring brothers and sisters in care "
        "together, with transport paid and a worker who knows them on hand all day."
    )
    prepared = prepare_text(text, "release.md", "/release.md", 150)
    assert all("Issued" not in (chunk.metadata.section or "") for chunk in prepared.chunks)
