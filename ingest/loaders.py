"""Read a file of any supported type into plain text, keeping headings and bullets.

Formats are read by maintained libraries (BeautifulSoup, python-docx, pypdf, charset-normalizer);
headings come out as Markdown ``#`` lines so one structure detector serves every format.
"""

import io
import re
import zipfile
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from charset_normalizer import from_bytes

from assistant.errors import DocumentError
from assistant.text import BULLET
from ingest.columns import aligned, labelled_rows

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")

_BLOCK_TAGS = {"p", "div", "section", "article", "br", "tr", "table", "ul", "ol", "blockquote", "pre"}


@dataclass(frozen=True)
class LoadedText:
    """A document's text, and where each of its pages starts in it (PDFs only; empty for other formats)."""

    text: str
    page_starts: tuple[int, ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page (1-based) holding the character at ``offset``; None when the format has no pages."""
        return bisect_right(self.page_starts, offset) if self.page_starts else None


def load_text(path: Path, max_bytes: int) -> str:
    """Return the text of ``path`` or raise DocumentError saying why it cannot be read."""
    return load_document(path, max_bytes).text


def load_document(path: Path, max_bytes: int) -> LoadedText:
    """The text of ``path`` with its page starts, or DocumentError saying why it cannot be read."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            path.name, f"unsupported file type '{suffix or 'none'}' (use {', '.join(SUPPORTED_SUFFIXES)})"
        )
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DocumentError(path.name, "no such file") from None
    except OSError as error:
        raise DocumentError(path.name, f"cannot read it ({error.strerror})") from None
    check_size(path.name, size, max_bytes)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DocumentError(path.name, f"cannot read it ({error.strerror})") from None
    return document_from_bytes(data, suffix, path.name)


def check_size(name: str, size: int, max_bytes: int) -> None:
    """Refuse a file over the size limit, before its bytes are read or parsed."""
    if size > max_bytes:
        raise DocumentError(name, f"too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB)")


def text_from_bytes(data: bytes, suffix: str, name: str) -> str:
    """Decode ``data`` as a document of type ``suffix``; ``name`` is used in error messages."""
    return document_from_bytes(data, suffix, name).text


def document_from_bytes(data: bytes, suffix: str, name: str) -> LoadedText:
    """``text_from_bytes`` with the page starts of a PDF. Each page is normalised on its own, so the starts
    are offsets into the final text."""
    if not data.strip():
        raise DocumentError(name, "the file is empty")
    reader = _READERS[suffix.lower()]
    try:
        read = reader(data)
    except DocumentError as error:
        raise DocumentError(name, error.reason) from None
    except Exception as error:
        raise DocumentError(name, f"not a readable {suffix} file ({type(error).__name__})") from None
    pages = [normalise_text(page) for page in ([read] if isinstance(read, str) else read)]
    if suffix.lower() in _WRAPPED_FORMATS:
        pages = [reflowed(*aligned(page)) for page in pages]
    starts = [0]
    for page in pages[:-1]:
        starts.append(starts[-1] + len(page) + len(_PAGE_BREAK))
    text = _PAGE_BREAK.join(pages)
    if len(re.findall(r"[^\W\d_]{2,}", text)) < 3:
        raise DocumentError(name, "no readable text found in it")
    return LoadedText(text, tuple(starts) if not isinstance(read, str) else ())


