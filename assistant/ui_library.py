"""The Library tab: the documents in the store for everyone; adding and removing documents for editors.

The page shows an editor's controls only to editors (``role_view``), and the server refuses a reader's
upload or removal anyway. A removal is asked for, then confirmed (``ask_to_remove``, then ``remove``); a
document from the notes folder needs a second, explicit confirmation, which the server checks too. After
each change the documents table (newest event first), the timeline, the removal choices and the chat's
filters are refreshed; another user's change shows on the next page load.
"""

from pathlib import Path
from typing import Any

import gradio as gr

from assistant.library import instructions_note
from assistant.rendering import escape_markdown
from assistant.store import ManifestEntry
from assistant.text import plural
from assistant.timeline import newest_first, timeline_html
from assistant.ui_shell import Context, Updates, filter_choices, log, user_sentence

EDITORS_ONLY = "Only editors can add or remove documents; ask whoever runs this app if you need to."
HEADERS = ["Document", "File", "Event", "Date", "Passages", "From", "Added (UTC)"]
NOTES_FOLDER = "notes folder"
# The "From" cell of a document with lines that talk to an AI (listed for editors under the table).
TALKS_TO_ASSISTANT = "Warning: talks to the assistant"  # words: an emoji is an empty box without its font
# In pixels: the table keeps them on a phone too, and scrolls sideways there instead of wrapping letter by letter.
COLUMN_WIDTHS: list[str | int] = [240, 200, 260, 100, 90, 200, 170]
CONFIRM_NOTES_FOLDER = "Yes, remove this notes-folder document"
# The timeline's own look, scoped to its component by Gradio.
TIMELINE_CSS = """
svg { max-width: 640px; display: block; }
.axis, .tick { stroke: var(--body-text-color-subdued); stroke-width: 1.5; }
text { font-size: 15px; fill: var(--body-text-color); }
circle { fill: var(--color-accent); }
text.num { fill: white; font-size: 12px; font-weight: 700; }
ol { margin: 4px 0 0; padding-left: 1.6em; font-size: 0.92em; }
"""
# The table scrolls inside its own box on a phone (the page never does); short cells never wrap. A Dataframe
# takes no scoped CSS, so this is a style element in the tab; the removal question is framed as a warning.
STYLE = """<style>
#documents { contain: inline-size; min-width: 0; }
#documents .table-wrap { max-width: 100%; overflow-x: auto; }
#documents th, #documents .body-cell { overflow-wrap: break-word; word-break: normal; hyphens: none; }
#documents th:not(:nth-child(2)) span, #documents .body-cell:nth-child(n+3) span { white-space: nowrap; }
#confirm-removal { border: 1px solid #d9a400; border-radius: 8px; padding: 8px 12px; }
</style>"""


