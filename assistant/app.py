"""The web app: a thin Gradio shell over the Answerer (chat, finder, briefings) and the Library.

Everything shown comes from the core's typed results. Document and user text is escaped before it
reaches the page (HTML components) or the chat (Markdown), so neither is ever rendered as markup, and
written to downloads through ``assistant.exports``. Readers ask, find and brief; only editors change the
library (``assistant.auth``); ``assistant.guard`` decides which requests reach the app at all.
"""

import csv
import html
import itertools
import logging
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi.exceptions import RequestValidationError
from starlette.middleware import Middleware

from assistant.answering import Answerer, DoneEvent, TextEvent
from assistant.auth import Access, SignInThrottle
from assistant.briefing import write_briefing
from assistant.errors import ConfigError, PromiseError
from assistant.exports import csv_cell, markdown_text
from assistant.guard import LOOPBACK_HOSTS, Guard, refuse_malformed
from assistant.library import Library
from assistant.models import Answer, Briefing, ChunkMetadata, Citation, ProjectMatch, SearchFilters
from assistant.settings import Settings
from assistant.store import ManifestEntry

TITLE = "Promise Assistant"
DESCRIPTION = (
    "Answers from the notes of learning events on The Promise (showcases, learning collaboratives, network "
    "meetings). Every sentence cites the passage it comes from; when the notes don't cover a question, it says so."
)
EXAMPLE_QUESTIONS = (
    "What is Wee Breathers?",
    "Which projects help care-experienced young people into work?",
    "What did the family learning collaborative talk about?",
)
ALL = "All"
UNEXPECTED = (
    "Something went wrong ({kind}); ask again, and if it happens again tell whoever runs this app: "
    "the details are in its log file (PROMISE_LOG_FILE)."
)
SUGGESTIONS = 3
SIGN_IN_MESSAGE = f"{TITLE}: sign in to continue. After several wrong passwords, sign-in pauses for a while."
EDITORS_ONLY = "Only editors can add or remove documents; ask whoever runs this app if you need to."
# Gradio's copies of downloads: swept hourly once a day old (a link works for a day), all removed at exit.
DOWNLOAD_CACHE = (3600, 24 * 3600)
log = logging.getLogger(__name__)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")
_CITATION_MARK = re.compile(r"\\\[(\d+)\\\]")  # a citation [n] after escape_markdown
_MARKER = re.compile(r"\s*\[\d+\]")  # a citation [n] in plain text

CSS = """
.gradio-container { max-width: 1200px !important; margin: auto; }
#app-header p { margin-top: 0; color: var(--body-text-color-subdued); }
.source-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 6px 0; }
.source-card summary { cursor: pointer; line-height: 1.4; }
.source-card .num { font-weight: 700; color: var(--color-accent); }
.source-card .file, .project-card .file { font-family: var(--font-mono); font-size: 0.85em;
  color: var(--body-text-color-subdued); }
.source-card blockquote { white-space: pre-wrap; margin: 8px 0 4px; padding-left: 10px;
  border-left: 3px solid var(--color-accent); }
.source-card mark { background: #fff1a8; color: inherit; padding: 0 2px; }
.uploaded { font-size: 0.85em; background: #e8eefc; color: #1d3a8a; border-radius: 4px; padding: 0 5px; }
.source-card.flash { outline: 3px solid var(--color-accent); }
.not-covered { border: 1px solid #d9a400; background: #fff8e1; color: #5c4400; border-radius: 8px; padding: 8px 12px; }
.briefing-preview li { margin-bottom: 6px; }
.project-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 14px; margin: 10px 0; }
.project-card h3 { margin: 0 0 4px; }
.project-card .where, .project-card .contact { color: var(--body-text-color-subdued); margin: 2px 0; }
#chat a[href*="#source-"], .project-card a { color: var(--color-accent); font-weight: 600; }
"""

