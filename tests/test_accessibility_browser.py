"""WCAG 2.2 AA in headless Chromium: axe-core (``axe-playwright-python``) on every tab and state, keyboard-only
use of each flow (keys only, never a mouse event, checking where focus lands), reflow at 320 px and at 200 %
zoom, reduced motion, and the defects a new user hit. ``docs/accessibility.md`` has the figures.

The app runs over the seeds ingested with the hashing embedder, answers are extractive; without sign-in the
one local user is an editor, and the reader and editor signed in get an app of their own.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.auth import User, hash_password, write_auth_file
from assistant.settings import Settings
from tests.conftest import CHROMIUM, fake_core, running_app, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium is not installed (Debian: apt-get install chromium)"
    ),
]

# WCAG 2.0, 2.1 and 2.2, levels A and AA, and axe's best practices (headings in order, landmarks) besides.
RULES = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
# Gradio's own sign-in page takes neither the app's head nor its markup: what it is known to fail.
SIGN_IN_KNOWN = {"document-title", "landmark-one-main", "page-has-heading-one", "region"}
PASSWORDS = {"ann": "ann reads the notes", "ed": "ed edits the notes"}
NOTES = (
    "# Harbour Lights Network Meeting\n\n## Kelpie Mentoring\n\nKelpie Mentoring pairs care-experienced "
    "teenagers with volunteer sailors for a season of weekly sessions on the water.\n"
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    answerer, library, settings = fake_core(tmp_path_factory.mktemp("a11y-store"))
    with running_app(answerer, library, settings) as (url, _):
        yield url, settings


def opened(browser: Any, url: str, **context: Any) -> Any:
    from playwright.sync_api import expect

    options = {"viewport": {"width": 1280, "height": 900}} | context
    page = browser.new_context(**options).new_page()
    page.goto(url)
    expect(page.get_by_label("Your question")).to_be_visible()
    return page


def settled(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator(".pending, .generating")).to_have_count(0)


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it now is, once no event is running."""
    from axe_playwright_python.sync_playwright import Axe

    settled(page)
    # A box fading in is mid-way between its colours: contrast is measured once every transition has ended.
    page.wait_for_function("document.getAnimations().every((animation) => animation.playState !== 'running')")
    return list(Axe().run(page, options=RULES).response["violations"])


def report(found: list[dict[str, Any]]) -> str:
    """Each violation, where, and axe's own account of the first places it found it."""
    return "; ".join(
        f"{violation['id']} ({violation['impact']}) on "
        + ", ".join(f"{node['target']}: {node.get('failureSummary', '')[:160]}" for node in violation["nodes"][:3])
        for violation in found
    )


def assert_clean(page: Any, state: str) -> None:
    found = violations(page)
    assert not found, f"{state}: {report(found)}"


def keyboard_ask(page: Any, question: str) -> None:
    """The question typed into the focused box and sent with Enter; waits for the answer to end."""
    from playwright.sync_api import expect

    answers = page.locator("#chat .message.bot").count()
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    expect(page.locator("#chat .message.bot")).to_have_count(answers + 1)
    settled(page)


def focused(page: Any, script: str) -> Any:
    """What ``script`` (a function of the focused element) says about it."""
    return page.evaluate(f"(({script}))(document.activeElement)")


def tab_to(page: Any, selector: str, limit: int = 120, back: bool = False) -> None:
    """Tab (or Shift+Tab) until the focused element matches ``selector``; fails if it never does."""
    for _ in range(limit):
        if focused(page, f"(element) => !!element && element.matches({selector!r})"):
            return
        page.keyboard.press("Shift+Tab" if back else "Tab")
    pytest.fail(f"{selector} was not reached with the keyboard in {limit} presses")


def open_tab(page: Any, tab_id: str) -> None:
    """Back to the tab bar with Shift+Tab, along it with Tab (Gradio's tabs are each in the tab order, and
    take no arrow keys), and into the tab with Enter."""
    tab_to(page, "[role=tab][aria-selected=true]", back=True)
    tab_to(page, f"[role=tab][data-tab-id={tab_id!r}]", limit=5)
    page.keyboard.press("Enter")


