"""The Ask tab: the chat, saved as it goes (``assistant.conversations``), with Stop, Retry and Edit, thumbs
up or down on each answer (``assistant.feedback``), the passages found shown before the answer streams in,
filters, and downloads of the answer and of the whole conversation. The side panel (past chats, filters,
downloads) is ``ui_side.SidePanel``; redrawing a saved chat is ``ui_chats``.

Each question is saved when it is asked and each answer when it ends (a stopped one with what was written),
so a reload, a reopened past chat or a restarted app shows the conversation as it was.
"""

import json
import threading
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from assistant.answer.answering import AnswerEvent, DoneEvent, SourcesEvent, TextEvent
from assistant.conversations import ConversationNotFound
from assistant.errors import AnswerStopped, PromiseError, QueryError, StoreError
from assistant.models import Answer, Citation, SearchFilters, date_number
from assistant.rendering import answer_to_markdown, escape_markdown, source_cards_html
from assistant.retrieval import validate_query
from assistant.text import clean_query
from assistant.ui_chats import STOPPED, ChatView, answer_record, chat_view, stopped_answer
from assistant.ui_shell import ALL, Context, Updates, log, user_sentence
from assistant.ui_side import SidePanel
from assistant.ui_style import ANNOUNCE_ANSWER

EXAMPLE_QUESTIONS = (
    "What is Wee Breathers?",
    "Which projects help care-experienced young people into work?",
    "What did the family learning collaborative talk about?",
)
SUGGESTIONS = 3
FOUND_HEADING = "<h2>Passages found: the answer is being written</h2>"
# How long Stop, Retry and Edit wait for a stopped answer to be saved: the model's stream closes at its next
# chunk, so this is a safety net for a model that sends nothing at all, never a measure of speed.
STOP_GRACE_S = 10.0

Chat = list[dict[str, Any]]


@dataclass(eq=False)
class Writing:
    """An answer being written: the session asking, the conversation it is saved to, the signal Stop sets
    (the model's stream closes at its next chunk) and the one set once it has been saved."""

    session: str
    conversation: str
    stop: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


def example_text(selected: gr.SelectData) -> str:
    """The example question the user clicked (Gradio passes event data by this annotation)."""
    return str(selected.value["text"])


def search_filters(event: str | None, source: str | None, extra: dict[str, str] | None) -> SearchFilters:
    """The chat's filters; a date that is not a year, year-month or day is refused in one sentence."""
    extra = extra or {}
    dates = [(extra.get(key) or "").strip() or None for key in ("date_from", "date_to")]
    for date in dates:
        if date and date_number(date) is None:  # the store's own reading of a date
            raise QueryError(f"The date '{date[:20]}' is not a date like 2025, 2025-03 or 2025-03-14.")
    return SearchFilters(
        event=None if event in (None, "", ALL) else event,
        source=None if source in (None, "", ALL) else source,
        organisation=(extra.get("organisation") or "").strip() or None,
        date_from=dates[0],
        date_to=dates[1],
    )