# Citation links in the chat open the matching source card instead of navigating.
HEAD = """
<style>
/* Outside the app's scoped CSS: the page frame itself, narrowed on phones. */
.main.app { box-sizing: border-box; }
@media (max-width: 640px) { .main.app { padding: 8px !important; } }
</style>
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href*="#source-"], a[href*="#project-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const card = document.getElementById(link.getAttribute("href").split("#")[1]);
  if (!card) return;
  card.open = true;
  card.scrollIntoView({ behavior: "smooth", block: "center" });
  card.classList.add("flash");
  setTimeout(() => card.classList.remove("flash"), 1500);
}, true);
</script>
"""


def escape_markdown(text: str) -> str:
    """Text shown literally in a Markdown component: markup characters lose their meaning."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def answer_markdown_for_chat(answer: Answer, turn: int) -> str:
    """The answer as a chat message: escaped text, each [n] linked to its source card, then the sources."""
    text = escape_markdown(answer.text)
    notice = f"*ℹ️ {escape_markdown(answer.notice)}*\n\n" if answer.notice else ""
    if not answer.answered:
        return f"{notice}> ⚠️ **Not in the notes.** {text}"
    text = _CITATION_MARK.sub(lambda match: f"[\\[{match[1]}\\]](#source-{turn}-{match[1]})", text)
    sources = "\n".join(f"{index}. {escape_markdown(citation.label()[len(f'[{citation.n}] '):])}"
                        for index, citation in enumerate(answer.citations, start=1))  # fmt: skip
    return f"{notice}{text}\n\n**Sources**\n\n{sources}"


def answer_to_markdown(answer: Answer) -> str:
    """The answer and its sources as a Markdown file to keep or paste into a briefing; the question, the
    answer and the passages are written as text, never as markup."""
    lines = [f"## {markdown_text(answer.question)}", "", markdown_text(answer.text), ""]
    if answer.citations:
        lines += ["### Sources", ""]
        for citation in answer.citations:
            passage = markdown_text(" ".join(citation.passage.body.split()))
            lines += [f"- {markdown_text(citation.label())}", "", f"  > {passage}", ""]
    lines += [f"*From the notes, by {TITLE} ({answer.generator}).*", ""]
    return "\n".join(lines)


def supporting_unit(answerer: Answerer, answer_text: str, citation: Citation) -> str:
    """The sentence (or list) of the cited passage that the answer's sentences citing it lean on most."""
    citing = " ".join(sentence for sentence in re.split(r"(?<=[.!?])\s+", answer_text) if f"[{citation.n}]" in sentence)
    return answerer.best_unit(re.sub(r"\[\d+\]", "", citing) or answer_text, citation.passage)


def highlighted_body(body: str, unit: str) -> str:
    """The passage, escaped, with the supporting sentence (or the list items it joins) marked."""
    escaped = html.escape(body)
    sentence = html.escape(unit)
    if sentence and sentence in escaped:
        return escaped.replace(sentence, f"<mark>{sentence}</mark>", 1)
    lines = []
    for line in escaped.splitlines():
        item = re.sub(r"^\s*(?:[-*•▶→]|\d{1,2}[.)])\s+", "", line).strip().rstrip(".;:")
        lines.append(f"<mark>{line}</mark>" if len(item.split()) >= 2 and item in sentence else line)
    return "\n".join(lines)


def source_cards_html(answerer: Answerer, answer: Answer, turn: int) -> str:
    if not answer.answered:
        return f'<div class="not-covered" role="status">{html.escape(answer.text)}</div>'
    cards = []
    for citation in answer.citations:
        meta = citation.passage.metadata
        who = " – ".join(part for part in (meta.organisation, meta.project) if part)
        parts = [f"<b>{html.escape(meta.event)}</b>"]
        parts += [html.escape(value) for value in (meta.date, who) if value]
        body = highlighted_body(citation.passage.body, supporting_unit(answerer, answer.text, citation))
        cards.append(
            f'<details class="source-card" id="source-{turn}-{citation.n}">'
            f'<summary><span class="num">[{citation.n}]</span> {" · ".join(parts)} '
            f'<span class="file">{html.escape(meta.source)}</span>{uploaded_html(meta)}</summary>'
            f"<blockquote>{body}</blockquote></details>"
        )
    return "<h3>Sources</h3>" + "".join(cards)


