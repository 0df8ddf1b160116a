"""The web app: a thin Gradio shell over the Answerer (chat, finder, briefings) and the Library.

Everything shown comes from the core's typed results. Document and user text is escaped before it
reaches the page (HTML components) or the chat (Markdown), so neither is ever rendered as markup.
"""

import csv
import html
import itertools
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answering import Answerer, DoneEvent, TextEvent
from assistant.briefing import write_briefing
from assistant.errors import ConfigError, PromiseError
from assistant.library import Library
from assistant.models import Answer, Briefing, Citation, ProjectMatch, SearchFilters
from assistant.settings import Settings

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
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
UNEXPECTED = "Something went wrong ({kind}); please try again, and tell whoever runs this app if it persists."
SUGGESTIONS = 3
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
    if not answer.answered:
        return f"> ⚠️ **Not in the notes.** {text}"
    text = _CITATION_MARK.sub(lambda match: f"[\\[{match[1]}\\]](#source-{turn}-{match[1]})", text)
    sources = "\n".join(f"{index}. {escape_markdown(citation.label()[len(f'[{citation.n}] '):])}"
                        for index, citation in enumerate(answer.citations, start=1))  # fmt: skip
    return f"{text}\n\n**Sources**\n\n{sources}"


def answer_to_markdown(answer: Answer) -> str:
    """The answer and its sources as a Markdown file to keep or paste into a briefing."""
    lines = [f"## {answer.question}", "", answer.text, ""]
    if answer.citations:
        lines += ["### Sources", ""]
        for citation in answer.citations:
            lines += [f"- {citation.label()}", "", f"  > {' '.join(citation.passage.body.split())}", ""]
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
            f'<span class="file">{html.escape(meta.source)}</span></summary>'
            f"<blockquote>{body}</blockquote></details>"
        )
    return "<h3>Sources</h3>" + "".join(cards)


def project_cards_html(matches: list[ProjectMatch]) -> str:
    """One card per project: who, where and when, why it is relevant (cited), the contact, the passage."""
    cards = []
    for number, match in enumerate(matches, start=1):
        who = " – ".join(html.escape(part) for part in (match.organisation, match.project) if part)
        when = f" · {html.escape(match.date)}" if match.date else ""
        reason = _MARKER.sub("", match.why)
        why = html.escape(reason)
        contact = f'<p class="contact">Contact: {html.escape(match.contact)}</p>' if match.contact else ""
        passage = match.citations[0].passage.body
        cards.append(
            f'<article class="project-card"><h3>{number}. {who}</h3>'
            f'<p class="where">{html.escape(match.event)}{when} '
            f'<span class="file">{html.escape(match.source)}</span></p>'
            f'<p>{why} <a href="#project-{number}">[{number}]</a></p>{contact}'
            f'<details class="source-card" id="project-{number}"><summary>[{number}] The passage in the notes</summary>'
            f"<blockquote>{highlighted_body(passage, reason.rstrip('.'))}</blockquote>"
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


def auth_pairs(settings: Settings) -> list[tuple[str, str]]:
    """Users allowed in: PROMISE_AUTH ("user:password") and each line of PROMISE_AUTH_FILE."""
    entries: list[tuple[str, str]] = []
    lines = [settings.auth] if settings.auth else []
    if settings.auth_file:
        try:
            lines += settings.auth_file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise ConfigError(f"Cannot read the auth file {settings.auth_file} ({error.strerror}).") from None
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, colon, password = line.partition(":")
        if not colon or not user or not password:
            raise ConfigError("Each user must be given as user:password (in PROMISE_AUTH or the auth file).")
        entries.append((user, password))
    return entries


def check_binding(settings: Settings) -> list[tuple[str, str]] | None:
    """Auth for launch; serving beyond loopback without it is refused."""
    users = auth_pairs(settings)
    if settings.host not in LOOPBACK_HOSTS and not users:
        raise ConfigError(
            f"Serving on {settings.host} would let other machines in: set PROMISE_AUTH=user:password "
            "(or PROMISE_AUTH_FILE) first, or serve on 127.0.0.1."
        )
    return users or None


class _DownloadFiles:
    """Files written for users to download, in one folder per app run, removed when the app exits
    (Gradio copies each to its own cache before serving it)."""

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="promise-assistant-")
        self._numbers = itertools.count(1)  # thread-safe: concurrent requests never share a name

    def path(self, stem: str, suffix: str) -> Path:
        safe = re.sub(r"[^\w-]+", "-", stem.lower()).strip("-")[:50] or "answer"
        return Path(self._directory.name) / f"{safe}-{next(self._numbers)}{suffix}"