def answer_ended(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#download-answer")).to_be_visible()
    settled(page)


# --- axe on each tab and state --------------------------------------------------------------------------


def test_axe_finds_nothing_on_any_tab_or_state(browser: Any, app: tuple[str, Settings], tmp_path: Path) -> None:
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url)
    assert page.evaluate("document.documentElement.lang") == "en-GB"
    assert_clean(page, "Ask, empty")
    box = page.get_by_label("Your question")
    box.fill("What is Wee Breathers?")
    box.press("Enter")
    answer_ended(page)
    assert_clean(page, "Ask, answered")
    page.locator("#sources details.source-card summary").first.click()
    assert_clean(page, "Ask, a source card open")
    box.fill("What is the capital of France?")
    box.press("Enter")
    expect(page.locator("#chat")).to_contain_text("Not in the notes")
    assert_clean(page, "Ask, a refusal")
    page.get_by_role("textbox", name="From", exact=True).fill("December")
    box.fill("Which projects support families?")
    box.press("Enter")
    expect(page.locator("#chat")).to_contain_text("is not a date like")
    assert_clean(page, "Ask, an error")
    page.get_by_role("textbox", name="From", exact=True).fill("")

    page.get_by_role("tab", name="Find projects").click()
    assert_clean(page, "Find projects, empty")
    page.get_by_label("Describe a challenge").fill("we lose young people during onboarding")
    page.get_by_role("button", name="Find projects").click()
    expect(page.locator("#projects .project-card").first).to_be_visible()
    assert_clean(page, "Find projects, found")

    page.get_by_role("tab", name="Briefing").click()
    assert_clean(page, "Briefing, empty")
    page.get_by_label("Briefing topic").fill("supporting families at home")
    page.get_by_role("button", name="Write briefing").click()
    expect(page.locator("#briefing")).to_contain_text("Key points")
    assert_clean(page, "Briefing, written")
    page.get_by_label("Briefing topic").fill("the capital of France")
    page.get_by_role("button", name="Write briefing").click()
    expect(page.locator("#briefing .not-covered")).to_be_visible()
    assert_clean(page, "Briefing, a refusal")

    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#documents")).to_contain_text("The Promise")
    assert_clean(page, "Library, editor")
    notes = tmp_path / "Harbour Lights notes.md"
    notes.write_text(NOTES, encoding="utf-8")
    page.locator("#upload input[type=file]").set_input_files(str(notes))
    page.get_by_role("button", name="Add to library").click()
    expect(page.locator("#library-status")).to_contain_text("searchable now")
    assert_clean(page, "Library, after an upload")
    page.locator("#remove-choice input").fill("Harbour")
    page.get_by_role("option", name="Harbour Lights notes.md", exact=False).first.click()
    page.get_by_role("button", name="Remove document…").click()
    expect(page.locator("#confirm-removal")).to_be_visible()
    assert_clean(page, "Library, a removal asked")
    page.get_by_role("button", name="Cancel").click()
    page.close()