def uploaded_html(meta: ChunkMetadata) -> str:
    """A mark beside an uploaded passage's file name, so no one takes it for the notes."""
    return f' <span class="uploaded">{html.escape(meta.provenance)}</span>' if meta.provenance else ""


def project_cards_html(matches: list[ProjectMatch]) -> str:
    """One card per project: who, where and when, why it is relevant (cited), the contact, the passage."""
    cards = []
    for number, match in enumerate(matches, start=1):
        who = " – ".join(html.escape(part) for part in (match.organisation, match.project) if part)
        when = f" · {html.escape(match.date)}" if match.date else ""
        reason = _MARKER.sub("", match.why)
        why = html.escape(reason)
        contact = f'<p class="contact">Contact: {html.escape(match.contact)}</p>' if match.contact else ""
        passage = match.citations[0].passage
        cards.append(
            f'<article class="project-card"><h3>{number}. {who}</h3>'
            f'<p class="where">{html.escape(match.event)}{when} '
            f'<span class="file">{html.escape(match.source)}</span>{uploaded_html(passage.metadata)}</p>'
            f'<p>{why} <a href="#project-{number}">[{number}]</a></p>{contact}'
            f'<details class="source-card" id="project-{number}"><summary>[{number}] The passage in the notes</summary>'
            f"<blockquote>{highlighted_body(passage.body, reason.rstrip('.'))}</blockquote>"
            "</details></article>"
        )
    return "".join(cards)


def briefing_html(briefing: Briefing) -> str:
    if not briefing.answered:
        return f'<div class="not-covered" role="status">{html.escape(briefing.headline)}.</div>'
    points = "".join(f"<li>{html.escape(point)}</li>" for point in briefing.points)
    sources = "".join(f"<li>{html.escape(citation.label())}</li>" for citation in briefing.citations)
    return (
        f'<div class="briefing-preview"><h2>{html.escape(briefing.headline)}</h2><h3>Key points</h3><ul>{points}</ul>'
        f"<h3>Sources</h3><ul>{sources}</ul></div>"
    )


def check_binding(settings: Settings, access: Access | None = None) -> Access:
    """Who may sign in; serving beyond loopback with no users is refused."""
    access = access or Access.from_settings(settings)
    if settings.host not in LOOPBACK_HOSTS and not access.required:
        raise ConfigError(
            f"Serving on {settings.host} would let other machines in: add users to PROMISE_AUTH_FILE with "
            "'promise-assistant users add NAME --role reader|editor' (or set PROMISE_AUTH=user:password) first, "
            "or serve on 127.0.0.1."
        )
    return access


class _DownloadFiles:
    """Files written for users to download, in one folder per app run, removed when the app exits
    (Gradio copies each to its own cache before serving it)."""

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="promise-assistant-")
        self._numbers = itertools.count(1)  # thread-safe: concurrent requests never share a name

    def path(self, stem: str, suffix: str) -> Path:
        safe = re.sub(r"[^\w-]+", "-", stem.lower()).strip("-")[:50] or "answer"
        return Path(self._directory.name) / f"{safe}-{next(self._numbers)}{suffix}"

    def remove(self) -> None:
        self._directory.cleanup()


class AssistantBlocks(gr.Blocks):
    """The app's Blocks: who may do what, its download folder, and quiet refusals of malformed input."""

    access: Access
    downloads: _DownloadFiles

    async def preprocess_data(self, block_fn: Any, inputs: list[Any], state: Any, explicit_call: bool = False) -> Any:
        """Gradio prints a traceback holding every value sent (megabytes, and maybe a question) when a
        request's inputs cannot be read; here that is one short log line and a one-sentence refusal."""
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error as error:  # Gradio's own sentence for the user, such as a refused file type
            log.warning("Refused input to %s: %s", block_fn.name, str(error.message)[:200])
            error.print_exception = False
            raise
        except Exception as error:
            log.warning("Refused malformed input to %s (%s).", block_fn.name, type(error).__name__)
            raise gr.Error("The request was malformed.", print_exception=False) from None


