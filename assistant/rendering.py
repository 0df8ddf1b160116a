"""Answers, projects and briefings as the text people read: chat Markdown, HTML cards, Markdown and CSV files.

No web framework here: the app (``assistant.app``) shows what these functions return. Document and user
text is escaped before it reaches HTML or Markdown, so neither is ever rendered as markup; files go
through ``assistant.exports``. Which sentence of a cited passage supports the answer is decided here,
with the answerer's own measure (``Answerer.best_unit``), so every face highlights the same sentence.
"""

import csv
import html
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from assistant.answer.answering import Answerer
from assistant.exports import csv_cell, markdown_text
from assistant.library import original_file
from assistant.models import Answer, Briefing, ChunkMetadata, Citation, ProjectMatch
from assistant.text import ESCAPED_CITATION, sentences_of, without_bullet, without_citations

TITLE = "Promise Assistant"
FINDER_HEADERS = (
    "Organisation", "Project", "Event", "Date", "Document", "Why relevant (from the notes)", "Contact", "Source",
    "From",
)  # fmt: skip
# Where a document's original file opens: by its name, which the guard turns into Gradio's own file route
# (whose URL would show where the file sits on the server). See ``assistant.library.original_file``.
ORIGINALS_ROUTE = "/originals/"
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


# A web address or an e-mail address in the text. The chat's Markdown links these itself, from the raw text,
# so a backslash put before a dot in one would be shown ("attacker\\.example"); they are left as they are,
# holding none of the characters that open a link, an image, emphasis or code.
WEB_ADDRESS = re.compile(r"(?:https?://|www\.)[^\s<>\[\]()`*|\\]+|\b\w[\w.+-]*@[\w-]+(?:\.[\w-]+)+")


def escape_markdown(text: str) -> str:
    """Text shown literally in a Markdown component: markup characters lose their meaning, except inside a
    web or e-mail address (see ``WEB_ADDRESS``)."""
    escaped, start = [], 0
    for address in WEB_ADDRESS.finditer(text):
        escaped += [_escaped(text[start : address.start()]), html.escape(address[0], quote=False)]
        start = address.end()
    return "".join([*escaped, _escaped(text[start:])])


def _escaped(text: str) -> str:
    return MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def strip_citations(text: str) -> str:
    """Plain text without its [n] markers (and the space before each)."""
    return without_citations(text)


def not_covered_html(text: str) -> str:
    """A notice that the notes do not cover something (or that it failed), as one status line."""
    return f'<div class="not-covered" role="status">{html.escape(text)}</div>'


def answer_markdown_for_chat(answer: Answer, turn: int) -> str:
    """The answer as a chat message: escaped text, each [n] linked to its source card, then the sources."""
    text = escape_markdown(answer.text)
    notice = f"*Note: {escape_markdown(answer.notice)}*\n\n" if answer.notice else ""
    if not answer.answered:
        return f"{notice}> **Not in the notes.** {text}"
    text = ESCAPED_CITATION.sub(lambda match: f"[\\[{match[1]}\\]](#source-{turn}-{match[1]})", text)
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
    citing = " ".join(sentence for sentence in sentences_of(answer_text) if f"[{citation.n}]" in sentence)
    return answerer.best_unit(without_citations(citing) or answer_text, citation.passage)


def highlighted_body(body: str, unit: str) -> str:
    """The passage, escaped, with the supporting sentence (or the list items it joins) marked."""
    escaped = html.escape(body)
    sentence = html.escape(unit)
    if sentence and sentence in escaped:
        return escaped.replace(sentence, f"<mark>{sentence}</mark>", 1)
    lines = []
    for line in escaped.splitlines():
        item = without_bullet(line).strip().rstrip(".;:")
        lines.append(f"<mark>{line}</mark>" if len(item.split()) >= 2 and item in sentence else line)
    return "\n".join(lines)


def uploaded_html(meta: ChunkMetadata) -> str:
    """A mark beside an uploaded passage's file name, so no one takes it for the notes."""
    return f' <span class="uploaded">{html.escape(meta.provenance)}</span>' if meta.provenance else ""


def original_links(answerer: Answerer) -> dict[str, str]:
    """Each document whose original file the app serves (see ``original_file``), by file name, as the URL
    that opens it."""
    retriever, settings = answerer.retriever, answerer.settings
    return {
        source: ORIGINALS_ROUTE + quote(source, safe="")
        for source in retriever.documents
        if original_file(retriever, settings, source) is not None
    }


