"""The Library tab without a browser: counts in words, documents newest first, the timeline's escaping, and
the /remove endpoint's second confirmation for a notes-folder document (the browser tests are in
test_library_browser.py)."""

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from assistant.library import Library
from assistant.rendering import escape_markdown
from assistant.store import ManifestEntry
from assistant.text import plural
from assistant.timeline import events_of, newest_first, readable_date, timeline_html
from assistant.ui_library import HEADERS
from tests.conftest import fake_core, running_app

SEED = "004_2e7505d43a537495.txt"


def entry(source: str, event: str, date: str | None, passages: int = 1) -> ManifestEntry:
    chunk_ids = tuple(f"{source}-{n}" for n in range(passages))
    return ManifestEntry(source, f"/notes/{source}", "hash", chunk_ids, event, date, "2026-01-01T00:00:00+00:00")


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0 passages"), (1, "1 passage"), (2, "2 passages"), (21, "21 passages")]
)
def test_counts_are_in_words_with_the_right_plural(count: int, shown: str) -> None:
    assert plural(count, "passage") == shown


def test_documents_are_newest_first_and_the_undated_last() -> None:
    entries = [
        entry("b.txt", "Undated B", None),
        entry("old.txt", "Old", "2023-05-01"),
        entry("month.txt", "Month", "2025-11"),
        entry("a.txt", "Undated A", ""),
        entry("new.txt", "New", "2026-02-03"),
        entry("year.txt", "Year", "2024"),
        entry("odd.txt", "Not a date", "sometime"),
    ]
    order = [item.source for item in newest_first(entries)]
    assert order == ["new.txt", "month.txt", "year.txt", "old.txt", "a.txt", "b.txt", "odd.txt"]


def test_dates_read_as_people_write_them() -> None:
    assert [readable_date(date) for date in ("2024-12-04", "2025-11", "2024", None, "2025-13")] == [
        "4 Dec 2024", "Nov 2025", "2024", "", "2025-13",
    ]  # fmt: skip


def test_the_timeline_draws_each_event_once_and_escapes_every_name() -> None:
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    entries = [
        entry("a.txt", hostile, "2025-03", passages=1),
        entry("b.txt", hostile, "2025-03", passages=2),
        entry("c.txt", "Showcase", "2024-12-04", passages=3),
        entry("d.txt", "The Promise", None, passages=4),
    ]
    assert [(event.name, event.documents, event.passages) for event in events_of(entries)] == [
        (hostile, 2, 3), ("Showcase", 1, 3), ("The Promise", 1, 4),
    ]  # fmt: skip
    picture = timeline_html(entries)
    assert "<script" not in picture and "<img" not in picture and "&lt;script&gt;" in picture
    assert picture.count("<circle") == 2  # the two dated events; the undated one is listed only
    assert "2 documents, 3 passages" in picture and "1 document, 3 passages" in picture
    assert re.search(r"<b>Undated</b> · The Promise \(1 document, 4 passages\)", picture)
    assert "No documents yet" in timeline_html([])


def test_the_timeline_numbers_events_as_its_axis_reads_left_to_right() -> None:
    entries = [entry(f"{year}.txt", f"Event {year}", f"{year}-06") for year in (2025, 2023, 2024)]
    picture = timeline_html([*entries, entry("u.txt", "Undated event", None)])
    dots = re.findall(r'<circle cx="([\d.]+)".*?class="num">(\d+)</text>', picture)
    assert [number for _, number in sorted(dots, key=lambda dot: float(dot[0]))] == ["1", "2", "3"]
    listed = re.findall(r'<li value="(\d)"><b>[^<]*</b> · ([^(]+) \(', picture)
    assert listed == [("1", "Event 2023"), ("2", "Event 2024"), ("3", "Event 2025"), ("4", "Undated event")]


# --- the endpoint -----------------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[Client, Library]]:
    answerer, library, settings = fake_core(tmp_path / "store")
    with running_app(answerer, library, settings) as (url, _):
        yield Client(url, verbose=False), library


def test_the_api_cannot_remove_a_notes_folder_document_without_the_pages_second_confirmation(
    client: tuple[Client, Library],
) -> None:
    api, library = client
    status, *_ = api.predict(SEED, api_name="/remove")
    assert status.startswith("Warning:") and "notes folder" in status
    assert SEED in {item.source for item in library.documents()}
    # The confirmation is the page's state, not a parameter anyone can send: a forged "yes" is ignored.
    with contextlib.suppress(AppError):
        status, *_ = api.predict(SEED, True, api_name="/remove")
        assert status.startswith("Warning:")
    assert SEED in {item.source for item in library.documents()}


def test_an_upload_reports_one_passage_and_the_table_is_newest_first(
    client: tuple[Client, Library], tmp_path: Path
) -> None:
    api, _ = client
    notes = tmp_path / "short.md"
    notes.write_text("# Harbour Lights Network Meeting 2026-02-03\n\nOne short paragraph of notes.\n", "utf-8")
    status, documents, *_ = api.predict([handle_file(str(notes))], api_name="/upload")
    assert "1 passage," in status and "1 passages" not in status
    dates = [row[HEADERS.index("Date")] for row in documents["data"]]
    dated = [date for date in dates if date]
    assert dates == sorted(dated, reverse=True) + [""] * (len(dates) - len(dated))
    status, *_ = api.predict("short.md", api_name="/remove")  # an upload needs no second confirmation
    assert status == f"Removed {escape_markdown('short.md')} (1 passage)."
