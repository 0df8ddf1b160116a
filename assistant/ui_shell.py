"""What the app's tabs share: the Blocks subclass, the download folder, the context each tab is built
with, and a failure turned into the one sentence a user sees.

Handlers return ``Updates``, dictionaries keyed by the output component, so reordering an event's outputs
can never send a value to the wrong component (Gradio matches them by key; a component left out is not
changed). Single-output events return the bare value, as Gradio wants.
"""

import itertools
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.blocks import Block

from assistant.answer.answering import Answerer
from assistant.auth import Access
from assistant.conversations import ConversationStore
from assistant.errors import PromiseError
from assistant.feedback import FeedbackStore
from assistant.library import Library
from assistant.settings import Settings
from assistant.wiring import Assistant

ALL = "All"
UNEXPECTED = (
    "Something went wrong ({kind}); ask again, and if it happens again tell whoever runs this app: "
    "the details are in its log file (PROMISE_LOG_FILE)."
)
log = logging.getLogger("assistant.app")

Updates = dict[Block, Any]


class DownloadFiles:
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
    downloads: DownloadFiles
    library: Library

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


@dataclass(frozen=True)
class Context:
    """What every tab is built with: the core objects, who may do what, where downloads go, and the saved
    conversations and feedback (one SQLite file, ``Settings.conversations_path``)."""

    assistant: Assistant
    library: Library
    access: Access
    files: DownloadFiles
    conversations: ConversationStore
    feedback: FeedbackStore

    @property
    def answerer(self) -> Answerer:
        return self.assistant.answerer

    @property
    def settings(self) -> Settings:
        return self.answerer.settings


def filter_choices(library: Library) -> tuple[list[str], list[str | tuple[str, str]]]:
    """The event and document choices of the chat's filters, "All" first; documents shown by title."""
    documents: list[str | tuple[str, str]] = [ALL]
    documents += [(f"{entry.title} ({entry.source})", entry.source) for entry in library.documents()]
    return [ALL, *library.events()], documents


def user_sentence(error: Exception) -> str:
    """A failure as the one sentence a user sees: the project's own message, or a generic one."""
    if isinstance(error, PromiseError):
        return str(error)
    log.error("Unexpected failure in the app.", exc_info=error)  # the traceback, never the user's text
    return UNEXPECTED.format(kind=type(error).__name__)
