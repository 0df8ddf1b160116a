"""Text from the notes and from users, made safe for the files the app hands out.

A spreadsheet runs a CSV cell that starts with a formula character; a Markdown viewer renders raw
HTML and links; Word refuses control characters. Each export passes its text through one of these.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.errors import PromiseError

# Excel, LibreOffice and Google Sheets start a formula (or DDE call) with any of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What makes Markdown more than text: a link or image target after "]" (links can hide where they go,
# images load from anywhere), and line starts that make a heading, quote, list, rule or link definition.
# Emphasis and code are left alone: they change no meaning, and citation markers like [1] stay readable.
_LINK_TARGET = re.compile(r"\]\s*\(")
_LINE_START_MARKUP = re.compile(r"^(\s*)([#>+=*\[-]|\d+(?=[.)]))", re.MULTILINE)
# Characters XML 1.0 (and so Word) cannot hold.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets an apostrophe before it
    (the OWASP advice), which spreadsheets hide and which stops the formula."""
    if value.startswith(_FORMULA_START) or value.lstrip().startswith(_FORMULA_START):
        return "'" + value
    return value


def markdown_text(text: str) -> str:
    """Text a Markdown viewer shows as text: no raw HTML (``<`` becomes ``&lt;``), no links or images,
    no headings, quotes or lists; ordinary punctuation is left alone, so the file still reads well."""
    escaped = _LINK_TARGET.sub(lambda match: match[0].replace("(", "\\("), text.replace("<", "&lt;"))
    return _LINE_START_MARKUP.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match[1], match[2]
    return f"{indent}{marker}\\" if marker.isdigit() else f"{indent}\\{marker}"


def docx_text(text: str) -> str:
    """Text Word can store: python-docx refuses the control characters XML cannot hold."""
    return _NOT_XML.sub("", text)


def write_markdown_or_word(path: Path, markdown: Callable[[], str], word: Callable[[], Any], failure: str) -> Path:
    """``markdown()`` written to a .md ``path``, else the python-docx document ``word()`` saved there. An OS
    error becomes ``failure``, a sentence whose ``{reason}`` is filled with the system's reason."""
    try:
        if path.suffix.lower() == ".md":
            path.write_text(markdown(), encoding="utf-8")
        else:
            word().save(str(path))
    except OSError as error:
        raise PromiseError(failure.format(reason=error.strerror)) from None
    return path
