"""The Find projects and Briefing tabs: a box, a button, the result, and its downloads.

A briefing's citations open their passage as the chat's do: each [n] links to a folded source card under
the briefing (``rendering.source_cards_html``), which the page's click handler opens and scrolls to.
"""

import re
from pathlib import Path

import gradio as gr

from assistant.answer.answering import Answerer
from assistant.briefing_files import write_briefing
from assistant.models import Answer, Briefing
from assistant.rendering import (
    briefing_html,
    escape_markdown,
    not_covered_html,
    original_links,
    project_cards_html,
    project_rows,
    source_cards_html,
    write_projects_csv,
)
from assistant.text import CITATION, cited_numbers, plural
from assistant.ui_shell import Context, Updates, user_sentence

# The chat numbers its turns from 1, so the briefing's cards (source-0-n) never share an id with the chat's.
BRIEFING_TURN = 0
# Citation links as the chat's: plain accent text, not Gradio's padded links.
BRIEFING_CSS = 'a[href*="#source-"] { padding: 0; color: var(--color-accent); font-weight: 600; text-decoration: none }'


def _ask_for(
    context: Context, label: str, placeholder: str, box_id: str, action: str, button_id: str
) -> tuple[gr.Textbox, gr.Button]:
    """A tab's one question box and the button that sends it."""
    box = gr.Textbox(label=label, placeholder=placeholder, max_length=context.settings.max_query_chars, elem_id=box_id)
    return box, gr.Button(action, variant="primary", elem_id=button_id)


class FinderTab:
    """Projects that tackled a challenge, as cards and a CSV; ``find`` is the /find_projects endpoint."""

    def __init__(self, context: Context) -> None:
        self.context = context
        with gr.Tab("Find projects", id="find"):
            self.challenge_box, self.find_button = _ask_for(
                context, "Describe a challenge", "e.g. we lose young people during onboarding", "challenge",
                "Find projects", "find-projects",
            )  # fmt: skip
            self.status = gr.Markdown(latex_delimiters=[], elem_id="projects-status")
            self.cards = gr.HTML(elem_id="projects")
            self.csv = gr.DownloadButton("Download CSV", visible=False, elem_id="projects-csv")

    def wire(self) -> None:
        outputs = [self.cards, self.csv, self.status]
        self.find_button.click(
            self.find, self.challenge_box, outputs, api_name="find_projects", api_visibility="undocumented"
        )
        self.challenge_box.submit(self.find, self.challenge_box, outputs, api_visibility="private")

    def find(self, challenge: str) -> Updates:
        try:
            matches = self.context.assistant.finder.find(challenge, k=8)
        except Exception as error:
            return self._result("", None, f"Warning: {escape_markdown(user_sentence(error))}")
        rows = project_rows(matches)
        if not rows:
            return self._result("", None, "Note: the notes don't describe projects that tackled this.")
        found = f"{plural(len(rows), 'project')} found, best match first."
        cards = project_cards_html(matches, original_links(self.context.answerer))
        path = self.context.files.path(challenge, ".csv")
        try:
            write_projects_csv(rows, path)
        except OSError:
            return self._result(cards, None, found)  # the cards still show; only the download is missing
        return self._result(cards, path, found)

    def _result(self, cards: str, csv_path: Path | None, status: str) -> Updates:
        download = gr.update(value=str(csv_path), visible=True) if csv_path else gr.update(visible=False)
        return {self.cards: cards, self.csv: download, self.status: status}


class BriefingTab:
    """A briefing on a topic, previewed and written as Markdown and Word; ``write_brief`` is /brief."""

    def __init__(self, context: Context) -> None:
        self.context = context
        with gr.Tab("Briefing", id="brief"):
            self.topic_box, self.brief_button = _ask_for(
                context, "Briefing topic", "e.g. peer support for care-experienced parents", "topic",
                "Write briefing", "write-briefing",
            )  # fmt: skip
            self.preview = gr.HTML(elem_id="briefing", css_template=BRIEFING_CSS)
            # Hidden by the CSS while empty (ui_style): after a refusal an empty box would look like a failed one.
            self.files = gr.File(label="Download (Markdown and Word)", file_count="multiple", elem_id="briefing-files")

    def wire(self) -> None:
        outputs = [self.preview, self.files]
        self.brief_button.click(
            self.write_brief, self.topic_box, outputs, api_name="brief", api_visibility="undocumented"
        )
        self.topic_box.submit(self.write_brief, self.topic_box, outputs, api_visibility="private")

    def write_brief(self, topic: str) -> Updates:
        try:
            briefing = self.context.assistant.briefer.brief(topic)
            if not briefing.answered:
                return {self.preview: briefing_preview(self.context.answerer, briefing), self.files: []}
            stem = self.context.files.path(topic, "")
            written = [write_briefing(briefing, stem.with_suffix(suffix)) for suffix in (".md", ".docx")]
        except Exception as error:
            return {self.preview: not_covered_html(user_sentence(error)), self.files: []}
        preview = briefing_preview(self.context.answerer, briefing)
        return {self.preview: preview, self.files: [str(path) for path in written]}


def briefing_preview(answerer: Answerer, briefing: Briefing) -> str:
    """The briefing with each [n] a link to its source card, and the cards (the passages, the supporting
    sentence marked) under it, as the chat shows an answer's."""
    if not briefing.answered:
        return briefing_html(briefing)
    linked = CITATION.sub(_card_links, briefing_html(briefing))
    as_answer = Answer(
        question=briefing.topic, standalone_question=briefing.topic, text=" ".join(briefing.points), answered=True,
        citations=briefing.citations, timings={}, generator=briefing.generator, suggestions=[],
    )  # fmt: skip
    cards = source_cards_html(answerer, as_answer, BRIEFING_TURN).removeprefix("<h2>Sources</h2>")
    return f'{linked}<div class="briefing-passages"><h3>The passages</h3>{cards}</div>'


def _card_links(marker: re.Match[str]) -> str:
    """A citation marker ([2] or [2, 3]) as one link per passage, each opening its card."""
    space = marker[0][: len(marker[0]) - len(marker[0].lstrip())]
    return space + "".join(f'<a href="#source-{BRIEFING_TURN}-{n}">[{n}]</a>' for n in cited_numbers(marker[0]))
