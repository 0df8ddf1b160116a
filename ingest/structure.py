"""Find the units of a document (a project's block, a table's notes, an organisation's row, a section).

Event notes come in a few recurring shapes. Each shape is recognised from the text itself, never from
the file name, so a user's own notes in the same shape are split the same way:

- organisation rows: tab-separated "Label<TAB>value" lines whose first label repeats (one row per
  organisation, e.g. "Organisation / Contact(s) / Summary of Presentation / Key learning");
- question tables: a short title line followed by a "Question - ..." line, then that table's notes;
- project blocks: short title lines, each followed by a description and section labels that repeat
  from block to block (e.g. "Key Links to Plan 24-30", "Key Insight");
- anything else: headings (Markdown '#' or short title-like lines) and the paragraphs under them.
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from assistant.text import BULLET, EMAIL, NAVIGATION
from ingest.dates import date_span, find_event_date

_EVENT_WORDS = re.compile(
    r"\b(collaborative|showcase|event|network|conference|workshop|meeting|seminar|summit|forum|webinar)",
    re.IGNORECASE,
)
# A question table's question line, "Question - What ...?" (group 1: the question).
QUESTION_LINE = re.compile(r"^\s*Question\s*[-–—:]\s*(\S.*)$")
_PROJECT_NAME = re.compile(
    r"\b(?:created|developed|set up|launched|established|produced|runs|introduced)\s+"
    r"(?:the\s+|a\s+|an\s+)?(?P<name>(?:#?[A-Z][\w'’#?-]*)(?:\s+(?:and\s+|of\s+|the\s+)?[A-Z0-9][\w'’#?-]*)*)"
)


@dataclass
class Line:
    """One line of the source text and where it sits in it."""

    text: str
    start: int
    end: int


@dataclass
class Segment:
    """A piece of a unit's body, labelled with the section it belongs to."""

    text: str
    start: int
    end: int
    section: str | None = None


@dataclass
class Unit:
    """One coherent part of a document: it becomes one chunk, or several that repeat its header."""

    key: str
    segments: list[Segment] = field(default_factory=list)
    header: str | None = None
    organisation: str | None = None
    project: str | None = None
    contact: str | None = None
    default_section: str | None = None
    # In free-form notes a long list item is a point of its own (often one organisation's work).
    long_items_alone: bool = False

    def words(self) -> int:
        return sum(len(segment.text.split()) for segment in self.segments)


@dataclass
class DocumentStructure:
    event: str
    date: str | None
    place: str | None
    units: list[Unit]


def split_lines(text: str) -> list[Line]:
    lines, offset = [], 0
    for raw in text.split("\n"):
        lines.append(Line(raw, offset, offset + len(raw)))
        offset += len(raw) + 1
    return lines


def clean_inline(text: str) -> str:
    """Drop Markdown emphasis and heading marks and squeeze spaces."""
    text = re.sub(r"^#+\s*", "", text.strip())
    text = text.replace("**", "").replace("__", "")
    return re.sub(r"\s+", " ", text).strip()


def analyse(text: str, fallback_title: str) -> DocumentStructure:
    lines = split_lines(text)
    event = _event_title(lines) or fallback_title
    date, place = find_event_date(text, event)
    for detector in (_organisation_rows, _question_tables, _project_blocks):
        units = detector(lines)
        if units:
            break
    else:
        units = _sections(lines)
    return DocumentStructure(event=event, date=date, place=place, units=[u for u in units if u.segments])


def _event_title(lines: list[Line]) -> str | None:
    """The document's title: its first line when that reads as one, or a main heading just after it ("# Family
    Anchors Fund: ten projects share £412,600"); never a dateline ("FOR IMMEDIATE RELEASE – 9 September
    2025", "Published 16 October 2025"), a label before one ("PRESS RELEASE") or a breadcrumb trail. Failing
    that, the first early line naming an event, else the first heading-like line."""
    early = [(clean_inline(line.text), line.text.lstrip().startswith("# ")) for line in lines[:40]]
    early = [(text, main) for text, main in early if text and "\t" not in text]
    texts = [text for text, _ in early]
    opening = [(position, text, main) for position, (text, main) in enumerate(early[:6]) if _may_title(texts, position)]
    if opening:
        main_heading = next((text for _, text, main in opening[:2] if main and len(text.split()) >= 2), None)
        first = opening[0][1]
        for candidate in (main_heading, first):
            if candidate and _reads_as_title(candidate):
                return _dashed(candidate.rstrip(" -–—:"))
    candidates = [text for position, text in enumerate(texts) if _may_title(texts, position)]
    for text in candidates:
        title = text.rstrip(" -–—:")
        if _EVENT_WORDS.search(title) and len(title.split()) >= 2 and len(title) <= 90:
            return _dashed(title)
    for text in candidates:
        if _is_title_like(text) and len(text.split()) >= 2:
            return text
    return None