def normalise_text(text: str) -> str:
    """Unify line endings, drop a BOM and control characters; keep tabs (they separate table cells)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)


# A line of only a repeated mark ("=====", "-----", "*****"): a rule drawn between parts of a text document.
_RULE = re.compile(r"^\s*([=\-_*~#])\1{2,}\s*$")
# Where a line may end a sentence or an item: a hard-wrapped line ends mid-sentence, without one of these.
_ENDS_LINE = re.compile(r"[.!?:;)\]\"'”’]\s*$")
# A field's label and its colon ("Contact:", "No of Attendees:").
_LABEL = r"[A-Z][\w'’ /&()-]{0,30}:"
# A field line in Markdown, its label maybe in bold: "**Chair:** Marion Turnbull".
_FIELD = re.compile(rf"^\s*[*_]{{0,2}}{_LABEL}[*_]{{0,2}}\s+\S")
# A line opening a heading, a field ("Contact: ...") or a table row; a list item is ``text.BULLET``.
_HEADING_OR_FIELD = re.compile(rf"^\s*(?:#|{_LABEL}\s)|\t")
# A text wrapped at a fixed width has most of its long lines near that width; one written a paragraph a line
# has longer lines than any wrapping leaves. A line this share of the width or longer was wrapped.
_WRAP_WIDTH_MAX = 120
# A label led by dots to its value at the line's end ("Total responses received ........ 163"), as forms,
# contents pages and plain-text summaries lay out figures: a field of its own, "Total responses received: 163".
_DOT_LEADER = re.compile(r"\s*\.{4,}\s*")


def _dot_led(line: str) -> str | None:
    """ "Label ....... value" as "Label: value", or None when the line is no such field. One pass over the
    line (a regex with a lazy label backtracks on a line of dots)."""
    leaders = list(_DOT_LEADER.finditer(line)) if "...." in line else []
    if len(leaders) != 1:
        return None
    label, value = line[: leaders[0].start()], line[leaders[0].end() :]
    if not label.strip() or not value.strip() or value.startswith("."):
        return None
    return f"{label.rstrip()}: {value.strip()}"


_WRAPPED_SHARE = 0.75
_TITLE_WORDS = 12


def _opens_line(line: str) -> bool:
    """The line opens something of its own: a list item (``text.BULLET``), a heading, a field or a table row."""
    return bool(BULLET.match(line) or _HEADING_OR_FIELD.match(line))


def reflowed(text: str, rows: frozenset[int] = frozenset()) -> str:
    """Text as its layout means it: lines hard-wrapped at a fixed width (plain-text newsletters and emails, a
    PDF's lines) joined back into their paragraphs, and a short line framed or underlined by rules ("LOUD &
    CLEAR PUT THE QUESTIONS" between dashes, a title over "=====") made a heading; the rules themselves
    become paragraph breaks. Text written a paragraph a line (the seeds) is left as it is. The lines numbered
    in ``rows`` are a table's rows (``columns.aligned``): each stays a line of its own."""
    lines = text.split("\n")
    long_lines = sorted(len(line) for line in lines if len(line.strip()) >= 30 and "\t" not in line)
    width = long_lines[int(0.9 * (len(long_lines) - 1))] if long_lines else 0
    wrapped = 0 < width <= _WRAP_WIDTH_MAX
    out: list[str] = []
    fields: set[int] = set()  # lines of ``out`` made from a label and its dot-led value, or a row: each ends there
    for index, line in enumerate(lines):
        led = _dot_led(line)
        if led is not None:
            line = led
        if _RULE.match(line):
            out.append("")
            continue
        after = lines[index + 1] if index + 1 < len(lines) else ""
        stripped = line.strip()
        if (
            stripped
            and _RULE.match(after)  # underlined, or framed by a rule above it too
            and len(stripped.split()) <= _TITLE_WORDS
            and not _ENDS_LINE.search(stripped)
            # a list item or a field over a rule is not a title, unless framed by rules above and below too
            # ("----- / 2. WINTER HAMPER APPEAL SMASHES TARGET / -----", a bulletin's numbered item) or numbered
            # ("4. KEY THEMES FROM FREE-TEXT ANSWERS / -----", a report's numbered section)
            and (
                not _opens_line(line)
                or (index > 0 and bool(_RULE.match(lines[index - 1])) and not _HEADING_OR_FIELD.match(line))
                or (stripped[:1].isdigit() and bool(BULLET.match(stripped)))
            )
        ):
            out.append(f"## {stripped}")
            continue
        joins = (
            wrapped
            and out
            and out[-1].strip()
            and stripped
            # A heading, a list item or a field ends at its line's end, unless the next line is indented under it
            # or a field's value goes on in lower case ("Proposal 6: Travel costs ... paid in advance / rather than").
            and (
                not _opens_line(out[-1])
                or (BULLET.match(out[-1]) and line[:1].isspace())
                or (bool(_FIELD.match(out[-1])) and stripped[:1].islower())
            )
            and "|" not in out[-1]  # a table drawn with bars
            and len(out) - 1 not in fields
            and index not in rows
            and len(lines[index - 1]) >= _WRAPPED_SHARE * width
            and not _ENDS_LINE.search(out[-1])
            and not _opens_line(line)
        )
        if joins:
            out[-1] = out[-1].rstrip() + ("" if out[-1].endswith("-") and stripped[:1].islower() else " ") + stripped
        else:
            out.append(line)
        if led is not None or index in rows:
            fields.add(len(out) - 1)
    return "\n".join(out)


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError("", "it looks like a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        best = from_bytes(data).best()
        if best is None:
            return data.decode("utf-8", errors="replace")
        return str(best)


def _read_plain(data: bytes) -> str:
    text = _decode(data)
    if "<" in text and re.search(r"</?(ul|li|p|br|div)\b", text, re.IGNORECASE):
        # Notes exported from web forms carry stray HTML lists; keep their text and bullets.
        return html_fragments_to_text(text)
    return text


def _read_markdown(data: bytes) -> str:
    """Markdown as its reader sees it (CommonMark with tables, by markdown-it): a pipe table becomes a table,
    a wrapped paragraph one paragraph, emphasis plain text; then read as HTML is."""
    from markdown_it import MarkdownIt

    markdown = _fields_apart(_decode(data))
    return _read_html(MarkdownIt("commonmark").enable("table").render(markdown).encode("utf-8"))


def _fields_apart(markdown: str) -> str:
    """Each field line ("Date: 18 November", "Chair: ...", a dot-led figure) a paragraph of its own: CommonMark
    joins lines into one paragraph, and minutes typed a field a line mean each as a line."""
    out: list[str] = []
    for line in markdown.split("\n"):
        led = _dot_led(line)
        line = led if led is not None else line
        field = led is not None or bool(_FIELD.match(line))
        if field and out and out[-1].strip():
            out.append("")
        out.append(line)
    return "\n".join(out)


def _read_html(data: bytes) -> str:
    soup = BeautifulSoup(_decode(data), "html.parser")
    for hidden in soup(["script", "style", "noscript", "template", "head"]):
        hidden.decompose()
    return _render(soup)


def _render(node: BeautifulSoup | Tag) -> str:
    """Flatten HTML to text: headings as '#' lines, list items as '- ' lines, blocks on their own lines. The
    source's own line breaks are white space, as a browser shows them (``<pre>`` aside)."""
    for string in node.find_all(string=True):
        if "\n" in string and string.find_parent("pre") is None:
            string.replace_with(re.sub(r"\s+", " ", string))
    for heading in node.find_all(re.compile(r"^h[1-6]$")):
        level = int(heading.name[1])
        heading.replace_with(f"\n{'#' * level} {heading.get_text(' ', strip=True)}\n")
    for item in node.find_all("li"):
        item.replace_with(f"\n- {item.get_text(' ', strip=True)}\n")
    for table in node.find_all("table"):
        cells = [row.find_all(["td", "th"]) for row in table.find_all("tr")]
        rows = [[cell.get_text(" ", strip=True) for cell in row] for row in cells]
        # Column names: a first row of header cells only (a label-and-value table has one in every row).
        named = bool(cells) and bool(cells[0]) and all(cell.name == "th" for cell in cells[0])
        labels = all(row and row[0].name == "th" for row in cells)
        if len(rows) >= 2 and ((named and not labels) or _is_header(rows)):
            table.replace_with("\n" + "\n".join(labelled_rows(rows)) + "\n")
    for cell in node.find_all(["td", "th"]):
        cell.replace_with(f"{cell.get_text(' ', strip=True)}\t")
    for term in node.find_all("dt"):  # a description list's term and its description: one field a line
        term.replace_with(f"\n{term.get_text(' ', strip=True).rstrip(':')}: ")
    for description in node.find_all("dd"):
        description.replace_with(f"{description.get_text(' ', strip=True)}\n")
    for block in node.find_all(_BLOCK_TAGS):
        block.insert_before("\n")
        block.insert_after("\n")
    text = re.sub(r"\s*[▶►•▪]\s+", "\n- ", node.get_text())
    lines = [re.sub(r"[ \u00a0]+", " ", line).strip(" ") for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _is_header(rows: list[list[str]]) -> bool:
    """The first row names the columns: several rows, short cells without figures ("Action | Owner | Due
    date"), not a label and its value ("Date | 17 June 2025")."""
    if len(rows) < 3 or len(rows[0]) < 2:
        return False

    def label(cell: str) -> bool:
        return bool(cell) and len(cell.split()) <= 4 and not re.search(r"\d", cell)

    if len(rows[0]) == 2 and all(row and label(row[0]) for row in rows):
        return False  # every row a label and its value ("Venue | Braeside Hall", "Time | 10am")
    return all(label(cell) for cell in rows[0])


def html_fragments_to_text(text: str) -> str:
    """Clean HTML embedded in otherwise plain text, line by line, keeping tab-separated cells."""
    cleaned = []
    for line in text.split("\n"):
        if "<" in line and ">" in line:
            # A cell's list items become continuation lines of that cell: tab-indented, like an empty first cell.
            cells = [_render(BeautifulSoup(cell, "html.parser")) for cell in line.split("\t")]
            line = "\t".join(re.sub(r"\n+", "\n\t", cell) for cell in cells)
        cleaned.append(line)
    return "\n".join(cleaned)


def _read_docx(data: bytes) -> str:
    import docx  # python-docx is slow to import; only documents of this type need it

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocumentError("", "not a .docx file (it is not a zip archive)")
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(data))
    lines = []
    for block in document.iter_inner_content():  # paragraphs and tables in the document's order
        if isinstance(block, Table):
            rows = [[cell.text.strip() for cell in row.cells] for row in block.rows]
            lines.extend(labelled_rows(rows) if _is_header(rows) else ["\t".join(row) for row in rows])
            continue
        assert isinstance(block, Paragraph)
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        if not text:
            lines.append("")
        elif style.lower().startswith("heading"):
            level = int(style[-1]) if style[-1].isdigit() else 1
            lines.append(f"{'#' * level} {text}")
        elif "list" in style.lower():
            lines.append(f"- {text}")
        else:
            lines.append(text)
    return "\n".join(lines)


def _read_pdf(data: bytes) -> list[str]:
    """A PDF's text page by page (joined by a blank line, ``_PAGE_BREAK``)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() or "" for page in reader.pages]


_PAGE_BREAK = "\n\n"
# Formats whose line breaks may be the writer's wrapping, not the text's: plain text typed at a fixed width,
# and a PDF's visual lines. HTML's own white space is collapsed as it is read (Markdown's by its parser);
# Word keeps paragraphs.
_WRAPPED_FORMATS = (".txt", ".pdf")
_READERS: dict[str, Callable[[bytes], str | list[str]]] = {
    ".txt": _read_plain,
    ".md": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
    ".docx": _read_docx,
    ".pdf": _read_pdf,
}