class LibraryTab:
    """The documents table and timeline, the editors' tools, and the refresh of the chat's filters."""

    def __init__(self, context: Context, event_filter: gr.Dropdown, source_filter: gr.Dropdown) -> None:
        self.context = context
        self.event_filter, self.source_filter = event_filter, source_filter
        with gr.Tab("Library", id="library"):
            gr.HTML(STYLE, padding=False, js_on_load=None)
            self.documents = gr.Dataframe(
                value=self.documents_table(),
                headers=HEADERS,
                label="Documents in the store, newest event first",
                column_widths=COLUMN_WIDTHS,
                interactive=False,
                wrap=True,
                elem_id="documents",
            )
            self.timeline = gr.HTML(
                timeline_html(self.context.library.documents()),
                elem_id="library-timeline",
                css_template=TIMELINE_CSS,
                js_on_load=None,
            )
            self.role_note = gr.Markdown(visible=False, elem_id="role-note")
            # Hidden until the page knows the user is an editor (at once when there is no sign-in).
            with gr.Column(visible=not context.access.required, elem_id="editor-tools") as self.editor_tools:
                self._editor_tools()

    def _editor_tools(self) -> None:
        max_megabytes = self.context.settings.max_file_bytes // 1_000_000
        self.upload_files = gr.File(
            label=f"Add documents (.txt .md .pdf .docx .html, up to {max_megabytes} MB)",
            file_count="multiple",
            file_types=[".txt", ".md", ".pdf", ".docx", ".html", ".htm"],
            elem_id="upload",
        )
        self.upload_button = gr.Button("Add to library", variant="primary", elem_id="add-documents")
        self.status = gr.Markdown(elem_id="library-status", latex_delimiters=[])
        self.marked = gr.Markdown(self.marked_lines(), elem_id="marked-lines", latex_delimiters=[])
        with gr.Row():
            self.remove_choice = gr.Dropdown(
                self.remove_choices(),
                label="Document to remove",
                allow_custom_value=True,  # checked by the library, which knows every session's uploads
                scale=3,
                elem_id="remove-choice",
            )
            self.remove_button = gr.Button("Remove document…", variant="stop", scale=1, elem_id="remove-document")
        with gr.Column(visible=False, elem_id="confirm-removal") as self.confirm_box:
            self.confirm_text = gr.Markdown(latex_delimiters=[], elem_id="confirm-text")
            self.notes_check = gr.Checkbox(False, label=CONFIRM_NOTES_FOLDER, visible=False, elem_id="confirm-notes")
            # Per session, on the server: the document the open question names, and whether its notes-folder
            # box is ticked. An API call can send neither, so only this page removes a notes-folder document.
            self.asked = gr.State(None)
            self.notes_confirmed = gr.State(False)
            with gr.Row():
                self.confirm_button = gr.Button("Remove", variant="stop", elem_id="confirm-remove")
                self.cancel_button = gr.Button("Cancel", variant="secondary", elem_id="cancel-remove")

    def wire(self, demo: gr.Blocks) -> None:
        refreshed = [
            self.documents, self.remove_choice, self.event_filter, self.source_filter, self.timeline, self.marked
        ]  # fmt: skip
        outputs = [self.status, *refreshed]
        confirmation = [
            self.confirm_box,
            self.confirm_text,
            self.notes_check,
            self.asked,
            self.notes_confirmed,
            self.confirm_button,
        ]
        self.upload_button.click(
            self.upload, self.upload_files, [*outputs, self.upload_files], api_name="upload", concurrency_limit=1,
            api_visibility="undocumented",
        )  # fmt: skip
        self.remove_button.click(
            self.ask_to_remove, self.remove_choice, [self.status, *confirmation], api_visibility="private"
        )
        self.confirm_button.click(
            self.remove, [self.remove_choice, self.asked, self.notes_confirmed], [*outputs, *confirmation],
            api_name="remove",
            concurrency_limit=1, api_visibility="undocumented",
        )  # fmt: skip
        self.cancel_button.click(self.cancel, None, [self.status, *confirmation], api_visibility="private")
        self.notes_check.change(
            self.second_confirmation, self.notes_check, [self.notes_confirmed, self.confirm_button],
            api_visibility="private",
        )  # fmt: skip
        # Another user's upload or removal shows on the next page load.
        demo.load(self.library_updates, None, refreshed, api_visibility="private")
        demo.load(self.role_view, None, [self.editor_tools, self.role_note], api_visibility="private")

    def documents_table(self) -> list[list[Any]]:
        marked = self.context.library.instructions()
        return [
            [entry.title, entry.source, entry.event, entry.date or "", len(entry.chunk_ids),
             self.added_by(entry) + (f" · {TALKS_TO_ASSISTANT}" if entry.source in marked else ""),
             entry.ingested_at.replace("T", " ")[:16]]
            for entry in newest_first(self.context.library.documents())
        ]  # fmt: skip

    def remove_choices(self) -> list[tuple[str, str]]:
        """Each document by name, the notes folder's marked as such."""
        library = self.context.library
        return [
            (f"{entry.title} ({entry.source}{'' if library.is_upload(entry) else ', ' + NOTES_FOLDER})", entry.source)
            for entry in newest_first(library.documents())
        ]

    def added_by(self, entry: ManifestEntry) -> str:
        library = self.context.library
        if not library.is_upload(entry):
            return NOTES_FOLDER
        upload = library.last_upload(entry)
        return f"uploaded by {upload.by}, {upload.at[:10]}" if upload else "uploaded"

    def marked_lines(self) -> str:
        """For editors: each document's lines that talk to an AI, quoted as text, so they can judge the file."""
        library = self.context.library
        marked = library.instructions()
        parts = []
        for entry in newest_first(library.documents()):
            lines = marked.get(entry.source)
            if lines:
                quoted = "\n".join(f"> {escape_markdown(line)}" for line in lines)
                note = escape_markdown(instructions_note(len(lines)))
                named = f"**{TALKS_TO_ASSISTANT}: {escape_markdown(entry.title)}** ({escape_markdown(entry.source)})"
                parts.append(f"{named}. {note}\n\n{quoted}")
        return "\n\n".join(parts)

    def library_updates(self) -> Updates:
        events, sources = filter_choices(self.context.library)
        return {
            self.documents: self.documents_table(),
            self.remove_choice: gr.update(choices=self.remove_choices(), value=None),
            self.event_filter: gr.update(choices=events),
            self.source_filter: gr.update(choices=sources),
            self.timeline: timeline_html(self.context.library.documents()),
            self.marked: self.marked_lines(),
        }

    def _status(self, message: str) -> Updates:
        """The outcome of an upload or removal, and the library as it now is."""
        return {self.status: message, **self.library_updates()}

    def upload(
        self,
        paths: list[str] | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> Updates:
        """Each file checked and added; the drop zone emptied after, whatever became of the files."""
        settings, access = self.context.settings, self.context.access
        cleared = {self.upload_files: None}
        if not access.may_edit(request.username):  # the page hides the controls; the server refuses anyway
            log.warning("Refused an upload by %r, who is not an editor.", request.username)
            return self._status(f"Warning: {EDITORS_ONLY}") | cleared
        uploader = access.display_name(request.username)
        paths = paths or []
        if not paths:
            return self._status("Choose one or more files first.") | cleared
        if len(paths) > settings.max_upload_files:
            return self._status(f"Warning: at most {settings.max_upload_files} files at a time, please.") | cleared
        lines = []
        for number, path in enumerate(paths):

            def report(share: float, step: str, number: int = number) -> None:
                progress((number + share) / len(paths), desc=step)

            try:
                outcome = self.context.library.upload(
                    Path(path).name, Path(path).read_bytes(), report, uploaded_by=uploader
                )
                lines.append("Done: " + escape_markdown(outcome.message()))
            except Exception as error:  # one line per file; the other files still go in
                lines.append(f"Warning: {escape_markdown(user_sentence(error).rstrip('.'))}. Nothing else was changed.")
        return self._status("\n\n".join(lines)) | cleared

    def ask_to_remove(self, source: str | None, request: gr.Request) -> Updates:
        """The first step of a removal: the question, naming the document; for the notes folder's, the box
        to tick as well."""
        if not self.context.access.may_edit(request.username):
            return {self.status: f"Warning: {EDITORS_ONLY}", **self.closed()}
        entry = self._entry(source)
        if entry is None:
            missing = (
                f"Warning: {escape_markdown(source)} is not in the library."
                if source
                else "Choose a document to remove."
            )
            return {self.status: missing, **self.closed()}
        what = f"{escape_markdown(entry.source)}, {plural(len(entry.chunk_ids), 'passage')}"
        title = escape_markdown(entry.title)
        if self.context.library.is_upload(entry):
            question = f"Really remove **{title}** ({what})? Its uploaded file is deleted too."
        else:
            question = (
                f"**{title}** ({what}) comes from the **notes folder**, not an upload. "
                "Removing it takes it out of the library only: the file stays in the notes folder, and the next "
                f"ingest of that folder adds it back. Tick “{CONFIRM_NOTES_FOLDER}” to remove it."
            )
        upload = self.context.library.is_upload(entry)
        return {
            self.status: "",
            self.confirm_box: gr.update(visible=True),
            self.confirm_text: question,
            self.notes_check: gr.update(value=False, visible=not upload),
            self.asked: entry.source,
            self.notes_confirmed: False,
            self.confirm_button: gr.update(interactive=upload),
        }

    def _entry(self, source: str | None) -> ManifestEntry | None:
        return next((entry for entry in self.context.library.documents() if entry.source == source), None)

    def closed(self) -> Updates:
        """The removal question put away, its box unticked."""
        return {
            self.confirm_box: gr.update(visible=False),
            self.confirm_text: "",
            self.notes_check: gr.update(value=False, visible=False),
            self.asked: None,
            self.notes_confirmed: False,
            self.confirm_button: gr.update(interactive=True),
        }

    def second_confirmation(self, ticked: bool) -> Updates:
        """The box for a notes-folder document ticked (or unticked): its removal allowed (or not)."""
        return {self.notes_confirmed: bool(ticked), self.confirm_button: gr.update(interactive=bool(ticked))}

    def cancel(self) -> Updates:
        return {self.status: "Nothing was removed.", **self.closed()}

    def remove(self, source: str | None, asked: str | None, notes_confirmed: bool, request: gr.Request) -> Updates:
        """The confirmed removal (the /remove endpoint, given the document's name): what the page's question
        named, and a notes-folder document only with its box ticked there."""
        if not self.context.access.may_edit(request.username):
            log.warning("Refused a removal by %r, who is not an editor.", request.username)
            return self._status(f"Warning: {EDITORS_ONLY}") | self.closed()
        if not source:
            return self._status("Choose a document to remove.") | self.closed()
        if asked is not None and asked != source:  # the choice changed under an open question
            return {
                self.status: f"Warning: nothing was removed: ask again to remove {escape_markdown(source)}.",
                **self.closed(),
            }
        entry = self._entry(source)
        if entry is not None and not self.context.library.is_upload(entry) and not (notes_confirmed and asked):
            refusal = (
                f"Warning: {escape_markdown(source)} comes from the notes folder; tick “{CONFIRM_NOTES_FOLDER}” first."
            )
            return {self.status: refusal}
        try:
            removed = self.context.library.remove(source)
        except Exception as error:
            return self._status(f"Warning: {escape_markdown(user_sentence(error))}") | self.closed()
        return self._status(f"Removed {escape_markdown(source)} ({plural(removed, 'passage')}).") | self.closed()

    def role_view(self, request: gr.Request) -> Updates:
        """The library's controls for editors; for a reader, a line saying what they can do."""
        if self.context.access.may_edit(request.username):
            return {self.editor_tools: gr.update(visible=True), self.role_note: gr.update(visible=False)}
        note = (
            f"Signed in as **{escape_markdown(request.username or '')}**, a reader: you can ask, find projects and "
            "write briefings. Editors add and remove documents."
        )
        return {self.editor_tools: gr.update(visible=False), self.role_note: gr.update(value=note, visible=True)}