def build_ui(answerer: Answerer, library: Library) -> AssistantBlocks:
    settings = answerer.settings
    access = Access.from_settings(settings)
    files = _DownloadFiles()

    def filter_choices() -> tuple[list[str], list[str]]:
        documents = library.documents()
        return [ALL, *library.events()], [ALL, *(entry.source for entry in documents)]

    def documents_table() -> list[list[Any]]:
        return [
            [entry.source, entry.event, entry.date or "", len(entry.chunk_ids),
             added_by(entry), entry.ingested_at.replace("T", " ")[:16]]
            for entry in library.documents()
        ]  # fmt: skip

    def added_by(entry: ManifestEntry) -> str:
        if not library.is_upload(entry):
            return "notes folder"
        upload = library.last_upload(entry)
        return f"uploaded by {upload.by}, {upload.at[:10]}" if upload else "uploaded"

    # --- chat ------------------------------------------------------------------------------

    def respond(
        question: str, chat: list[dict[str, Any]], history: list[dict[str, str]], event: str, source: str
    ) -> Iterator[tuple[Any, ...]]:
        question = (question or "").strip()
        chat = [*chat, {"role": "user", "content": escape_markdown(question or " ")}]
        no_suggestions = [gr.update(visible=False)] * SUGGESTIONS
        filters = SearchFilters(event=None if event in (None, ALL) else event,
                                source=None if source in (None, ALL) else source)  # fmt: skip
        turn = len(history) // 2 + 1
        streamed: list[str] = []
        try:
            for answer_event in answerer.stream(question, history, filters):
                if isinstance(answer_event, TextEvent):
                    streamed.append(answer_event.text)
                    draft = {"role": "assistant", "content": escape_markdown(" ".join(streamed))}
                    yield ([*chat, draft], gr.update(), history, "", *no_suggestions, gr.update(visible=False))
                elif isinstance(answer_event, DoneEvent):
                    answer = answer_event.answer
        except Exception as error:  # the edge: every failure becomes one sentence in the chat
            message = {"role": "assistant", "content": f"> ⚠️ {escape_markdown(_sentence(error))}"}
            yield ([*chat, message], gr.update(), history, question, *no_suggestions, gr.update(visible=False))
            return
        reply = {"role": "assistant", "content": answer_markdown_for_chat(answer, turn)}
        history = [*history, {"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        topics = answer.suggestions[:SUGGESTIONS]
        suggestions = [gr.update(value=f"Tell me about {topic}", visible=True) for topic in topics]
        suggestions += [gr.update(visible=False)] * (SUGGESTIONS - len(topics))
        download = files.path(question, ".md")
        try:
            download.write_text(answer_to_markdown(answer), encoding="utf-8")
            download_button = gr.update(value=str(download), visible=True)
        except OSError:
            download_button = gr.update(visible=False)  # the answer still shows; only its download is missing
        yield (
            [*chat, reply],
            source_cards_html(answerer, answer, turn),
            history,
            "",
            *suggestions,
            download_button,
        )

    def new_chat() -> tuple[Any, ...]:
        hidden = [gr.update(visible=False)] * SUGGESTIONS
        return ([], "", [], "", *hidden, gr.update(visible=False))

    # --- finder, briefing, library ---------------------------------------------------------

    def find(challenge: str) -> tuple[str, Any, str]:
        try:
            matches = answerer.find_projects(challenge, k=8)
        except Exception as error:
            return "", gr.update(visible=False), f"⚠️ {escape_markdown(_sentence(error))}"
        rows = [
            [match.organisation, match.project or "", match.event, match.date or "", _MARKER.sub("", match.why),
             match.contact or "", match.source, match.citations[0].passage.metadata.provenance or "notes folder"]
            for match in matches
        ]  # fmt: skip
        if not rows:
            return "", gr.update(visible=False), "⚠️ The notes don't describe projects that tackled this."
        found = f"{len(rows)} project{'s' if len(rows) > 1 else ''} found, best match first."
        path = files.path(challenge, ".csv")
        try:
            with path.open("w", newline="", encoding="utf-8") as stream:
                writer = csv.writer(stream)
                writer.writerow(FINDER_HEADERS)
                writer.writerows([csv_cell(cell) for cell in row] for row in rows)  # no cell runs as a formula
        except OSError:
            return project_cards_html(matches), gr.update(visible=False), found
        return project_cards_html(matches), gr.update(value=str(path), visible=True), found

    def write_brief(topic: str) -> tuple[str, list[str]]:
        try:
            briefing = answerer.brief(topic)
            if not briefing.answered:
                return briefing_html(briefing), []
            stem = files.path(topic, "")
            written = [write_briefing(briefing, stem.with_suffix(suffix)) for suffix in (".md", ".docx")]
        except Exception as error:
            return f'<div class="not-covered" role="status">{html.escape(_sentence(error))}</div>', []
        return briefing_html(briefing), [str(path) for path in written]

    def library_updates() -> tuple[Any, ...]:
        events, sources = filter_choices()
        removable = [source for source in sources if source != ALL]
        return (
            documents_table(),
            gr.update(choices=removable, value=None),
            gr.update(choices=events),
            gr.update(choices=sources),
        )

    def upload(
        paths: list[str] | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        if not access.may_edit(request.username):  # the page hides the controls; the server refuses anyway
            log.warning("Refused an upload by %r, who is not an editor.", request.username)
            return (f"⚠️ {EDITORS_ONLY}", *library_updates())
        uploader = access.display_name(request.username)
        paths = paths or []
        if not paths:
            return ("Choose one or more files first.", *library_updates())
        if len(paths) > settings.max_upload_files:
            return (f"⚠️ At most {settings.max_upload_files} files at a time, please.", *library_updates())
        lines = []
        for number, path in enumerate(paths):
            name = Path(path).name

            def report(share: float, step: str, number: int = number) -> None:
                progress((number + share) / len(paths), desc=step)

            try:
                outcome = library.upload(name, Path(path).read_bytes(), report, uploaded_by=uploader)
                lines.append("✅ " + escape_markdown(outcome.message()))
            except Exception as error:  # one line per file; the other files still go in
                lines.append(f"⚠️ {escape_markdown(_sentence(error).rstrip('.'))}. Nothing else was changed.")
        return ("\n\n".join(lines), *library_updates())

    def remove(source: str | None, request: gr.Request) -> tuple[Any, ...]:
        if not access.may_edit(request.username):
            log.warning("Refused a removal by %r, who is not an editor.", request.username)
            return (f"⚠️ {EDITORS_ONLY}", *library_updates())
        if not source:
            return ("Choose a document to remove.", *library_updates())
        try:
            removed = library.remove(source)
        except Exception as error:
            return (f"⚠️ {escape_markdown(_sentence(error))}", *library_updates())
        return (f"Removed {escape_markdown(source)} ({removed} passages).", *library_updates())

    def role_view(request: gr.Request) -> tuple[Any, Any]:
        """The library's controls for editors; for a reader, a line saying what they can do."""
        if access.may_edit(request.username):
            return gr.update(visible=True), gr.update(visible=False)
        note = (
            f"Signed in as **{escape_markdown(request.username or '')}**, a reader: you can ask, find projects and "
            "write briefings. Editors add and remove documents."
        )
        return gr.update(visible=False), gr.update(value=note, visible=True)

    # --- layout ----------------------------------------------------------------------------

    events, sources = filter_choices()
    max_megabytes = settings.max_file_bytes // 1_000_000
    with AssistantBlocks(title=TITLE, analytics_enabled=False, delete_cache=DOWNLOAD_CACHE) as demo:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}", elem_id="app-header")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=300):
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            elem_id="chat",
                            height=460,
                            buttons=["copy", "copy_all"],
                            feedback_options=None,
                            sanitize_html=True,
                            latex_delimiters=[],  # "$$" in notes or questions is text, not a formula
                            placeholder="Ask about the projects, events and findings in the notes.",
                            examples=[{"text": question} for question in EXAMPLE_QUESTIONS],
                        )
                        with gr.Row():
                            question_box = gr.Textbox(
                                label="Your question",
                                placeholder="e.g. Which projects supported families at home?",
                                max_length=settings.max_query_chars,
                                scale=5,
                                elem_id="question",
                                autofocus=True,
                            )
                            ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                        with gr.Row():
                            suggestion_buttons = [
                                gr.Button(visible=False, size="sm", elem_classes=["suggestion"])
                                for _ in range(SUGGESTIONS)
                            ]
                        sources_panel = gr.HTML(elem_id="sources")
                    with gr.Column(scale=1, min_width=220):
                        gr.Markdown("### Filters")  # beside the chat; below it on a phone
                        event_filter = gr.Dropdown(
                            events, value=ALL, label="Event", allow_custom_value=True, elem_id="event-filter"
                        )
                        source_filter = gr.Dropdown(
                            sources, value=ALL, label="Document", allow_custom_value=True, elem_id="source-filter"
                        )
                        new_chat_button = gr.Button("New chat", variant="secondary", elem_id="new-chat")
                        download_answer = gr.DownloadButton(
                            "Download answer (Markdown)", visible=False, elem_id="download-answer"
                        )
                history = gr.State([])
            with gr.Tab("Find projects", id="find"):
                challenge_box = gr.Textbox(
                    label="Describe a challenge",
                    placeholder="e.g. we lose young people during onboarding",
                    max_length=settings.max_query_chars,
                    elem_id="challenge",
                )
                find_button = gr.Button("Find projects", variant="primary", elem_id="find-projects")
                finder_status = gr.Markdown(latex_delimiters=[])
                projects_cards = gr.HTML(elem_id="projects")
                projects_csv = gr.DownloadButton("Download CSV", visible=False, elem_id="projects-csv")
            with gr.Tab("Briefing", id="brief"):
                topic_box = gr.Textbox(
                    label="Briefing topic",
                    placeholder="e.g. peer support for care-experienced parents",
                    max_length=settings.max_query_chars,
                    elem_id="topic",
                )
                brief_button = gr.Button("Write briefing", variant="primary", elem_id="write-briefing")
                briefing_preview = gr.HTML(elem_id="briefing")
                briefing_files = gr.File(label="Download (Markdown and Word)", file_count="multiple")
            with gr.Tab("Library", id="library"):
                documents = gr.Dataframe(
                    value=documents_table(),
                    headers=["Document", "Event", "Date", "Passages", "From", "Added (UTC)"],
                    label="Documents in the store",
                    column_widths=["22%", "32%", "11%", "9%", "12%", "14%"],
                    interactive=False,
                    wrap=True,
                    elem_id="documents",
                )
                role_note = gr.Markdown(visible=False, elem_id="role-note")
                # Hidden until the page knows the user is an editor (at once when there is no sign-in).
                with gr.Column(visible=not access.required, elem_id="editor-tools") as editor_tools:
                    upload_files = gr.File(
                        label=f"Add documents (.txt .md .pdf .docx .html, up to {max_megabytes} MB)",
                        file_count="multiple",
                        file_types=[".txt", ".md", ".pdf", ".docx", ".html", ".htm"],
                        elem_id="upload",
                    )
                    upload_button = gr.Button("Add to library", variant="primary", elem_id="add-documents")
                    library_status = gr.Markdown(elem_id="library-status", latex_delimiters=[])
                    with gr.Row():
                        remove_choice = gr.Dropdown(
                            [entry.source for entry in library.documents()],
                            label="Document to remove",
                            allow_custom_value=True,  # checked by the library, which knows every session's uploads
                            scale=3,
                        )
                        remove_button = gr.Button("Remove document", variant="stop", scale=1, elem_id="remove-document")

        chat_outputs = [chatbot, sources_panel, history, question_box, *suggestion_buttons, download_answer]
        chat_inputs = [question_box, chatbot, history, event_filter, source_filter]
        question_box.submit(respond, chat_inputs, chat_outputs, api_name="chat", api_visibility="undocumented")
        ask_button.click(respond, chat_inputs, chat_outputs, api_visibility="private")
        for button in suggestion_buttons:
            button.click(lambda text: text, button, question_box, api_visibility="private").then(
                respond, chat_inputs, chat_outputs, api_visibility="private"
            )
        chatbot.example_select(example_text, None, question_box, api_visibility="private").then(
            respond, chat_inputs, chat_outputs, api_visibility="private"
        )
        new_chat_button.click(new_chat, None, chat_outputs, api_visibility="private")

        find_outputs = [projects_cards, projects_csv, finder_status]
        find_button.click(find, challenge_box, find_outputs, api_name="find_projects", api_visibility="undocumented")
        challenge_box.submit(find, challenge_box, find_outputs, api_visibility="private")
        brief_button.click(
            write_brief, topic_box, [briefing_preview, briefing_files], api_name="brief", api_visibility="undocumented"
        )
        topic_box.submit(write_brief, topic_box, [briefing_preview, briefing_files], api_visibility="private")

        library_outputs = [library_status, documents, remove_choice, event_filter, source_filter]
        upload_button.click(
            upload, upload_files, library_outputs, api_name="upload", concurrency_limit=1, api_visibility="undocumented"
        )
        remove_button.click(
            remove,
            remove_choice,
            library_outputs,
            api_name="remove",
            concurrency_limit=1,
            api_visibility="undocumented",
        )
        # Another user's upload or removal shows on the next page load.
        demo.load(library_updates, None, library_outputs[1:], api_visibility="private")
        demo.load(role_view, None, [editor_tools, role_note], api_visibility="private")
    demo.queue(default_concurrency_limit=settings.concurrency)
    demo.access = access
    demo.downloads = files
    return demo


def _sentence(error: Exception) -> str:
    """A failure as the one sentence a user sees: the project's own message, or a generic one."""
    if isinstance(error, PromiseError):
        return str(error)
    log.error("Unexpected failure in the app.", exc_info=error)  # the traceback, never the user's text
    return UNEXPECTED.format(kind=type(error).__name__)


def example_text(selected: gr.SelectData) -> str:
    """The example question the user clicked (Gradio passes event data by this annotation)."""
    return str(selected.value["text"])


FINDER_HEADERS = (
    "Organisation", "Project", "Event", "Date", "Why relevant (from the notes)", "Contact", "Source", "From",
)  # fmt: skip


def launch(demo: AssistantBlocks, settings: Settings, block: bool = True) -> Any:
    """Serve ``demo`` as the settings say; refuses a non-loopback host without users. Blocking, it removes
    the download files (Gradio's copies too) when it stops, on Ctrl-C, SIGTERM or a normal exit."""
    access = check_binding(settings, demo.access)
    loopback = settings.host in LOOPBACK_HOSTS
    guard = Middleware(Guard, access=access, throttle=SignInThrottle(settings), loopback=loopback)
    try:
        return demo.launch(
            server_name=settings.host,
            server_port=settings.port,
            # Gradio awaits a coroutine function here (routes.login), though its type hint names a plain one.
            auth=access.verify if access.required else None,  # type: ignore[arg-type]
            auth_message=SIGN_IN_MESSAGE if access.required else None,
            app_kwargs={"middleware": [guard], "exception_handlers": {RequestValidationError: refuse_malformed}},
            strict_cors=True,  # Gradio's default, stated: a "null" origin is refused too
            max_file_size=settings.max_file_bytes,
            prevent_thread_lock=not block,
            quiet=True,
            show_error=False,
            ssr_mode=False,
            footer_links=[],
            theme=gr.themes.Soft(),
            css=CSS,
            head=HEAD,
        )
    finally:
        if block:
            demo.close(verbose=False)  # the server's shutdown deletes Gradio's cached copies
            demo.downloads.remove()