class AskTab:
    """The chat and what goes with it; ``respond`` is the app's /chat endpoint."""

    def __init__(self, context: Context) -> None:
        self.context = context
        # Answers being written, in any session (set.add and discard are atomic).
        self._writing: set[Writing] = set()
        with gr.Tab("Ask", id="ask"):
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=300):
                    self._conversation()
                with gr.Column(scale=1, min_width=220):
                    self.side = SidePanel(self)
            self.history = gr.State([])
            self.turns = gr.State([])  # per chat message: what a rating of it stores (None for questions)
            self.conversation_id = gr.State("")  # the saved conversation shown ("" until its first question)
            self.rated = gr.State(0)  # the feedback row a comment goes to
        self.event_filter, self.source_filter = self.side.event_filter, self.side.source_filter

    def _conversation(self) -> None:
        self.chatbot = gr.Chatbot(
            label="Conversation",
            show_label=False,  # its floating label would cover the first line of the answer
            elem_id="chat",
            height=460,
            buttons=["copy", "copy_all"],
            feedback_options=("Like", "Dislike"),
            sanitize_html=True,
            latex_delimiters=[],  # "$$" in notes or questions is text, not a formula
            placeholder="Ask about the projects, events and findings in the notes.",
            examples=[{"text": question} for question in EXAMPLE_QUESTIONS],
        )
        with gr.Row():
            self.question_box = gr.Textbox(
                label="Your question",
                placeholder="e.g. Which projects supported families at home?",
                max_length=self.context.settings.max_query_chars,
                scale=5,
                elem_id="question",
                autofocus=True,
            )
            self.ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
        with gr.Row():
            self.stop_button = gr.Button("Stop", size="sm", variant="stop", elem_id="stop")
            self.retry_button = gr.Button("Retry", size="sm", elem_id="retry")
            self.edit_button = gr.Button("Edit last question", size="sm", elem_id="edit")
        with gr.Row(visible=False, elem_id="feedback-comment") as self.comment_row:
            self.comment_box = gr.Textbox(label="Thanks: your rating is saved. A comment (optional)", scale=5)
            self.comment_button = gr.Button("Send comment", size="sm", scale=1, elem_id="send-comment")
        with gr.Row():
            self.suggestion_buttons = [
                gr.Button(visible=False, size="sm", elem_classes=["suggestion"]) for _ in range(SUGGESTIONS)
            ]
        self.sources_panel = gr.HTML(elem_id="sources")

    @property
    def outputs(self) -> list[Any]:
        """What an answer changes; the answer's download stays last (API callers read it there)."""
        return [self.chatbot, self.sources_panel, self.history, self.turns, self.conversation_id, self.question_box,
                *self.suggestion_buttons, self.side.download_answer]  # fmt: skip

    def wire(self, demo: gr.Blocks) -> None:
        inputs = [self.question_box, self.chatbot, self.history, self.event_filter, self.source_filter, self.turns,
                  self.conversation_id, self.side.filters]  # fmt: skip
        outputs = self.outputs
        side = self.side.outputs
        refresh = {"fn": self.side.refreshed, "inputs": [self.conversation_id], "outputs": side,
                   "api_visibility": "private"}  # fmt: skip
        private: dict[str, Any] = {"api_visibility": "private"}
        answering = [
            self.question_box.submit(self.respond, inputs, outputs, api_name="chat", api_visibility="undocumented"),
            self.ask_button.click(self.respond, inputs, outputs, **private),
            *(button.click(lambda text: text, button, self.question_box, **private).then(self.respond, inputs, outputs,
                                                                                          **private)
              for button in self.suggestion_buttons),
            self.chatbot.example_select(example_text, None, self.question_box, **private).then(
                self.respond, inputs, outputs, **private
            ),
            self.retry_button.click(self.retry, [self.conversation_id], outputs, **private).success(
                self.respond, inputs, outputs, **private
            ),
        ]  # fmt: skip
        for event in answering:
            event.then(**refresh)
            event.then(None, js=ANNOUNCE_ANSWER, **private)
        self.stop_button.click(None, None, None, cancels=answering, **private).then(
            self.stopped, [self.chatbot, self.conversation_id], self.chatbot, **private
        ).then(**refresh)
        self.edit_button.click(self.edit, [self.conversation_id], outputs, **private).then(**refresh)
        self.chatbot.like(self.rate, [self.turns], [self.rated, self.comment_row, self.comment_box], **private)
        self.comment_button.click(self.comment, [self.rated, self.comment_box], [self.comment_row, self.comment_box],
                                  **private)  # fmt: skip
        self.side.wire(demo)

    def user(self, request: gr.Request | None) -> str:
        return self.context.access.display_name(request.username if request else None)

    # --- asking -----------------------------------------------------------------------------------

    def respond(
        self, question: str, chat: Chat, history: list[dict[str, str]], event: str, source: str,
        turns: list[Any] | None, conversation_id: str | None, filters: dict[str, str] | None,
        request: gr.Request,
    ) -> Iterator[Updates]:  # fmt: skip
        user = self.user(request)
        question = clean_query(question or "")  # as it is shown and saved: a lone surrogate can be neither
        view = ChatView(list(chat or []), list(history or []), self._aligned(turns, chat), [])
        view.add_question(question)
        turn = view.next_turn()
        streamed: list[str] = []
        shown = ""  # the answer as the user has it: an update counts once Gradio has taken it to send
        writing = Writing(request.session_hash or "", "")
        try:
            question = validate_query(question, self.context.settings)
            search = search_filters(event, source, filters)
            conversation_id = self._saved_question(conversation_id, user, question)
            stream: Generator[AnswerEvent, None, None] = self.context.answerer.stream(  # type: ignore[assignment]
                question, view.history, search, writing.stop
            )  # a generator: closing it abandons the model call
        except Exception as error:  # the edge: every failure becomes one sentence in the chat
            yield self._failed(view, conversation_id, question, error)
            return
        writing.conversation = conversation_id or ""
        self._writing.add(writing)  # Retry and Edit wait for it: they would drop the turn it saves
        try:
            with closing(stream):
                for answer_event in stream:
                    if writing.stop.is_set():
                        raise AnswerStopped("The answer was stopped.")
                    if isinstance(answer_event, SourcesEvent):
                        found = self._found_html(question, answer_event, turn)
                        yield self._pending(view, conversation_id, found)
                    elif isinstance(answer_event, TextEvent):
                        streamed.append(answer_event.text)
                        draft = " ".join(streamed)
                        yield self._pending(view, conversation_id, gr.update(), draft)
                        shown = draft
                    elif isinstance(answer_event, DoneEvent):
                        answer = answer_event.answer
        except (GeneratorExit, AnswerStopped):  # Stop: the model's stream is closed, its call abandoned
            self._save_answer(conversation_id, user, stopped_answer(question, shown), stopped=True)
            return
        except Exception as error:
            yield self._failed(view, conversation_id, question, error)
            return
        finally:
            self._writing.discard(writing)
            writing.done.set()
        view.add_answer(answer)
        self._save_answer(conversation_id, user, answer)
        yield self.shown(view, conversation_id)

    def _saved_question(self, conversation_id: str | None, user: str, question: str) -> str:
        """The question appended to the conversation shown, or to a new one it starts. A chat deleted in
        another tab starts again as a new one; a database that cannot be written leaves the chat unsaved
        (logged), and the question is still answered."""
        store = self.context.conversations
        try:
            if conversation_id:
                try:
                    store.append(conversation_id, user, "user", question)
                    return conversation_id
                except ConversationNotFound:
                    pass
            conversation_id = store.create(user, question, with_question=True).id
        except StoreError as error:
            log.warning("The question was answered but not saved: %s", error)
        return conversation_id or ""

    def _save_answer(self, conversation_id: str | None, user: str, answer: Answer, stopped: bool = False) -> None:
        if not conversation_id:
            return
        try:
            record = answer_record(answer, stopped)
            self.context.conversations.append(conversation_id, user, "assistant", answer.text, record)
        except PromiseError as error:  # the answer still shows; only its copy in the database is missing
            log.warning("An answer was shown but not saved: %s", error)

    @staticmethod
    def _aligned(turns: list[Any] | None, chat: Chat | None) -> list[Any]:
        """The per-message records matched to the chat (a stopped answer left the chat one longer)."""
        turns, length = list(turns or []), len(chat or [])
        return turns[:length] + [None] * (length - len(turns))

    def _found_html(self, question: str, found: SourcesEvent, turn: int) -> str:
        """The passages retrieval found, as cards, shown while the answer is written under them."""
        if not found.results:
            return ""
        citations = [Citation(result.rank, result.passage, result.score) for result in found.results]
        draft = Answer(question, found.standalone_question, found.standalone_question, True, citations, {},
                       "", [])  # fmt: skip
        return source_cards_html(self.context.answerer, draft, turn).replace("<h2>Sources</h2>", FOUND_HEADING, 1)

    def _pending(self, view: ChatView, conversation_id: str | None, sources: Any, draft: str = "") -> Updates:
        """The chat while an answer streams in: nothing to suggest or download yet."""
        shown = [*view.chat, {"role": "assistant", "content": escape_markdown(draft)}] if draft else view.chat
        return {
            self.chatbot: shown,
            self.sources_panel: sources,
            self.history: view.history,
            self.turns: view.turns,
            self.conversation_id: conversation_id or "",
            self.question_box: "",
            **self._suggestions([]),
            self.side.download_answer: gr.update(visible=False),
        }

    def _failed(self, view: ChatView, conversation_id: str | None, question: str, error: Exception) -> Updates:
        message = {"role": "assistant", "content": f"> **Warning:** {escape_markdown(user_sentence(error))}"}
        view.chat.append(message)
        view.turns.append(None)
        return self._pending(view, conversation_id, gr.update()) | {self.question_box: question}

    def shown(self, view: ChatView, conversation_id: str | None) -> Updates:
        """A conversation as it stands: the last answer's source cards and download (a refusal is said once,
        in the chat, with nothing to download), and its suggestions."""
        answer = view.answers[-1] if view.answers else None
        answered = answer is not None and answer.answered
        cards = source_cards_html(self.context.answerer, answer, view.last_turn) if answer and answered else ""
        return {
            self.chatbot: view.chat,
            self.sources_panel: cards,
            self.history: view.history,
            self.turns: view.turns,
            self.conversation_id: conversation_id or "",
            self.question_box: "",
            **self._suggestions(answer.suggestions if answer else []),
            self.side.download_answer: self._download(answer) if cards and answer else gr.update(visible=False),
        }

    def _suggestions(self, topics: list[str]) -> Updates:
        """The suggestion buttons: one per topic (at most three), the rest hidden."""
        topics = topics[:SUGGESTIONS]
        shown = {button: gr.update(value=f"Tell me about {topic}", visible=True)
                 for button, topic in zip(self.suggestion_buttons, topics, strict=False)}  # fmt: skip
        return shown | {button: gr.update(visible=False) for button in self.suggestion_buttons[len(topics) :]}

    def _download(self, answer: Answer) -> Any:
        download = self.context.files.path(answer.question, ".md")
        try:
            download.write_text(answer_to_markdown(answer), encoding="utf-8")
        except OSError:
            return gr.update(visible=False)  # the answer still shows; only its download is missing
        return gr.update(value=str(download), visible=True)

    def stopped(self, chat: Chat, conversation_id: str | None, request: gr.Request) -> Chat:
        """The chat after Stop: the session's answers stopped and saved as the user saw them; one that was
        being written says it was stopped (an answer that had already ended, or a Stop with nothing
        running, changes nothing)."""
        running = [writing for writing in list(self._writing) if writing.session == (request.session_hash or "")]
        for writing in running:
            writing.stop.set()
        for writing in running:
            writing.done.wait(STOP_GRACE_S)
        try:
            saved = self.context.conversations.messages(conversation_id, self.user(request)) if conversation_id else []
        except PromiseError:
            saved = []
        last = saved[-1] if saved else None
        if last is None or (last.role == "assistant" and not json.loads(last.citations_json or "{}").get("stopped")):
            return chat
        note = f"*{STOPPED}*"
        if chat and chat[-1]["role"] == "assistant" and isinstance(chat[-1]["content"], str):
            return [*chat[:-1], {"role": "assistant", "content": f"{chat[-1]['content']}\n\n{note}"}]
        return [*chat, {"role": "assistant", "content": note}]

    # --- the conversation shown: opened, retried, edited ----------------------------------------------

    def opened(self, conversation_id: str | None, user: str) -> tuple[Updates, str]:
        """The saved conversation (one of this user's) as it stands; a new chat if there is none."""
        if not conversation_id:
            return self.shown(ChatView(), ""), ""
        try:
            view = chat_view(self.context.conversations.messages(conversation_id, user))
        except PromiseError:  # deleted, or not this user's: a new chat
            return self.shown(ChatView(), ""), ""
        return self.shown(view, conversation_id), conversation_id

    def _dropped(self, conversation_id: str | None, request: gr.Request) -> tuple[Updates, str]:
        """The last turn taken out; an answer still being written refuses it, unless it was stopped and
        is only being saved."""
        writing_it = [
            writing for writing in list(self._writing) if conversation_id and writing.conversation == conversation_id
        ]
        for writing in writing_it:
            if not (writing.stop.is_set() and writing.done.wait(STOP_GRACE_S)):
                raise gr.Error("An answer is still being written: press Stop first, then Retry or Edit.",
                               print_exception=False)  # fmt: skip
        user = self.user(request)
        question = self.context.conversations.drop_last_turn(conversation_id, user) if conversation_id else None
        if question is None:
            raise gr.Error("There is no question to ask again yet.", print_exception=False)
        updates, _ = self.opened(conversation_id, user)
        return updates, question

    def retry(self, conversation_id: str | None, request: gr.Request) -> Updates:
        """The last question taken out, with its answer, and put in the box for ``respond`` to ask again."""
        updates, question = self._dropped(conversation_id, request)
        return updates | {self.question_box: question}

    def edit(self, conversation_id: str | None, request: gr.Request) -> Updates:
        """The last question taken out, with its answer, and put back in the box to change and ask again."""
        return self.retry(conversation_id, request)

    # --- feedback ---------------------------------------------------------------------------------------

    def rate(self, liked: gr.LikeData, turns: list[Any] | None, request: gr.Request) -> Updates:
        """A thumb up or down on an answer, stored with its question, answer, citations and generator; the
        comment box opens under the chat."""
        index = liked.index if isinstance(liked.index, int) else liked.index[0]
        info = (turns or [])[index] if 0 <= index < len(turns or []) else None
        if not info or not isinstance(liked.liked, bool):
            return {self.rated: 0, self.comment_row: gr.update(visible=False)}
        feedback_id = self.context.feedback.record(
            self.user(request), "up" if liked.liked else "down", info["question"], info["answer"],
            info["citations"], info["generator"], standalone_question=info["standalone_question"],
            history=info["history"],
        )  # fmt: skip
        return {self.rated: feedback_id, self.comment_row: gr.update(visible=True), self.comment_box: ""}

    def comment(self, feedback_id: int, text: str, request: gr.Request) -> Updates:
        if feedback_id and (text or "").strip():
            self.context.feedback.add_comment(feedback_id, self.user(request), text[:2000])
        return {self.comment_row: gr.update(visible=False), self.comment_box: ""}
