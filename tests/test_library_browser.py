"""The Library and Briefing tabs in a real browser (Debian's headless Chromium, driven by Playwright): removal
asks first, a notes-folder document needs a second confirmation, the drop zone empties after an upload, the
table stays readable on a phone, and a briefing's citation opens its passage.

Each test gets its own app over the seeds ingested with the hashing embedder in a temporary store, so
uploads and removals here never touch another test's library. Every wait is Playwright's own (until the
page shows something), never a sleep.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.library import Library
from tests.conftest import CHROMIUM, fake_core, running_app
from tests.test_browser import settle

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium is not installed (Debian: apt-get install chromium)"
    ),
]

SEED = "004_2e7505d43a537495.txt"  # "The Promise", undated: the last row of the table
OTHER = "003_3cc7c248197af859.txt"
PATIENCE_MS = 60_000  # a safety net for the app's answers, never a measure of speed


@pytest.fixture
def library_app(tmp_path: Path) -> Iterator[tuple[str, Library]]:
    answerer, library, settings = fake_core(tmp_path / "store")
    with running_app(answerer, library, settings) as (url, _):
        yield url, library


def open_library(browser, url: str, width: int = 1280, height: int = 900):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": width, "height": height}, is_mobile=width < 600)
    page.goto(url)
    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#documents")).to_contain_text("The Promise", timeout=PATIENCE_MS)
    return page


def choose_for_removal(page, source: str) -> None:
    """Pick ``source`` in the removal drop-down (typed, then chosen from the list) and ask to remove it."""
    choice = page.locator("#remove-choice input")
    choice.fill(source)
    page.get_by_role("option", name=source, exact=False).first.click()
    page.get_by_role("button", name="Remove document…").click()


def sources(library: Library) -> set[str]:
    return {entry.source for entry in library.documents()}


def test_an_upload_empties_the_drop_zone_and_its_removal_asks_first(
    browser,
    library_app: tuple[str, Library],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    url, library = library_app
    notes = tmp_path / "Harbour Lights notes.md"
    notes.write_text(
        "# Harbour Lights Network Meeting\n\n## Kelpie Mentoring\n\nKelpie Mentoring pairs care-experienced "
        "teenagers with volunteer sailors for a season of weekly sessions on the water.\n",
        encoding="utf-8",
    )
    page = open_library(browser, url)
    page.locator("#upload input[type=file]").set_input_files(str(notes))
    drop_zone = page.locator("#upload")
    expect(drop_zone).to_contain_text(re.compile(r"Harbour Lights notes.*\d\sB", re.S))  # listed, with its size
    page.get_by_role("button", name="Add to library").click()
    status = page.locator("#library-status")
    expect(status).to_contain_text("(Harbour Lights notes.md): 1 passage, searchable now", timeout=PATIENCE_MS)
    expect(status).to_contain_text("1 passage,")  # one, not "1 passages"
    expect(drop_zone).not_to_contain_text("Harbour Lights notes")  # the drop zone is empty again
    expect(drop_zone).to_contain_text("Drop File Here")
    expect(page.locator("#documents")).to_contain_text("Harbour Lights notes.md")

    choose_for_removal(page, "Harbour Lights notes.md")
    question = page.locator("#confirm-removal")
    expect(question).to_be_visible()
    expect(question).to_contain_text(
        "Really remove Harbour Lights Network Meeting (Harbour Lights notes.md, 1 passage)?"
    )
    expect(page.locator("#confirm-notes")).to_be_hidden()  # an upload needs no second confirmation
    page.get_by_role("button", name="Cancel").click()
    expect(question).to_be_hidden()
    expect(status).to_contain_text("Nothing was removed.")
    assert "Harbour Lights notes.md" in sources(library)

    choose_for_removal(page, "Harbour Lights notes.md")
    expect(question).to_be_visible()
    question.get_by_role("button", name="Remove", exact=True).click()
    expect(status).to_contain_text("Removed Harbour Lights notes.md (1 passage).", timeout=PATIENCE_MS)
    expect(question).to_be_hidden()
    expect(page.locator("#documents")).not_to_contain_text("Harbour Lights notes.md")
    assert "Harbour Lights notes.md" not in sources(library)
    page.close()


def test_a_notes_folder_document_is_removed_only_after_a_second_confirmation(
    browser,
    library_app: tuple[str, Library],
) -> None:
    from playwright.sync_api import expect

    url, library = library_app
    page = open_library(browser, url)
    choose_for_removal(page, SEED)
    question = page.locator("#confirm-removal")
    expect(question).to_contain_text("comes from the notes folder")
    remove = question.get_by_role("button", name="Remove", exact=True)
    expect(remove).to_be_disabled()  # the first confirmation alone does nothing
    second = page.locator("#confirm-notes input[type=checkbox]")
    second.check()
    expect(remove).to_be_enabled()
    page.get_by_role("button", name="Cancel").click()
    expect(question).to_be_hidden()
    assert SEED in sources(library)

    choose_for_removal(page, SEED)  # ticked, then another document chosen under the open question
    second.check()
    expect(remove).to_be_enabled()
    page.locator("#remove-choice input").fill(OTHER)
    page.get_by_role("option", name=OTHER, exact=False).first.click()
    remove.click()
    expect(page.locator("#library-status")).to_contain_text(
        re.compile("nothing was removed", re.IGNORECASE), timeout=PATIENCE_MS
    )
    assert {SEED, OTHER} <= sources(library)

    choose_for_removal(page, SEED)
    expect(remove).to_be_disabled()  # asking again starts unticked
    second.check()
    remove.click()
    expect(page.locator("#library-status")).to_contain_text(f"Removed {SEED} (17 passages).", timeout=PATIENCE_MS)
    assert SEED not in sources(library)
    page.close()


def test_the_library_table_is_readable_on_a_phone(browser, library_app: tuple[str, Library]) -> None:
    url, _ = library_app
    page = open_library(browser, url, width=390, height=844)
    settle(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways on a phone"
    cells = page.locator("#documents th, #documents .body-cell").all()
    widths = [box["width"] for cell in cells if (box := cell.bounding_box())]
    assert len(widths) >= 6 * 6 and min(widths) >= 80, f"a column is squeezed to {min(widths):.0f} px"
    scrolls = page.evaluate(
        "(() => { const box = document.querySelector('#documents .virtual-table-viewport');"
        " return box.scrollWidth > box.clientWidth && getComputedStyle(box).overflowX === 'auto'; })()"
    )
    assert scrolls, "the table neither fits nor scrolls inside its box"
    header = page.locator("#documents th").filter(has_text="Passages").first
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#documents th span')).lineHeight)")
    assert (header.locator("span").first.bounding_box() or {"height": 999})["height"] < 1.5 * line  # one line
    page.close()


def test_a_briefing_citation_opens_its_passage(browser, library_app: tuple[str, Library]) -> None:
    from playwright.sync_api import expect

    url, _ = library_app
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.get_by_role("tab", name="Briefing").click()
    page.get_by_label("Briefing topic").fill("supporting families at home")
    page.get_by_role("button", name="Write briefing").click()
    briefing = page.locator("#briefing")
    expect(briefing).to_contain_text("Key points", timeout=PATIENCE_MS)
    card = page.locator("#source-0-1")
    passage = card.locator("blockquote")
    expect(passage).to_be_hidden()
    briefing.locator("ul a[href='#source-0-1']").first.click()
    expect(passage).to_be_visible()
    expect(passage.locator("mark")).not_to_have_count(0)
    page.close()
