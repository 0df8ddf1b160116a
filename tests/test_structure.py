"""Chunks follow the documents' units and carry their metadata (no store, no model needed)."""

import re
from pathlib import Path

import pytest

from assistant.settings import Settings
from ingest.chunking import words
from ingest.loaders import load_text
from ingest.pipeline import PreparedDocument, prepare_file, prepare_text
from tests.conftest import SEEDS

SHOWCASE_BLOCKS = [
    "Scottish Attachment in Action",
    "Why Not? Trust",
    "Angus Council",
    "Children in Scotland",
    "South Ayrshire Health & Social Care Partnership",
    "Each and Every Child",
    "Passion4Fusion",
    "Action for Children and the CYCJ",
    "Articulate",
    "Falkirk Council",
    "Foster Care Connect",
    "Family Journeys",
    "The King’s Trust",
    "Clan Childlaw",
    "Glasgow Virtual School",
    "Hub for Success",
    "City of Edinburgh Council",
    "Johnstone High School",
    "St Andrews, Paisley",
    "CYCJ",
    "Angus",
    "SPRAG",
    "Circle",
]
TABLES = [
    "Families Outside",
    "CYCJ",
    "Let's Talk About 2",
    "Children 1st",
    "East Ayrshire Health and Social Care Partnership",
]
FAMILY_ROWS = [
    "The Promise Scotland",
    "West Lothian Council and Children 1st",
    "Dad's Rock",
    "Cyrenians",
    "Midlothian Council",
    "Passion 4 Fusion",
]


def _seed(prefix: str) -> PreparedDocument:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    return prepare_file(path, Settings())


@pytest.fixture(scope="module")
def documents() -> dict[str, PreparedDocument]:
    return {prefix: _seed(prefix) for prefix in ("000", "001", "002", "003", "004")}


def _units(document: PreparedDocument) -> dict[str, set[str]]:
    """Organisation -> the unit ids of its chunks."""
    units: dict[str, set[str]] = {}
    for chunk in document.chunks:
        if chunk.metadata.organisation:
            units.setdefault(chunk.metadata.organisation, set()).add(chunk.metadata.unit_id)
    return units


def test_every_showcase_block_is_its_own_unit_with_event_and_date(documents):
    showcase = documents["001"]
    units = _units(showcase)
    for name in SHOWCASE_BLOCKS:
        assert name in units, name
    assert showcase.event == "Promise Partnership Showcase: December 2024"
    assert showcase.date == "2024-12-04"
    for chunk in showcase.chunks:
        assert chunk.metadata.event == showcase.event and chunk.metadata.date == "2024-12-04"
    wee_breathers = [c for c in showcase.chunks if "Wee Breathers" in c.text]
    assert wee_breathers and all(c.metadata.organisation == "Scottish Attachment in Action" for c in wee_breathers)
    assert wee_breathers[0].metadata.project == "Wee Breathers"


def test_no_chunk_holds_two_showcase_projects(documents):
    for chunk in documents["001"].chunks:
        body = chunk.text.split("\n", 1)[1]
        others = [
            name
            for name in SHOWCASE_BLOCKS
            if name != chunk.metadata.organisation and re.search(rf"(?m)^{re.escape(name)}$", body)
        ]
        assert not others, (chunk.metadata.organisation, others)


def test_every_table_is_its_own_unit_with_its_question(documents):
    notes = documents["000"]
    units = _units(notes)
    assert set(TABLES) <= set(units)
    assert notes.date == "2025-11"
    for chunk in notes.chunks:
        if chunk.metadata.organisation in TABLES:
            assert "Question: " in chunk.text  # the table's question is repeated in each of its chunks
    project = {c.metadata.organisation: c.metadata.project for c in notes.chunks}
    assert project["Families Outside"] == "Project Change"
    assert project["East Ayrshire Health and Social Care Partnership"] == "ArtClub?"