def build_ui(answerer: Answerer, library: Library) -> gr.Blocks:
    settings = answerer.settings
    files = _DownloadFiles()

    def filter_choices() -> tuple[list[str], list[str]]:
        documents = library.documents()
        return [ALL, *library.events()], [ALL, *(entry.source for entry in documents)]

    def documents_table() -> list[list[Any]]:
        return [
            [entry.source, entry.event, entry.date or "", len(entry.chunk_ids),
             "uploaded" if library.is_upload(entry) else "notes folder", entry.ingested_at.replace("T", " ")[:16]]
            for entry in library.documents()
        ]  # fmt: skip

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
            [match.organisation, match.project or "", match.event, match.date or "",
             _MARKER.sub("", match.why), match.contact or "", match.source]
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
                writer.writerows(rows)
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

    def upload(paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
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
                lines.append("✅ " + escape_markdown(library.upload(name, Path(path).read_bytes(), report).message()))
            except Exception as error:  # one line per file; the other files still go in
                lines.append(f"⚠️ {escape_markdown(_sentence(error).rstrip('.'))}. Nothing else was changed.")
        return ("\n\n".join(lines), *library_updates())

    def remove(source: str | None) -> tuple[Any, ...]:
        if not source:
            return ("Choose a document to remove.", *library_updates())
        try:
            removed = library.remove(source)
        except Exception as error:
            return (f"⚠️ {escape_markdown(_sentence(error))}", *library_updates())
        return (f"Removed {escape_markdown(source)} ({removed} passages).", *library_updates())

    # --- layout ----------------------------------------------------------------------------

    events, sources = filter_choices()
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
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
                upload_files = gr.File(
                    label=f"Add documents (.txt .md .pdf .docx .html, up to {settings.max_file_bytes // 1_000_000} MB)",
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
        question_box.submit(respond, chat_inputs, chat_outputs, api_name="chat")
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
        find_button.click(find, challenge_box, find_outputs, api_name="find_projects")
        challenge_box.submit(find, challenge_box, find_outputs, api_visibility="private")
        brief_button.click(write_brief, topic_box, [briefing_preview, briefing_files], api_name="brief")
        topic_box.submit(write_brief, topic_box, [briefing_preview, briefing_files], api_visibility="private")

        library_outputs = [library_status, documents, remove_choice, event_filter, source_filter]
        upload_button.click(upload, upload_files, library_outputs, api_name="upload", concurrency_limit=1)
        remove_button.click(remove, remove_choice, library_outputs, api_name="remove", concurrency_limit=1)
        # Another user's upload or removal shows on the next page load.
        demo.load(library_updates, None, library_outputs[1:], api_visibility="private")
    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo


def _sentence(error: Exception) -> str:
    """A failure as the one sentence a user sees: the project's own message, or a generic one."""
    return str(error) if isinstance(error, PromiseError) else UNEXPECTED.format(kind=type(error).__name__)


def example_text(selected: gr.SelectData) -> str:
    """The example question the user clicked (Gradio passes event data by this annotation)."""
    return str(selected.value["text"])


FINDER_HEADERS = ("Organisation", "Project", "Event", "Date", "Why relevant (from the notes)", "Contact", "Source")


def launch(demo: gr.Blocks, settings: Settings, block: bool = True) -> Any:
    """Serve ``demo`` as the settings say; refuses a non-loopback host without auth."""
    users = check_binding(settings)
    return demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=users,
        auth_message=f"{TITLE}: sign in to continue." if users else None,
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
