"""Typed values that cross module boundaries, and how a document is named to its readers."""

import re
from dataclasses import asdict, dataclass, fields
from pathlib import PurePath
from typing import Any

from assistant.text import fold, who_label

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A date at the end of an event's title ("… – Nov 2025", "…: December 2024", "… 25 March 2025"), which the
# display title replaces with the date read from the notes, written out in full.
_TRAILING_DATE = re.compile(
    r"[\s,:;\-–—]*\b(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:"
    + "|".join(name[:3] for name in MONTH_NAMES)
    + r")[a-z]*\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?,?)?\s+(?:19|20)\d\d\s*$",
    re.IGNORECASE,
)
# The hash the notes folder's file names carry ("001_5b5a222d77539bfb.txt").
_NAME_HASH = re.compile(r"_[0-9a-f]{16}$")


def spelled_date(date: str | None, short: bool = False) -> str | None:
    """A stored date as people write it: '2025-03-25' as '25 March 2025' (``short``: '25 Mar 2025'), '2025-11' as
    'November 2025', '2025' as itself; anything else as it is, None as None. The one rule for titles, answers'
    dates and the library's timeline."""
    if not date:
        return None
    parts = date.split("-")
    try:
        number = int(parts[1]) if len(parts) > 1 else None
        day = str(int(parts[2])) if len(parts) > 2 else None
    except ValueError:
        return date
    if number is not None and not 1 <= number <= 12:
        return date
    month = None if number is None else MONTH_NAMES[number - 1][: 3 if short else None]
    return " ".join(part for part in (day, month, parts[0]) if part)


def document_title(event: str, date: str | None, source: str) -> str:
    """What a document is called wherever it is named: its event and date ("Promise Learning Collaborative,
    25 March 2025"), or its first heading (the structure detector's title when no line names an event), or,
    when the notes give neither, its file name without the notes folder's hash."""
    stem = PurePath(source).stem
    if event and event != stem:  # the detector falls back to the file's stem when the text has no title
        name = (_TRAILING_DATE.sub("", event) if date else event).strip(" -–—:,;")
    else:
        name = re.sub(r"\s+", " ", _NAME_HASH.sub("", stem).replace("_", " ")).strip() or source
    when = spelled_date(date)
    if not name or not when or when.lower() in name.lower():
        return name or when or event
    return f"{name}, {when}"


def page_label(page: int | None, last_page: int | None) -> str | None:
    """'p. 3', or 'pp. 3–4' for a passage running onto the next page; None when pages are unknown."""
    if page is None:
        return None
    return f"pp. {page}–{last_page}" if last_page and last_page != page else f"p. {page}"


@dataclass(frozen=True)
class ChunkMetadata:
    source: str
    event: str
    date: str | None
    place: str | None
    organisation: str | None
    project: str | None
    section: str | None
    contact: str | None
    start: int
    end: int
    content_hash: str
    unit_id: str
    unit_index: int
    part: int
    doc_hash: str
    context: str
    # Set on passages uploaded in the app (who, and when in ISO 8601); None for the notes folder's.
    uploaded_by: str | None = None
    uploaded_at: str | None = None
    # The pages a PDF passage starts and ends on (1-based); None for other formats.
    page: int | None = None
    last_page: int | None = None
    # The lines of the passage that talk to an AI (``ingest.instructions``), as "start-end" offsets in its text
    # joined by ","; None when it has none. Never quoted, sent to a model or counted as support.
    instructions: str | None = None

    @property
    def instruction_spans(self) -> list[tuple[int, int]]:
        spans = []
        for pair in (self.instructions or "").split(","):
            start, _, end = pair.partition("-")
            if start.isdigit() and end.isdigit():
                spans.append((int(start), int(end)))
        return spans

    def marked(self, start: int, end: int) -> bool:
        """The text from ``start`` to ``end`` of the passage falls in a line that talks to an AI."""
        return any(start < line_end and line_start < end for line_start, line_end in self.instruction_spans)

    @property
    def title(self) -> str:
        """The document's display title (see ``document_title``), the same on every card and export."""
        return document_title(self.event, self.date, self.source)

    @property
    def pages(self) -> str | None:
        return page_label(self.page, self.last_page)

    @property
    def who(self) -> str:
        """ "organisation – project", as every face names whom the passage is about ("" for general notes)."""
        return who_label(self.organisation, self.project)

    @property
    def provenance(self) -> str | None:
        """ "uploaded by <user>, <date>" for an uploaded passage, so it is never mistaken for the notes."""
        if not (self.uploaded_by and self.uploaded_at):
            return None
        return f"uploaded by {self.uploaded_by}, {self.uploaded_at[:10]}"

    def to_store(self) -> dict[str, str | int]:
        """Chroma metadata: no None values, plus a sortable date number for range filters."""
        values: dict[str, str | int] = {k: v for k, v in asdict(self).items() if v is not None}
        number = date_number(self.date)
        if number is not None:
            values["date_num"] = number
        return values

    @classmethod
    def from_store(cls, values: dict[str, Any]) -> "ChunkMetadata":
        known: dict[str, Any] = {f.name: values.get(f.name) for f in fields(cls)}
        return cls(**known)


