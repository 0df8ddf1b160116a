"""The web app: a thin Gradio shell over the Answerer (chat, finder, briefings) and the Library.

Everything shown comes from the core's typed results, rendered by ``assistant.rendering`` (which escapes
document and user text, so neither is ever rendered as markup). Each tab is built by its own class:
``ui_ask.AskTab`` (its side panel ``ui_side``, saved chats redrawn and exported by ``ui_chats``),
``ui_tabs.FinderTab`` and ``ui_tabs.BriefingTab``, ``ui_library.LibraryTab``; what
they share is in ``ui_shell``. Readers ask, find and brief; only editors change the library
(``assistant.auth``); ``assistant.guard`` decides which requests reach the app at all.
"""

from typing import Any

import gradio as gr
from fastapi.exceptions import RequestValidationError
from starlette.middleware import Middleware

from assistant.answer.answering import Answerer
from assistant.auth import Access, SignInThrottle
from assistant.conversations import ConversationStore
from assistant.errors import ConfigError
from assistant.feedback import FeedbackStore
from assistant.guard import LOOPBACK_HOSTS, Guard, UploadLimits, refuse_malformed
from assistant.library import Library
from assistant.provenance import RECORD_NAME
from assistant.rendering import (
    TITLE,
    answer_markdown_for_chat,
    answer_to_markdown,
    briefing_html,
    escape_markdown,
    highlighted_body,
    project_cards_html,
    source_cards_html,
    supporting_unit,
    uploaded_html,
)
from assistant.settings import Settings
from assistant.ui_ask import AskTab
from assistant.ui_library import LibraryTab
from assistant.ui_shell import AssistantBlocks, Context, DownloadFiles
from assistant.ui_style import CSS, HEAD, theme
from assistant.ui_tabs import BriefingTab, FinderTab
from assistant.wiring import assistant_for

__all__ = [
    "TITLE",
    "AssistantBlocks",
    "answer_markdown_for_chat",
    "answer_to_markdown",
    "briefing_html",
    "build_ui",
    "check_binding",
    "escape_markdown",
    "highlighted_body",
    "launch",
    "project_cards_html",
    "source_cards_html",
    "supporting_unit",
    "uploaded_html",
]

DESCRIPTION = (
    "Answers from the notes of learning events on The Promise (showcases, learning collaboratives, network "
    "meetings). Every sentence cites the passage it comes from; when the notes don't cover a question, it says so."
)
SIGN_IN_MESSAGE = f"{TITLE}: sign in to continue. After several wrong passwords, sign-in pauses for a while."
# The guard lets Gradio sign a user out only on a POST from the app's own page (see assistant.guard).
SIGN_OUT = "() => fetch(new URL('logout', document.baseURI), {method: 'POST'}).then(() => window.location.reload())"
# Gradio's copies of downloads: swept hourly once a day old (a link works for a day), all removed at exit.
DOWNLOAD_CACHE = (3600, 24 * 3600)


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


def build_ui(answerer: Answerer, library: Library) -> AssistantBlocks:
    """The app: a header and four tabs over the same core the CLI uses, each tab wiring its own events."""
    settings = answerer.settings
    database = settings.conversations_path
    context = Context(
        assistant_for(answerer), library, Access.from_settings(settings), DownloadFiles(),
        ConversationStore(database), FeedbackStore(database),
    )  # fmt: skip
    with AssistantBlocks(title=TITLE, analytics_enabled=False, delete_cache=DOWNLOAD_CACHE) as demo:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}", elem_id="app-header")
        if context.access.required:
            sign_out = gr.Button("Sign out", size="sm", variant="secondary", elem_id="sign-out")
            sign_out.click(None, js=SIGN_OUT, api_visibility="private")
        with gr.Tabs():
            ask = AskTab(context)
            finder = FinderTab(context)
            briefing = BriefingTab(context)
            documents = LibraryTab(context, ask.event_filter, ask.source_filter)
        ask.wire(demo)
        finder.wire()
        briefing.wire()
        documents.wire(demo)
    demo.queue(default_concurrency_limit=settings.concurrency)
    demo.access = context.access
    demo.downloads = context.files
    demo.library = library
    return demo


def launch(demo: AssistantBlocks, settings: Settings, block: bool = True) -> Any:
    """Serve ``demo`` as the settings say; refuses a non-loopback host without users. Blocking, it removes
    the download files (Gradio's copies too) when it stops, on Ctrl-C, SIGTERM or a normal exit."""
    access = check_binding(settings, demo.access)
    loopback = settings.host in LOOPBACK_HOSTS
    guard = Middleware(
        Guard, access=access, throttle=SignInThrottle(settings), uploads=UploadLimits(settings), loopback=loopback,
        originals=demo.library.original,
    )  # fmt: skip
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
            # A card's "open the original": the notes folder and the uploads, never the uploaders' record.
            allowed_paths=[str(settings.seeds_dir.resolve()), str(settings.upload_dir.resolve())],
            blocked_paths=[str(settings.upload_dir.resolve() / RECORD_NAME)],
            prevent_thread_lock=not block,
            quiet=True,
            show_error=False,
            ssr_mode=False,
            footer_links=[],
            theme=theme(),
            css=CSS,
            head=HEAD,
        )
    finally:
        if block:
            demo.close(verbose=False)  # the server's shutdown deletes Gradio's cached copies
            demo.downloads.remove()