def test_every_family_collaborative_row_is_its_own_unit_with_contact(documents):
    family = documents["002"]
    units = _units(family)
    assert set(FAMILY_ROWS) <= set(units)
    assert family.date == "2025-03-25"
    assert all(chunk.metadata.place == "Livingston" for chunk in family.chunks)
    contacts = {c.metadata.organisation: c.metadata.contact for c in family.chunks}
    assert "kinship@westlothian.gov.uk" in (contacts["West Lothian Council and Children 1st"] or "")
    assert contacts["The Promise Scotland"] is None
    west_lothian = " ".join(c.text for c in family.chunks if (c.metadata.organisation or "").startswith("West Lothian"))
    assert "- Wider reach within West Lothian" in west_lothian  # the HTML list became bullets


def test_chunks_fit_the_embedder_have_no_html_and_end_on_a_boundary(documents):
    for document in documents.values():
        source = load_text(SEEDS / document.source, 10**8)
        for chunk in document.chunks:
            assert words(chunk.text) <= 180, (document.source, chunk.text[:80])
            assert not re.search(r"</?[a-zA-Z][^>]*>", chunk.text), chunk.text
            last = chunk.text.rstrip().splitlines()[-1].strip(" -")
            # A chunk ends where a source line ends or a sentence ends, never mid-sentence.
            assert last[-1] in ".!?)\"'”’:;" or any(
                line.rstrip().endswith(last[-30:]) for line in source.splitlines()
            ), last
            assert chunk.metadata.start < chunk.metadata.end
            assert chunk.text.startswith(chunk.metadata.context)


def test_other_notes_fall_back_to_headings_and_paragraphs(documents):
    network = documents["003"]
    assert network.event == "Participation Network Online Event"
    assert network.date is None  # the notes give no year; none is guessed
    sections = {c.metadata.section for c in network.chunks}
    assert {"Good practice and examples", "Ideas and opportunities", "Observations and challenges"} <= sections
    love_inc = [c for c in network.chunks if "Love Inc's work" in c.text]
    assert len(love_inc) == 1 and "Bright Spots pilot" not in love_inc[0].text


def test_long_units_split_on_sentences_with_their_header_repeated():
    sentences = "".join(f"In week {n} the service met families at home and listened first. " for n in range(40))
    text = "Regional Family Forum\n\nKinship Support Project\n" + sentences + "\n"
    document = prepare_text(text, "forum.md", "/tmp/forum.md", max_words=120)
    assert len(document.chunks) >= 3
    for chunk in document.chunks:
        assert chunk.text.splitlines()[0] == chunk.metadata.context
        assert chunk.text.rstrip().endswith("listened first.")
        assert words(chunk.text) <= 120


def test_chunk_ids_derive_from_source_and_content():
    text = "# Notes\n\nA paragraph about kinship care in Fife, long enough to count as a passage.\n"
    first = prepare_text(text, "a.md", "/x/a.md", 150)
    again = prepare_text(text, "a.md", "/elsewhere/a.md", 150)
    other_name = prepare_text(text, "b.md", "/x/b.md", 150)
    assert [c.chunk_id for c in first.chunks] == [c.chunk_id for c in again.chunks]
    assert {c.chunk_id for c in first.chunks}.isdisjoint(c.chunk_id for c in other_name.chunks)


def test_markdown_headings_make_sections(tmp_path: Path):
    path = tmp_path / "meeting.md"
    path.write_text(
        "# Kinship Network Meeting\n\nDate: 3 June 2025, Perth\n\n## Housing\n\n"
        + "Carers described long waits for suitable housing and the strain it puts on families. " * 3
        + "\n\n## Money\n\n"
        + "Allowances differ between councils, which carers find confusing and unfair. " * 3
        + "\n",
        encoding="utf-8",
    )
    document = prepare_file(path, Settings())
    assert document.event == "Kinship Network Meeting"
    assert document.date == "2025-06-03"
    assert {c.metadata.place for c in document.chunks} == {"Perth"}
    assert {"Housing", "Money"} <= {c.metadata.section for c in document.chunks}


def test_an_event_page_gives_its_date_and_venue_as_bold_list_fields() -> None:
    from ingest.dates import find_event_date

    page = (
        "# Care Day Ceilidh: a night to remember\n\n"
        "- **When:** all evening\n"
        "- **Date:** Friday 20 February 2026\n"
        "- **Venue:** Fisherrow Community Hall, Musselburgh\n"
    )
    assert find_event_date(page, "Care Day Ceilidh") == ("2026-02-20", "Fisherrow Community Hall, Musselburgh")
