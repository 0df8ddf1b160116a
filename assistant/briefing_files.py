"""A briefing (written by ``assistant.briefer``) saved as Markdown or Word, with its sources listed."""

from pathlib import Path
from typing import Any

from assistant.errors import PromiseError
from assistant.exports import docx_text, markdown_text, write_markdown_or_word
from assistant.models import Briefing


def to_markdown(briefing: Briefing) -> str:
    # Headline, topic, points and sources come from the notes or the user: written as text, never as markup.
    lines = [f"# {markdown_text(briefing.headline)}", "", f"*Topic:* {markdown_text(briefing.topic)}", ""]
    lines += ["## Key points", ""]
    lines += [f"- {markdown_text(point)}" for point in briefing.points] or ["- The notes don't cover this topic."]
    lines += ["", "## Sources", ""]
    lines += [f"- {markdown_text(citation.label())}" for citation in briefing.citations]
    lines += ["", f"*Written from the notes by Promise Assistant ({briefing.generator}).*", ""]
    return "\n".join(lines)


def write_briefing(briefing: Briefing, path: Path) -> Path:
    """Write ``briefing`` to ``path``; the suffix (.md or .docx) chooses the format."""
    suffix = path.suffix.lower()
    if suffix not in {".md", ".docx"}:
        raise PromiseError(f"{path}: a briefing is written as .md or .docx, not '{suffix or 'no suffix'}'.")
    failure = f"{path}: cannot write the briefing ({{reason}})."
    return write_markdown_or_word(path, lambda: to_markdown(briefing), lambda: _docx(briefing), failure)


def _docx(briefing: Briefing) -> Any:  # python-docx ships no type hints
    import docx

    document = docx.Document()
    document.add_heading(docx_text(briefing.headline), level=1)
    document.add_paragraph(docx_text(f"Topic: {briefing.topic}"))
    document.add_heading("Key points", level=2)
    for point in briefing.points or ["The notes don't cover this topic."]:
        document.add_paragraph(docx_text(point), style="List Bullet")
    document.add_heading("Sources", level=2)
    for citation in briefing.citations:
        document.add_paragraph(docx_text(citation.label()))
    document.add_paragraph(f"Written from the notes by Promise Assistant ({briefing.generator}).")
    return document
