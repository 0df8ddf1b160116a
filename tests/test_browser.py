"""The app in a real browser: Debian's headless Chromium, driven by Playwright, over the real seeds.

Answers come from the extractive generator (the local model is too slow on this hardware for a UI
test), retrieval from the real embedder and store. Screenshots of every tab go to a temporary folder,
or, when asked (``make screenshots`` sets PROMISE_SCREENSHOTS=docs/screenshots), to the folder the
README shows: a plain ``make test`` leaves the working tree as it was.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.answer.answering import Answerer
from assistant.app import build_ui, launch
from assistant.library import Library
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store import open_store
from tests.conftest import CHROMIUM, free_port, language

# Where the screenshots go when asked for (relative to the project), instead of a temporary folder.
SCREENSHOTS_VARIABLE = "PROMISE_SCREENSHOTS"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium is not installed (Debian: apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/screenshots/ (or any folder) when PROMISE_SCREENSHOTS names it, else a temporary folder."""
    wanted = os.environ.get(SCREENSHOTS_VARIABLE)
    folder = PROJECT_ROOT / wanted if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def app_url(real_settings: Settings, real_embeddings) -> Iterator[str]:
    port = free_port()
    settings = real_settings.model_copy(update={"llm": "extractive", "port": port})  # this test only reads
    store = open_store(settings, real_embeddings, language())
    retriever = HybridRetriever(store, settings)
    demo = build_ui(
        Answerer(retriever, None, Prompts.load(), settings, language()), Library(store, retriever, settings)
    )
    launch(demo, settings, block=False)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def settle(page) -> None:
    """Wait until no component shows Gradio's pending state, so a screenshot shows the result."""
    from playwright.sync_api import expect

    expect(page.locator(".pending")).to_have_count(0, timeout=30_000)


def test_a_question_in_the_browser_gets_a_cited_answer_and_its_passage(
    browser, app_url: str, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Promise Assistant")).to_be_visible(timeout=30_000)

    question = page.get_by_label("Your question")
    question.fill("What is Wee Breathers?")
    question.press("Enter")
    card = page.locator("#sources details.source-card").first
    expect(card).to_be_visible(timeout=60_000)
    answer = page.locator("#chat .message.bot, #chat [data-testid='bot']").last
    expect(answer).to_contain_text("Wee Breathers", timeout=60_000)
    expect(answer.get_by_role("link", name="source 1:").first).to_be_visible(timeout=60_000)  # the answer has ended
    expect(card.locator("summary")).to_contain_text("Scottish Attachment in Action")
    expect(card.locator("summary")).to_contain_text("Showcase")
    expect(card.locator("summary")).not_to_contain_text(re.compile(r"\d{3}_[0-9a-f]{16}"))  # titled, not hashed

    passage = card.locator("blockquote")
    expect(passage).to_be_hidden()
    answer.get_by_role("link", name="source 1:").first.click()
    expect(passage).to_be_visible()
    expect(passage.locator("mark")).to_contain_text("Wee Breathers")
    settle(page)
    page.screenshot(path=str(screenshots / "ask.png"), full_page=True)

    page.get_by_role("tab", name="Find projects").click()
    challenge = page.get_by_label("Describe a challenge")
    challenge.fill("we lose young people during onboarding")
    page.get_by_role("button", name="Find projects").click()
    expect(page.locator("#projects")).to_contain_text("King", timeout=60_000)
    page.locator("#projects a[href='#project-1']").click()
    expect(page.locator("#project-1 blockquote")).to_be_visible()
    settle(page)
    page.screenshot(path=str(screenshots / "find-projects.png"), full_page=True)

    page.get_by_role("tab", name="Briefing").click()
    page.get_by_label("Briefing topic").fill("supporting families at home")
    page.get_by_role("button", name="Write briefing").click()
    expect(page.locator("#briefing")).to_contain_text("Key points", timeout=60_000)
    page.locator("#briefing ul a[href='#source-0-1']").first.click()
    expect(page.locator("#source-0-1 blockquote mark").first).to_be_visible()
    settle(page)
    page.screenshot(path=str(screenshots / "briefing.png"), full_page=True)

    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#documents")).to_contain_text("Showcase")
    page.locator("#remove-choice input").fill("004_")  # the question, shown and put away: nothing is removed
    page.get_by_role("option", name="004_2e7505d43a537495.txt").click()
    page.get_by_role("button", name="Remove document…").click()
    expect(page.locator("#confirm-removal")).to_contain_text("comes from the notes folder")
    settle(page)
    page.screenshot(path=str(screenshots / "library.png"), full_page=True)
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#confirm-removal")).to_be_hidden()
    page.close()


def test_the_chat_fits_a_phone_screen(browser, app_url: str, screenshots: Path) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(app_url)
    question = page.get_by_label("Your question")
    expect(question).to_be_visible(timeout=30_000)
    question.fill("Which projects support care-experienced parents?")
    question.press("Enter")
    expect(page.locator("#sources details.source-card").first).to_be_visible(timeout=60_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px wide)"
    settle(page)
    page.screenshot(path=str(screenshots / "phone.png"), full_page=True)
    page.close()
