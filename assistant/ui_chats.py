"""Saved chats in the Ask tab: each answer kept as a JSON record beside its text, a conversation redrawn
from the store exactly as it was shown, and a whole conversation written out as Markdown or Word.

No Gradio here: ``assistant.ui_ask`` shows what these return. A record holds what the chat needs to redraw
an answer and its source cards (the cited passages with their metadata), so a reopened chat looks as it did.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.conversations import Message
from assistant.exports import docx_text, markdown_text, write_markdown_or_word
from assistant.models import Answer, ChunkMetadata, Citation, Passage
from assistant.rendering import TITLE, answer_markdown_for_chat, answer_to_markdown, escape_markdown

STOPPED = "Stopped before the answer was finished."

Chat = list[dict[str, Any]]
History = list[dict[str, str]]


def answer_record(answer: Answer, stopped: bool = False) -> str:
    """The answer's citations (passage and metadata), generator and flags, as stored beside its text."""
    return json.dumps(
        {
            "standalone_question": answer.standalone_question,
            "answered": answer.answered,
            "generator": answer.generator,
            "notice": answer.notice,
            "stopped": stopped,
            "citations": [_cited(citation) for citation in answer.citations],
        },
        ensure_ascii=False,
    )


def _cited(citation: Citation) -> dict[str, Any]:
    passage = citation.passage
    return {"n": citation.n, "score": citation.score, "chunk_id": passage.chunk_id, "text": passage.text,
            "metadata": passage.metadata.to_store()}  # fmt: skip


def answer_from_record(question: str, text: str, record: str | None) -> Answer:
    """The answer as it was given, from its stored text and record (a record that cannot be read gives the
    text alone, uncited)."""
    try:
        values: dict[str, Any] = json.loads(record or "{}")
        citations = [
            Citation(int(item["n"]), Passage(str(item["chunk_id"]), str(item["text"]),
                                             ChunkMetadata.from_store(item["metadata"])), float(item["score"]))
            for item in values.get("citations", [])
        ]  # fmt: skip
    except (ValueError, KeyError, TypeError):
        values, citations = {}, []
    return Answer(
        question=question,
        standalone_question=str(values.get("standalone_question") or question),
        text=text,
        answered=bool(values.get("answered", True)) and not values.get("stopped", False),
        citations=citations,
        timings={},
        generator=str(values.get("generator") or "extractive"),
        suggestions=[],
        notice=values.get("notice"),
    )


def stopped_answer(question: str, partial: str) -> Answer:
    """What a stopped answer is saved as: the sentences written so far, and that it was stopped."""
    text = f"{partial} ({STOPPED})" if partial else STOPPED
    return Answer(question, question, text, False, [], {}, "extractive", [], None)


def turn_info(answer: Answer, history: History) -> dict[str, Any]:
    """What a thumbs up or down on this answer stores with it."""
    return {
        "question": answer.question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "citations": [citation.label() for citation in answer.citations],
        "generator": answer.generator,
        "history": list(history),
    }


def chat_message(answer: Answer, turn: int, stopped: bool = False) -> dict[str, str]:
    """An answer as its chat message; a stopped one shows what was written and that it was stopped."""
    if stopped:
        return {"role": "assistant", "content": escape_markdown(answer.text)}
    return {"role": "assistant", "content": answer_markdown_for_chat(answer, turn)}


@dataclass
class ChatView:
    """A conversation as the Ask tab shows it: the chat, the history the answerer reads, per chat message
    what feedback on it stores (None for questions), and the answers given, in order."""

    chat: Chat = field(default_factory=list)
    history: History = field(default_factory=list)
    turns: list[dict[str, Any] | None] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    last_turn: int = 0  # the number in the last answer's card ids (source-<turn>-<n>)

    def next_turn(self) -> int:
        """The next answer's number: one more than the answers the answerer reads (stopped ones have no cards)."""
        return len(self.history) // 2 + 1

    def add_question(self, question: str) -> None:
        self.chat.append({"role": "user", "content": escape_markdown(question or " ")})
        self.turns.append(None)

    def add_answer(self, answer: Answer, stopped: bool = False) -> None:
        self.last_turn = self.next_turn()
        self.answers.append(answer)
        self.chat.append(chat_message(answer, self.last_turn, stopped))
        self.turns.append(None if stopped else turn_info(answer, self.history))
        if not stopped:
            self.history += [{"role": "user", "content": answer.question},
                             {"role": "assistant", "content": answer.text}]  # fmt: skip


def chat_view(messages: Sequence[Message]) -> ChatView:
    """The stored messages redrawn: each question, then its answer (a question whose answer was never
    written, because the app stopped, stands alone)."""
    view = ChatView()
    question = ""
    for message in messages:
        if message.role == "user":
            question = message.content
            view.add_question(question)
        else:
            stopped = bool(json.loads(message.citations_json or "{}").get("stopped"))
            view.add_answer(answer_from_record(question, message.content, message.citations_json), stopped)
    return view


def conversation_markdown(title: str, answers: Sequence[Answer]) -> str:
    """The whole conversation, each answer with its sources and passages, as a Markdown file."""
    return "\n".join([f"# {markdown_text(title)}", "", *(answer_to_markdown(answer) for answer in answers)])


def write_conversation(title: str, answers: Sequence[Answer], path: Path) -> Path:
    """The conversation written to ``path`` (.md or .docx), its sources under each answer."""
    return write_markdown_or_word(
        path,
        lambda: conversation_markdown(title, answers),
        lambda: _docx(title, answers),
        "Cannot write the conversation ({reason}).",
    )


def _docx(title: str, answers: Sequence[Answer]) -> Any:  # python-docx ships no type hints
    import docx

    document = docx.Document()
    document.add_heading(docx_text(title), level=1)
    for answer in answers:
        document.add_heading(docx_text(answer.question), level=2)
        document.add_paragraph(docx_text(answer.text))
        if answer.citations:
            document.add_heading("Sources", level=3)
        for citation in answer.citations:
            document.add_paragraph(docx_text(citation.label()), style="List Bullet")
            document.add_paragraph(docx_text(" ".join(citation.passage.body.split())), style="Quote")
    document.add_paragraph(f"From the notes, by {TITLE}.")
    return document