def date_number(date: str | None) -> int | None:
    """'2024-12-04' -> 20241204; '2025-11' -> 20251100, so month-only dates sort before that month's days."""
    if not date:
        return None
    parts = date.split("-")
    try:
        year, month = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
        day = int(parts[2]) if len(parts) > 2 else 0
    except ValueError:
        return None
    return year * 10000 + month * 100 + day


@dataclass(frozen=True)
class Passage:
    """A stored chunk as retrieval returns it."""

    chunk_id: str
    text: str  # the full indexed text: context line, header, body
    metadata: ChunkMetadata

    def described(self, contact: bool) -> dict[str, Any]:
        """The passage and where it comes from, as the JSON outputs give it."""
        meta = self.metadata
        fields_ = {
            "chunk_id": self.chunk_id,
            "source": meta.source,
            "event": meta.event,
            "date": meta.date,
            "organisation": meta.organisation,
            "project": meta.project,
            "section": meta.section,
        }
        return fields_ | ({"contact": meta.contact} if contact else {}) | {"text": self.body}

    @property
    def instruction_lines(self) -> list[str]:
        """The passage's lines that talk to an AI, as the document has them."""
        return [self.text[start:end].strip() for start, end in self.metadata.instruction_spans]

    @property
    def said(self) -> str:
        """What the passage says to its readers: its text without the lines that talk to an AI, which nothing
        an answer says may rest on."""
        text = self.text
        for start, end in sorted(self.metadata.instruction_spans, reverse=True):
            text = text[:start] + text[end:]
        return text

    @property
    def body(self) -> str:
        """The passage without its context line, as shown to a reader."""
        first, _, rest = self.text.partition("\n")
        return rest if first == self.metadata.context and rest else self.text


@dataclass(frozen=True)
class SearchResult:
    rank: int
    score: float  # fused reciprocal-rank score
    dense_similarity: float | None  # cosine similarity to the query, when the dense search found it
    passage: Passage

    def to_json(self) -> dict[str, Any]:
        return {"rank": self.rank, "score": round(self.score, 6)} | self.passage.described(contact=True)


@dataclass(frozen=True)
class SearchFilters:
    source: str | None = None
    event: str | None = None
    organisation: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    def matches(self, meta: ChunkMetadata) -> bool:
        if self.source and meta.source != self.source:
            return False
        if self.event and fold(self.event) not in fold(meta.event):
            return False
        if self.organisation and fold(self.organisation) not in fold(f"{meta.organisation} {meta.project}"):
            return False
        number = date_number(meta.date)
        low, high = date_number(self.date_from), date_number(self.date_to)
        if (low is not None or high is not None) and number is None:
            return False
        if low is not None and number is not None and number < low:
            return False
        return not (high is not None and number is not None and number > _end_of(self.date_to, high))


def _end_of(date: str | None, number: int) -> int:
    """An upper bound of '2025-03' includes every day of March."""
    if date and date.count("-") == 1:
        return number + 99
    if date and date.count("-") == 0:
        return number + 9999
    return number


@dataclass(frozen=True)
class Citation:
    n: int
    passage: Passage
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n} | self.passage.described(contact=False) | {"score": round(self.score, 6)}

    def label(self) -> str:
        """One line naming where the passage comes from, for source lists."""
        meta = self.passage.metadata
        parts = [meta.title, meta.who, meta.pages, meta.provenance]
        return f"[{self.n}] " + " · ".join(part for part in parts if part)


@dataclass(frozen=True)
class Answer:
    question: str
    standalone_question: str
    text: str
    answered: bool
    citations: list[Citation]
    timings: dict[str, float]
    generator: str  # who wrote the sentences shown: the model's name, or "extractive"
    suggestions: list[str]  # nearby topics the notes do cover, offered when not answered
    notice: str | None = None  # one line for the user, e.g. that the model failed and the notes answered

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "answered": self.answered,
            "citations": [citation.to_json() for citation in self.citations],
            "timings": {key: round(value, 1) for key, value in self.timings.items()},
            "generator": self.generator,
            "notice": self.notice,
        }


@dataclass(frozen=True)
class ProjectMatch:
    """A project or organisation found for a challenge, with a grounded reason."""

    organisation: str
    project: str | None
    event: str
    date: str | None
    source: str
    why: str  # one sentence from the notes, ending with its citation marker
    contact: str | None
    citations: list[Citation]

    @property
    def who(self) -> str:
        """ "organisation – project", as ``ChunkMetadata.who`` names it."""
        return who_label(self.organisation, self.project)

    @property
    def title(self) -> str:
        """The display title of the document the project is found in."""
        return document_title(self.event, self.date, self.source)

    def to_json(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation,
            "project": self.project,
            "event": self.event,
            "date": self.date,
            "source": self.source,
            "title": self.title,
            "why": self.why,
            "contact": self.contact,
            "citations": [citation.to_json() for citation in self.citations],
        }


@dataclass(frozen=True)
class Briefing:
    topic: str
    headline: str
    points: list[str]  # each a sentence ending with its citation markers
    citations: list[Citation]
    generator: str
    notice: str | None = None

    @property
    def answered(self) -> bool:
        return bool(self.points)