def file_html(meta: ChunkMetadata, links: Mapping[str, str]) -> str:
    """The folded card's line naming the file (and its pages), with a link that opens the original."""
    pages = f" · {html.escape(meta.pages)}" if meta.pages else ""
    url = links.get(meta.source)
    # An HTML document is downloaded, never opened: opened, it would run as a page of the app's own site.
    download = " download" if meta.source.lower().endswith((".html", ".htm")) else ""
    link = (
        f' · <a class="original" href="{html.escape(url)}" target="_blank" rel="noopener noreferrer"{download}>'
        "open the original</a>"
        if url
        else ""
    )
    return f'<p class="file">file: {html.escape(meta.source)}{pages}{link}</p>'


def card_heading(meta: ChunkMetadata) -> str:
    """A source card's heading: the document's title, whom the passage is about, its pages."""
    parts = [f"<b>{html.escape(meta.title)}</b>"] + [html.escape(part) for part in (meta.who, meta.pages) if part]
    return " · ".join(parts) + uploaded_html(meta)


def source_cards_html(answerer: Answerer, answer: Answer, turn: int) -> str:
    """One folded card per citation (the document's title, who, pages), its supporting sentence marked; the file
    name and a link to the original inside."""
    if not answer.answered:
        return not_covered_html(answer.text)
    links = original_links(answerer)
    cards = []
    for citation in answer.citations:
        meta = citation.passage.metadata
        body = highlighted_body(citation.passage.body, supporting_unit(answerer, answer.text, citation))
        cards.append(
            f'<details class="source-card" id="source-{turn}-{citation.n}">'
            f'<summary><span class="num">[{citation.n}]</span> {card_heading(meta)}</summary>'
            f"{file_html(meta, links)}<blockquote>{body}</blockquote></details>"
        )
    return "<h2>Sources</h2>" + "".join(cards)


def project_cards_html(matches: list[ProjectMatch], links: Mapping[str, str] | None = None) -> str:
    """One card per project: who, the document it is found in, why it is relevant (cited), the contact, the
    passage; ``links`` (see ``original_links``) gives the passage's original file a link."""
    cards = []
    for number, match in enumerate(matches, start=1):
        who = html.escape(match.who)
        reason = strip_citations(match.why)
        why = html.escape(reason)
        contact = f'<p class="contact">Contact: {html.escape(match.contact)}</p>' if match.contact else ""
        passage = match.citations[0].passage
        pages = f" · {html.escape(passage.metadata.pages)}" if passage.metadata.pages else ""
        cards.append(
            f'<article class="project-card"><h2>{number}. {who}</h2>'
            f'<p class="where">{html.escape(match.title)}{pages}{uploaded_html(passage.metadata)}</p>'
            f'<p>{why} <a href="#project-{number}">[{number}]</a></p>{contact}'
            f'<details class="source-card" id="project-{number}"><summary>[{number}] The passage in the notes</summary>'
            f"{file_html(passage.metadata, links or {})}"
            f"<blockquote>{highlighted_body(passage.body, reason.rstrip('.'))}</blockquote>"
            "</details></article>"
        )
    return "".join(cards)


def project_rows(matches: list[ProjectMatch]) -> list[list[str]]:
    """The finder's projects as table rows under ``FINDER_HEADERS``."""
    return [
        [match.organisation, match.project or "", match.event, match.date or "", match.title,
         strip_citations(match.why), match.contact or "", match.source,
         match.citations[0].passage.metadata.provenance or "notes folder"]
        for match in matches
    ]  # fmt: skip


def write_projects_csv(rows: list[list[str]], path: Path) -> None:
    """The rows as a CSV file with a header line; no cell runs as a formula in a spreadsheet."""
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(FINDER_HEADERS)
        writer.writerows([csv_cell(cell) for cell in row] for row in rows)


def briefing_html(briefing: Briefing) -> str:
    """A briefing's preview: headline, key points, sources; or the notice that the notes don't cover it."""
    if not briefing.answered:
        return not_covered_html(f"{briefing.headline}.")
    points = "".join(f"<li>{html.escape(point)}</li>" for point in briefing.points)
    sources = "".join(f"<li>{html.escape(citation.label())}</li>" for citation in briefing.citations)
    return (
        f'<div class="briefing-preview"><h2>{html.escape(briefing.headline)}</h2><h3>Key points</h3><ul>{points}</ul>'
        f"<h3>Sources</h3><ul>{sources}</ul></div>"
    )