def _may_title(texts: list[str], position: int) -> bool:
    """Not a dateline, a label over one, or a breadcrumb trail."""
    text = texts[position]
    return not _dateline(text) and not NAVIGATION.search(text) and not _label(texts, position)


# A first line longer than this is a sentence or a strapline, not the document's title.
_TITLE_MAX_WORDS = 14
_TITLE_MAX_CHARS = 110
# What is left of a dateline once its date is taken out: a few words, saying the document was issued
# ("Published", "FOR IMMEDIATE RELEASE –", "Embargoed until 00:01,", "Last updated"), or nothing; a title with a
# date keeps what it names ("Board Minutes 18 June 2025").
_DATELINE_WORDS = 4
_ISSUED = re.compile(r"\b(publish|issue|release|embargo|update|post|date)", re.IGNORECASE)
_LABEL_WORDS = 3


def _dateline(text: str) -> bool:
    """A line saying when, not what: a date and a few words around it, naming no event."""
    span = date_span(text)
    if span is None or _EVENT_WORDS.search(text):
        return False
    rest = text[: span[0]] + text[span[1] :]
    words = re.findall(r"[A-Za-z]{2,}", rest)
    return not words or (len(words) <= _DATELINE_WORDS and bool(_ISSUED.search(rest)))


def _label(texts: list[str], position: int) -> bool:
    """A short line in capitals standing over a dateline ("PRESS RELEASE" over "Embargoed until ...")."""
    text = texts[position]
    following = texts[position + 1] if position + 1 < len(texts) else ""
    return text.isupper() and len(text.split()) <= _LABEL_WORDS and _dateline(following)


def _reads_as_title(text: str) -> bool:
    words = text.split()
    first = next((character for character in text if character.isalnum()), "")
    return (
        2 <= len(words) <= _TITLE_MAX_WORDS
        and len(text) <= _TITLE_MAX_CHARS
        and (first.isupper() or first.isdigit())
        and not text.rstrip().endswith((".", "!", "?", ","))
    )


def _dashed(title: str) -> str:
    """ "Promise Learning Collaborative- Nov 2025" with its dash spaced as a title's ("... – Nov 2025")."""
    return re.sub(r"(?<=\w)- (?=\w)", " – ", title)


def _is_title_like(text: str) -> bool:
    """A short line with no closing punctuation that is not a list item: a heading or a name."""
    stripped = text.strip()
    if not stripped or len(stripped) > 80 or "\t" in stripped or BULLET.match(stripped):
        return False
    if stripped.startswith("#"):
        return True
    words = stripped.split()
    # Cells joined by semicolons ("Agree 88%; Disagree 5%; Not sure 7%") are a row of figures, not a title.
    if len(words) > 9 or stripped[-1] in ".,;:!?)…-–—" or ":" in stripped or ";" in stripped:
        return False
    first = stripped.lstrip("#*\"'“‘(").strip()
    return bool(first) and (first[0].isupper() or first[0].isdigit())


def _numbered_heading(lines: list[Line], index: int) -> bool:
    """A numbered title standing alone over prose or bullets ("3. FAMILY GROUP DECISION MAKING PILOT - UPDATE"
    after a blank line, its paragraph under it), as minutes number their agenda items: a heading, not the first
    item of a numbered list (whose next item is numbered too)."""
    text = lines[index].text.strip()
    marker = BULLET.match(text)
    if marker is None or not text[:1].isdigit() or not _is_title_like(text[marker.end() :]):
        return False
    if index > 0 and lines[index - 1].text.strip():
        return False
    following = next((line.text.strip() for line in lines[index + 1 :] if line.text.strip()), "")
    return bool(following) and not (following[:1].isdigit() and BULLET.match(following))


# A numbered item's lead-in ("Proposal 6:", "Recommendation 2:", "Theme 3:"), as consultations and reports
# number what they ask and find.
_ITEM_LEAD = re.compile(r"^[A-Z][a-z]+ \d{1,2}[a-z]?:\s+\S")