def test_axe_finds_nothing_signed_in_as_reader_or_editor(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    users = tmp_path / "users"
    roles = {"ann": "reader", "ed": "editor"}
    write_auth_file(users, [User(name, roles[name], hash_password(password)) for name, password in PASSWORDS.items()])
    answerer, library, settings = fake_core(tmp_path / "store", auth_file=users)
    with running_app(answerer, library, settings) as (url, _):
        for name, password in PASSWORDS.items():
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.goto(url)
            expect(page.get_by_label("username")).to_be_visible()
            sign_in = {violation["id"] for violation in violations(page)}
            assert sign_in <= SIGN_IN_KNOWN, f"the sign-in page fails more than Gradio's known four: {sign_in}"
            page.get_by_label("username").fill(name)
            page.get_by_label("password").fill(password)
            page.get_by_role("button", name="Login").click()
            expect(page.get_by_label("Your question")).to_be_visible()
            assert_clean(page, f"Ask, signed in as the {roles[name]}")
            page.get_by_role("tab", name="Library").click()
            expect(page.locator("#documents")).to_contain_text("The Promise")
            editor_tools = page.locator("#add-documents")
            expect(editor_tools).to_be_visible() if roles[name] == "editor" else expect(editor_tools).to_be_hidden()
            assert_clean(page, f"Library, signed in as the {roles[name]}")
            page.close()


# --- keyboard only ---------------------------------------------------------------------------------------


def test_by_keyboard_ask_move_through_the_citations_and_open_each_card(browser: Any, app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url)
    assert focused(page, "(element) => element.matches('#question textarea, #question input')")  # focus starts here
    keyboard_ask(page, "What is Wee Breathers?")
    answer_ended(page)
    # Focus is on the new answer, which was announced once, whole, in the one live region.
    assert focused(page, "(element) => element.matches('#chat .message.bot')"), "focus did not move to the answer"
    expect(page.locator("#announcer[role=status]")).to_have_text(re.compile(r"^Answer: \S"))
    assert page.locator("#chat [role=log]").get_attribute("aria-live") == "off"  # not word by word
    citations = page.locator("#chat .message.bot a[href*='#source-']")
    assert citations.count() >= 1
    seen: set[str] = set()
    for index in range(citations.count()):
        page.keyboard.press("Tab")
        name = focused(page, "(element) => element.getAttribute('aria-label') || ''")
        assert re.match(r"^source \d+: \S.*", name), f"citation {index + 1} is named {name!r}"
        target = focused(page, "(element) => element.getAttribute('href').split('#')[1]")
        page.keyboard.press("Enter")
        card = page.locator(f"#{target}")
        assert card.evaluate("(card) => card.open"), f"{target} did not open"
        assert focused(page, f"(element) => element.matches('#{target} > summary')"), "focus is not on the card"
        outline = focused(page, "(element) => getComputedStyle(element).outlineStyle")
        assert outline != "none", "the focused card shows no focus outline"
        page.keyboard.press("Enter")  # the summary closes its card again
        assert not card.evaluate("(card) => card.open")
        seen.add(target)
        citation = citations.nth(index)
        citation.focus()  # back to the citation (a keyboard user would Shift+Tab there)
    assert seen
    page.close()


def test_by_keyboard_stop_retry_edit_rate_and_past_chats_are_reachable(browser: Any, app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url)
    keyboard_ask(page, "Which projects help families at home?")
    answer_ended(page)
    for button in ("#stop", "#retry", "#edit"):
        tab_to(page, button)
    tab_to(page, "#chat .message-buttons-left button[aria-label='Like']", back=True)
    page.keyboard.press("Enter")
    expect(page.locator("#feedback-comment")).to_be_visible()
    tab_to(page, "#feedback-comment textarea, #feedback-comment input")
    page.keyboard.type("Clear and cited.")
    tab_to(page, "#send-comment")
    page.keyboard.press("Enter")
    expect(page.locator("#feedback-comment")).to_be_hidden()
    tab_to(page, "#new-chat")
    page.keyboard.press("Enter")
    expect(page.locator("#chat .message.bot")).to_have_count(0)
    tab_to(page, "#past-chats input[type=radio]")
    page.keyboard.press("Space")  # the first (newest) past chat opens
    expect(page.locator("#chat")).to_contain_text("Which projects help families at home?")
    tab_to(page, "#organisation-filter textarea, #organisation-filter input")
    page.keyboard.type("Scottish Attachment")
    tab_to(page, "#date-from textarea, #date-from input")
    page.keyboard.type("2024-12")
    page.close()


def test_by_keyboard_find_projects_and_write_and_download_a_briefing(browser: Any, app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url)
    open_tab(page, "find")
    expect(page.get_by_label("Describe a challenge")).to_be_visible()
    tab_to(page, "#challenge textarea, #challenge input")
    page.keyboard.type("we lose young people during onboarding")
    page.keyboard.press("Enter")
    expect(page.locator("#projects .project-card").first).to_be_visible()
    expect(page.locator("#projects-status[role=status]")).to_contain_text("found")
    tab_to(page, "#projects a[href='#project-1']")
    assert focused(page, "(element) => element.getAttribute('aria-label')").startswith("passage 1: ")
    page.keyboard.press("Enter")
    assert focused(page, "(element) => element.matches('#project-1 > summary')")

    open_tab(page, "brief")
    expect(page.get_by_label("Briefing topic")).to_be_visible()
    tab_to(page, "#topic textarea, #topic input")
    page.keyboard.type("supporting families at home")
    page.keyboard.press("Enter")
    expect(page.locator("#briefing")).to_contain_text("Key points")
    tab_to(page, "#briefing a[href='#source-0-1']")
    page.keyboard.press("Enter")
    assert focused(page, "(element) => element.matches('#source-0-1 > summary')")
    tab_to(page, "#briefing-files a[download]")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    assert download.value.suggested_filename.endswith((".md", ".docx"))
    page.close()


def test_by_keyboard_upload_and_remove_a_document(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    answerer, library, settings = fake_core(tmp_path / "store")
    notes = tmp_path / "Harbour Lights notes.md"
    notes.write_text(NOTES, encoding="utf-8")
    with running_app(answerer, library, settings) as (url, _):
        page = opened(browser, url)
        # Playwright turns on catching file choosers without waiting for the browser to confirm, so a chooser
        # opened at once after ``expect_file_chooser`` can slip past it; a listener from the start turns it on early.
        page.on("filechooser", lambda chooser: None)
        open_tab(page, "library")
        expect(page.locator("#documents")).to_contain_text("The Promise")
        tab_to(page, "#upload button, #upload [role=button], #upload [tabindex='0']")
        with page.expect_file_chooser() as chooser:
            page.keyboard.press("Enter")  # the drop zone opens the file chooser from the keyboard
        chooser.value.set_files(str(notes))
        # Gradio sends the file before it holds it: Add to library pressed sooner finds no file.
        expect(page.locator("#upload")).to_contain_text(re.compile(r"Harbour Lights notes.*\d\sB", re.S))
        tab_to(page, "#add-documents")
        page.keyboard.press("Enter")
        status = page.locator("#library-status[role=status]")
        expect(status).to_contain_text("Done: ")
        tab_to(page, "#remove-choice input")
        page.keyboard.type("Harbour")
        # The typed text filters the list to the one match, which is then active: Enter chooses it.
        expect(page.get_by_role("option", name="Harbour", exact=False)).to_have_count(1)
        page.keyboard.press("Enter")
        expect(page.locator("#remove-choice input")).to_have_value(re.compile("Harbour Lights notes.md"))
        tab_to(page, "#remove-document")
        page.keyboard.press("Enter")
        expect(page.locator("#confirm-removal")).to_contain_text("Really remove")
        tab_to(page, "#confirm-remove")
        page.keyboard.press("Enter")
        expect(status).to_contain_text("Removed Harbour Lights notes.md")
        page.close()


# --- reflow, zoom, motion -------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(320, 640), (640, 450)], ids=["320px", "200-percent-zoom"])
def test_every_tab_reflows_without_sideways_scrolling(
    browser: Any, app: tuple[str, Settings], width: int, height: int
) -> None:
    """320 CSS px is WCAG's reflow width; 640 by 450 is a 1280 by 900 window zoomed to 200 %."""
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url, viewport={"width": width, "height": height}, is_mobile=width < 600)
    page.get_by_label("Your question").fill("What is Wee Breathers?")
    page.get_by_label("Your question").press("Enter")
    expect(page.locator("#sources details.source-card").first).to_be_visible()
    settled(page)
    for tab in ("Ask", "Find projects", "Briefing", "Library"):
        shown = page.get_by_role("tab", name=tab)
        if shown.count():
            shown.click()
        else:  # Gradio moves the tabs that do not fit the bar into its "More tabs" menu
            page.get_by_role("button", name="More tabs").click()
            page.locator(".overflow-dropdown button, .overflow-menu button").filter(has_text=tab).first.click()
        settled(page)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{tab} scrolls sideways at {width} px ({scroll} px wide)"
    page.close()


def test_reduced_motion_is_respected(browser: Any, app: tuple[str, Settings]) -> None:
    url, _ = app
    page = opened(browser, url, reduced_motion="reduce")
    duration = page.locator("#ask").evaluate("(button) => parseFloat(getComputedStyle(button).transitionDuration)")
    assert duration < 0.001
    page.close()


# --- the defects a new user hit -------------------------------------------------------------------------


def test_no_label_covers_the_answer_and_status_lines_are_words(browser: Any, app: tuple[str, Settings]) -> None:
    url, _ = app
    page = opened(browser, url)
    page.get_by_label("Your question").fill("What is Wee Breathers?")
    page.get_by_label("Your question").press("Enter")
    answer_ended(page)
    assert page.locator("#chat label.float").count() == 0  # Gradio's floating "Conversation" label
    assert not re.search("[\u2705\u26a0\u2139]", page.locator("main").inner_text())
    page.close()


def test_a_citation_in_an_earlier_answer_shows_its_source(browser: Any, app: tuple[str, Settings]) -> None:
    url, _ = app
    page = opened(browser, url)
    box = page.get_by_label("Your question")
    for question in ("What is Wee Breathers?", "Which projects help families at home?"):
        box.fill(question)
        box.press("Enter")
        answer_ended(page)
    earlier = page.locator("#chat .message.bot").first
    listed = earlier.locator("ol > li").first

    def shown_on_click() -> bool:
        """The click focuses and marks the source. The mark lasts 1.5 s, so its class changes are watched from
        before the click; on a loaded machine the chat may still redraw after the answer ends, taking the
        focused line with it, so the click is tried again on the redrawn chat."""
        listed.evaluate(
            "(item) => new MutationObserver(() => { if (item.classList.contains('flash')) item.dataset.flashed"
            " = 'yes'; }).observe(item, {attributes: true, attributeFilter: ['class']})"
        )
        earlier.locator("a[href*='#source-1-']").first.click()
        on_source = focused(page, "(element) => element.matches('#chat .message.bot ol > li')")
        return bool(on_source) and listed.get_attribute("data-flashed") == "yes"

    wait_for(shown_on_click, "the earlier answer's first source focused and marked", every=0.5)
    page.close()


def test_past_chats_of_one_title_are_told_apart_and_date_filters_start_empty(
    browser: Any, app: tuple[str, Settings]
) -> None:
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url)
    for _ in range(2):
        page.get_by_role("button", name="New chat").click()
        page.get_by_label("Your question").fill("what's wee breathers")
        page.get_by_label("Your question").press("Enter")
        answer_ended(page)
    labels = page.locator("#past-chats label").filter(has_text="what's wee breathers")
    expect(labels.first).to_contain_text(re.compile(r"\(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)"))
    for name in ("From", "To"):
        box = page.get_by_role("textbox", name=name, exact=True)
        assert box.input_value() == "" and box.get_attribute("placeholder") == "any date"
    page.close()


