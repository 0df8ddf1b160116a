"""The Ask tab's side panel: past chats (reopen, rename, delete, new chat), the filters, and the downloads
of the last answer and of the whole conversation. Beside the chat; under it on a phone.

The conversation shown is kept in the browser (``gr.BrowserState``), so a reload reopens it; each user sees
only their own chats (``assistant.conversations`` scopes every call by user).
"""

import contextlib
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.conversations import ConversationSummary
from assistant.errors import PromiseError
from assistant.ui_chats import chat_view, write_conversation
from assistant.ui_shell import ALL, Updates, filter_choices

if TYPE_CHECKING:
    from assistant.ui_ask import AskTab

PAST_CHATS_SHOWN = 50
# The conversation id kept in the browser: not a secret (another user's id opens nothing), so a fixed key
# lets a reload after a restart of the app reopen it too.
SAVED_CHAT_KEY = "promise-assistant-chat"
ANY_DATE = "any date"


class SidePanel:
    def __init__(self, tab: "AskTab") -> None:
        self.tab = tab
        context = tab.context
        self.new_chat_button = gr.Button("New chat", variant="secondary", elem_id="new-chat")
        self.past_chats = gr.Radio([], value=None, label="Past chats", elem_id="past-chats")
        with gr.Accordion("Rename or delete this chat", open=False, elem_id="chat-tools"):
            self.title_box = gr.Textbox(label="New title", max_length=200, elem_id="chat-title")
            with gr.Row():
                self.rename_button = gr.Button("Rename", size="sm", elem_id="rename-chat")
                self.delete_button = gr.Button("Delete chat", size="sm", variant="stop", elem_id="delete-chat")
        events, sources = filter_choices(context.library)
        gr.Markdown("## Filters")
        self.event_filter = gr.Dropdown(
            events, value=ALL, label="Event", allow_custom_value=True, elem_id="event-filter"
        )
        self.source_filter = gr.Dropdown(
            sources, value=ALL, label="Document", allow_custom_value=True, elem_id="source-filter"
        )
        self.organisation_filter = gr.Textbox(
            label="Organisation or project", max_length=200, elem_id="organisation-filter"
        )
        with gr.Row():
            # No sample date as a placeholder: one reads as a filter already set. The format is said under them.
            self.date_from = gr.Textbox(label="From", placeholder=ANY_DATE, max_length=10, min_width=90,
                                        elem_id="date-from")  # fmt: skip
            self.date_to = gr.Textbox(label="To", placeholder=ANY_DATE, max_length=10, min_width=90, elem_id="date-to")
        gr.Markdown("Dates as 2025, 2025-03 or 2025-03-14; left empty, no date is left out.", elem_id="date-help")
        self.download_answer = gr.DownloadButton("Download answer (Markdown)", visible=False, elem_id="download-answer")
        self.export_markdown = gr.DownloadButton("Export chat (Markdown)", visible=False, elem_id="export-md")
        self.export_word = gr.DownloadButton("Export chat (Word)", visible=False, elem_id="export-docx")
        self.filters = gr.State({})  # organisation and dates, read by /chat (its visible inputs stay four)
        self.saved_chat = gr.BrowserState("", storage_key=SAVED_CHAT_KEY, secret=SAVED_CHAT_KEY)

    @property
    def outputs(self) -> list[Any]:
        return [self.past_chats, self.saved_chat, self.export_markdown, self.export_word]

    def wire(self, demo: gr.Blocks) -> None:
        everything = [*self.tab.outputs, *self.outputs]
        private: dict[str, Any] = {"api_visibility": "private"}
        extra = [self.organisation_filter, self.date_from, self.date_to]
        for box in extra:
            box.change(self.filter_values, extra, self.filters, **private)
        demo.load(self.restore, [self.saved_chat], everything, **private)
        self.past_chats.input(self.restore, [self.past_chats], everything, **private)
        self.new_chat_button.click(self.new_chat, None, everything, **private)
        self.tab.chatbot.clear(self.new_chat, None, everything, **private)  # the chat's own Clear starts a new one
        self.rename_button.click(self.rename, [self.tab.conversation_id, self.title_box],
                                 [*self.outputs, self.title_box], **private)  # fmt: skip
        self.delete_button.click(self.delete, [self.tab.conversation_id], everything, **private)

    @staticmethod
    def filter_values(organisation: str, date_from: str, date_to: str) -> dict[str, str]:
        return {"organisation": organisation or "", "date_from": date_from or "", "date_to": date_to or ""}

    def new_chat(self, request: gr.Request) -> Updates:
        return self.restore(None, request)

    def restore(self, conversation_id: str | None, request: gr.Request) -> Updates:
        """A saved conversation reopened (after a reload, or picked from the list), or a new chat."""
        user = self.tab.user(request)
        updates, shown = self.tab.opened(conversation_id, user)
        del updates[self.tab.question_box]  # what the user may be typing as the page loads stays
        return updates | self._side(user, shown)

    def refreshed(self, conversation_id: str | None, request: gr.Request) -> Updates:
        return self._side(self.tab.user(request), conversation_id or "")

    def rename(self, conversation_id: str | None, title: str, request: gr.Request) -> Updates:
        user = self.tab.user(request)
        if not conversation_id:
            raise gr.Error("Ask a question first: a chat is saved with its first question.", print_exception=False)
        try:
            self.tab.context.conversations.rename(conversation_id, user, title or "")
        except PromiseError as error:
            raise gr.Error(str(error), print_exception=False) from None
        return self._side(user, conversation_id) | {self.title_box: ""}

    def delete(self, conversation_id: str | None, request: gr.Request) -> Updates:
        user = self.tab.user(request)
        if conversation_id:
            with contextlib.suppress(PromiseError):  # already gone
                self.tab.context.conversations.delete(conversation_id, user)
        return self.restore(None, request)

    def _side(self, user: str, conversation_id: str) -> Updates:
        """The past chats (newest first, this one chosen), the chat kept in the browser, its exports."""
        conversations = self.tab.context.conversations
        chats = conversations.list(user, limit=PAST_CHATS_SHOWN)
        choices = [(past_chat_label(chat), chat.id) for chat in chats]
        chosen = conversation_id if any(chat.id == conversation_id for chat in chats) else None
        exports = self._exports(user, chosen) if chosen else None
        return {
            self.past_chats: gr.update(choices=choices, value=chosen),
            self.saved_chat: chosen or "",
            self.export_markdown: gr.update(value=exports[0], visible=True) if exports else gr.update(visible=False),
            self.export_word: gr.update(value=exports[1], visible=True) if exports else gr.update(visible=False),
        }

    def _exports(self, user: str, conversation_id: str) -> tuple[str, str] | None:
        """The conversation as Markdown and Word files, each answer with its sources; None before an answer."""
        context = self.tab.context
        try:
            title = context.conversations.get(conversation_id, user).title
            answers = chat_view(context.conversations.messages(conversation_id, user)).answers
            if not answers:
                return None
            paths = [context.files.path(title, suffix) for suffix in (".md", ".docx")]
            return tuple(str(write_conversation(title, answers, path)) for path in paths)  # type: ignore[return-value]
        except PromiseError:
            return None  # the chat still shows; only its export is missing


def past_chat_label(chat: ConversationSummary) -> str:
    """A past chat's title and when it was last active, so chats of the same title can be told apart."""
    when = chat.updated_at.replace("T", " ")[:16]
    return f"{chat.title} ({when} UTC)" if when else chat.title