def _item_heading(lines: list[Line], index: int) -> bool:
    """ "Proposal 6: Travel costs for family time to be paid in advance" opening a blank-line-separated block
    with more under it: the heading of that item, not a field (a field's block is more fields)."""
    text = lines[index].text.strip()
    if not _ITEM_LEAD.match(text) or text.endswith((".", "!", "?")) or len(text) > 160:
        return False
    if index > 0 and lines[index - 1].text.strip():
        return False
    following = lines[index + 1].text.strip() if index + 1 < len(lines) else ""
    return bool(following) and not _ITEM_LEAD.match(following)


def _is_heading(lines: list[Line], index: int) -> bool:
    """Headings: Markdown headings, title-like lines, a numbered title or item over prose, or a short ':'/'?'
    line opening a blank-line-separated block."""
    text = lines[index].text.strip()
    if _is_title_like(text) or _numbered_heading(lines, index) or _item_heading(lines, index):
        return True
    if text.endswith((":", "?")) and 1 <= len(text.split()) <= 10 and not BULLET.match(text):
        previous_blank = index == 0 or not lines[index - 1].text.strip()
        next_content = any(line.text.strip() for line in lines[index + 1 : index + 3])
        return previous_blank and next_content
    return False


def _segment(line: Line, section: str | None) -> Segment:
    return Segment(text=line.text.strip(), start=line.start, end=line.end, section=section)


# --- organisation rows -------------------------------------------------------------------------


def _row_label(text: str) -> str | None:
    if "\t" not in text:
        return None
    label = text.split("\t", 1)[0].strip()
    if label and len(label) <= 40 and len(label.split()) <= 5 and not BULLET.match(label):
        return label
    return None


def _organisation_rows(lines: list[Line]) -> list[Unit]:
    labels = [_row_label(line.text) for line in lines]
    counts = Counter(label for label in labels if label)
    starters = [label for label in labels if label and counts[label] >= 2]
    if len(starters) < 4:
        return []
    starter = starters[0]
    first_row = labels.index(starter)
    units: list[Unit] = []
    preamble = _sections(lines[:first_row])
    row: Unit | None = None
    field_name: str | None = None
    index = first_row
    while index < len(lines):
        line, label = lines[index], labels[index]
        text = line.text.strip()
        if label == starter:
            value = clean_inline(line.text.split("\t", 1)[1])
            row = Unit(key=f"row:{value}:{index}", organisation=value or None, header=None)
            units.append(row)
            field_name = label
        elif row is None:
            break
        elif label:
            field_name = label
            value = clean_inline(line.text.split("\t", 1)[1])
            if re.match(r"contact", label, re.IGNORECASE):
                row.contact = value or None
            elif value:
                row.segments.append(Segment(f"{label}: {value}", line.start, line.end, label))
        elif text and (
            line.text.startswith(("\t", " ")) or lines[index - 1].text.strip() or _continues_row(lines, index)
        ):
            if field_name and not re.match(r"contact", field_name, re.IGNORECASE):
                row.segments.append(_segment(line, field_name))
        elif text:
            break  # the rows have ended; what follows is ordinary sections
        index += 1
    trailing = _sections(lines[index:]) if index < len(lines) else []
    return preamble + units + trailing


def _continues_row(lines: list[Line], index: int) -> bool:
    """A non-label line inside a row: the next labelled line comes before any blank-line gap."""
    for later in lines[index + 1 : index + 4]:
        if not later.text.strip():
            return False
        if _row_label(later.text):
            return True
    return False


# --- question tables -----------------------------------------------------------------------------


def _question_tables(lines: list[Line]) -> list[Unit]:
    openings: list[tuple[int, int]] = []  # (title line, question line)
    for index, line in enumerate(lines):
        if QUESTION_LINE.match(line.text):
            title = index - 1
            while title >= 0 and not lines[title].text.strip():
                title -= 1
            if title >= 0 and len(lines[title].text.split()) <= 12 and not QUESTION_LINE.match(lines[title].text):
                openings.append((title, index))
    if len(openings) < 2:
        return []
    units = _sections(lines[: openings[0][0]])
    for number, (title, question) in enumerate(openings):
        end = openings[number + 1][0] if number + 1 < len(openings) else len(lines)
        organisation, project = _split_title(clean_inline(lines[title].text))
        match = QUESTION_LINE.match(lines[question].text)
        assert match is not None
        unit = Unit(
            key=f"table:{organisation}:{title}",
            organisation=organisation,
            project=project,
            header=f"Question: {clean_inline(match.group(1))}",
            default_section="Table discussion",
        )
        section: str | None = None
        for index in range(question + 1, end):
            text = lines[index].text.strip()
            if not text or text in {"-", "–"}:
                continue
            if _is_heading(lines, index) and len(text.split()) <= 6 and not lines[index - 1].text.strip():
                section = clean_inline(text).rstrip(":")
            unit.segments.append(_segment(lines[index], section))
        unit.contact = _first_email(unit)
        units.append(unit)
    return units