def test_a_refused_briefing_leaves_no_empty_download_box(browser: Any, app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url)
    page.get_by_role("tab", name="Briefing").click()
    files = page.locator("#briefing-files")
    expect(files).to_be_hidden()
    page.get_by_label("Briefing topic").fill("supporting families at home")
    page.get_by_role("button", name="Write briefing").click()
    expect(files).to_be_visible()
    page.get_by_label("Briefing topic").fill("the capital of France")
    page.get_by_role("button", name="Write briefing").click()
    expect(page.locator("#briefing .not-covered")).to_be_visible()
    expect(files).to_be_hidden()
    page.close()


def test_the_library_table_fits_and_the_timeline_reads_left_to_right(browser: Any, app: tuple[str, Settings]) -> None:
    from playwright.sync_api import expect

    url, _ = app
    page = opened(browser, url, viewport={"width": 1400, "height": 900})
    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#documents")).to_contain_text("The Promise")
    table = page.locator("#documents .table-wrap")
    fits = table.evaluate("(wrap) => wrap.scrollWidth <= wrap.clientWidth + 1")
    assert fits, "the documents table is cut off at 1400 px"
    numbers = page.locator("#library-timeline g.event").evaluate_all(
        "(dots) => dots.map((dot) => [Number(dot.querySelector('circle').getAttribute('cx')),"
        " Number(dot.querySelector('text').textContent)]).sort((a, b) => a[0] - b[0]).map((pair) => pair[1])"
    )
    assert numbers == sorted(numbers), f"the timeline numbers its events {numbers} from left to right"
    page.close()