def _split_title(title: str) -> tuple[str, str | None]:
    """'Families Outside/ Project Change' -> organisation and project; a single name is the organisation."""
    parts = [part.strip() for part in re.split(r"\s*/\s*|\s+[–—-]\s+", title, maxsplit=1)]
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    match = re.match(r"^(\S+\?)\s+(.+)$", title)  # "ArtClub? East Ayrshire ..." names the project first
    if match:
        return match.group(2), match.group(1)
    return title, None


def _first_email(unit: Unit) -> str | None:
    for segment in unit.segments:
        match = EMAIL.search(segment.text)
        if match:
            return match.group(0)
    return None


# --- project blocks ------------------------------------------------------------------------------


def _label_key(text: str) -> str:
    words = re.sub(r"[^a-z0-9 ]", " ", clean_inline(text).lower()).split()
    return " ".join(word[:-1] if word.endswith("s") and len(word) > 3 else word for word in words)


def _project_blocks(lines: list[Line]) -> list[Unit]:
    heading_rows = [index for index in range(len(lines)) if _is_title_like(lines[index].text)]
    label_counts = Counter(_label_key(lines[index].text) for index in heading_rows)
    labels = {key for key, count in label_counts.items() if count >= 3}
    titles = [index for index in heading_rows if _label_key(lines[index].text) not in labels]
    if not labels or len(titles) < 3:
        return []
    units: list[Unit] = []
    current = Unit(key="preamble", default_section="Overview")
    pending_titles: list[str] = []
    section: str | None = None
    for index, line in enumerate(lines):
        text = line.text.strip()
        if not text:
            continue
        if index in titles:
            pending_titles.append(clean_inline(text))
            continue
        if pending_titles:
            units.append(current)
            name = pending_titles[-1]
            current = Unit(
                key=f"block:{name}:{index}",
                organisation=name,
                header=" › ".join(pending_titles) if len(pending_titles) > 1 else None,
            )
            pending_titles, section = [], None
        if _is_title_like(text) and _label_key(text) in labels:
            section = clean_inline(text)
        current.segments.append(_segment(line, section))
    if pending_titles:
        # A title with nothing under it at the very end still names something; keep it searchable.
        last = lines[titles[-1]]
        units.append(current)
        current = Unit(key=f"block:{pending_titles[-1]}:end", organisation=pending_titles[-1])
        current.segments.append(_segment(last, None))
    units.append(current)
    for unit in units:
        unit.project = _project_name(unit)
        unit.contact = _first_email(unit)
    return units


def _project_name(unit: Unit) -> str | None:
    """The name of what an organisation made, when its description says so ('created Wee Breathers')."""
    if not unit.segments or unit.organisation is None:
        return None
    match = _PROJECT_NAME.search(" ".join(segment.text for segment in unit.segments[:3]))
    if not match:
        return None
    name = match.group("name").strip(" ?")
    if name == unit.organisation or len(name.split()) > 8 or len(name) < 3:
        return None
    return name


# --- generic sections ----------------------------------------------------------------------------


def _sections(lines: list[Line]) -> list[Unit]:
    """Headings and the paragraphs under them; the chunker packs small neighbouring sections together."""
    units: list[Unit] = []
    current = Unit(key="section:start", default_section="Overview", long_items_alone=True)
    for index, line in enumerate(lines):
        text = line.text.strip()
        if not text:
            continue
        # A dateline ("Published 16 October 2025") says when, not what the paragraphs under it are about.
        heading_line = _is_heading(lines, index) and (not BULLET.match(text) or _numbered_heading(lines, index))
        if heading_line and not _dateline(clean_inline(text)):
            heading = clean_inline(text).rstrip(":")
            if current.segments and current.words() >= 25:
                units.append(current)
                current = Unit(key=f"section:{heading}:{index}", default_section=heading, long_items_alone=True)
            elif not current.segments:
                current.default_section = heading
                current.key = f"section:{heading}:{index}"
            current.segments.append(Segment(heading, line.start, line.end, heading))
            continue
        current.segments.append(_segment(line, current.segments[-1].section if current.segments else None))
    units.append(current)
    return [unit for unit in units if unit.words() >= 3]
