"""The quotable sentences of a passage, with where each sits in the passage's text.

Ingest embeds each one (see ``assistant.embeddings``) and answers quote them, so both must cut a
passage the same way: this module is the one place that does it (with ``assistant.text``'s sentence and
list-item rules).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.text import BULLET, NAVIGATION, ends_in_abbreviation, sentence_spans, without_bullet

# A table's header ("Question: ...?") is repeated on each of its chunks: it frames the passage.
_HEADER = re.compile(r"^Question: .*\?$")
# Page furniture copied with a web page: where the page is (``text.NAVIGATION``: "Gallery › Scottish Attachment
# in Action"), or a button's word.
_BUTTON = re.compile(r"^(?:gallery|menu|share|print|back to top|skip to content)$", re.IGNORECASE)
# Markdown emphasis around words ("*Independent advocacy ...*", "_new_"): the words are what is said.
_EMPHASIS = re.compile(r"(?<![\w*])([*_]{1,2})(?=\S)(.+?)(?<=\S)\1(?![\w*])")
# ... and its halves when a sentence break falls inside the emphasis ("*Independent advocacy ... Highland.").
_STRAY_EMPHASIS = re.compile(r"^[*_]+(?=\w)|(?<=[\w.!?])[*_]+$")
# A field label before its value ("Key learning: ..."): up to five words, the first capitalised.
_LABEL = re.compile(r"^(?P<label>[A-Z][\w'’()/-]*(?:\s+[\w'’()/-]+){0,4}):\s+(?P<value>\S.*)$")
# A value this short keeps its label: "No of Attendees: 34" means nothing as "34".
_LABEL_KEEP_WORDS = 4
# A value that is a sentence of its own, or a list's lead-in ("Key learning: The toolkit holds these tools:"), ends
# like one; any other value (a name, a date, a place) keeps its label, which says what it is: "Facilitator: Sheriff
# (retd.) Margaret Lennox", "Venue: North Inch Centre, Perth".
_ENDS_A_SENTENCE = re.compile(r"[.!?:][\"'”’)]*$")
# Words that only join a sentence to the one before it; cut from the front of a quote.
_DANGLING_START = re.compile(r"^(?:and|so|but|also|plus)\b[,\s]+(?=\S)", re.IGNORECASE)
_MAX_LIST_ITEMS = 8
# A list item this long that opens like a sentence ("- A second round of the fund is expected to open in autumn
# 2026.") says something on its own: each such item is a quote, not a clause of one run ("What happens next: All
# seven projects begin ...; The Trust has commissioned ...; A second round ..."), which buried the asked fact in
# a funding release; so is a shorter one the writer closed with a full stop ("- 58% wanted evening groups.").
# Shorter items ("Wider reach; More flexibility") and items finishing their lead-in ("We agreed to: - write to
# the minister") are clauses of the line that introduces them.
_SENTENCE_ITEM_WORDS = 8
_STOPPED_ITEM_WORDS = 5
# A Markdown heading: one to six marks, a space, its words (not "#KeepThePromise", "#1 priority").
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+\S")
# Stored with each sentence: a store whose sentences were cut by another version of these rules re-embeds them.
# (6: each sentence is stored with the named entities in it; 7: a heading line ends a list, and a bracketed
# abbreviation ends no sentence; 8: a field whose value is no sentence keeps its label, and the full stop of
# "Dr." or "No. 5" ends no sentence; 9: a list of sentences is quoted item by item.)
QUOTES_VERSION = 9


@dataclass(frozen=True)
class Mention:
    """A named entity in a sentence, as spaCy's recogniser labels it: "£9 million" MONEY, "Dundee" GPE."""

    label: str  # spaCy's entity label (DATE, TIME, MONEY, CARDINAL, PERCENT, QUANTITY, PERSON, ORG, GPE, ...)
    start: int  # its span in the sentence's text
    end: int


@dataclass(frozen=True)
class Quote:
    """A sentence, or a list joined to the line that introduces it, as an answer may quote it."""

    text: str
    start: int  # its span in the passage text (the embedder's token offsets fall inside it)
    end: int
    # Found once, at ingest (``EntityTagger``): what kind of fact a sentence states is read from these.
    mentions: tuple[Mention, ...] = ()

    def mentioned(self, *labels: str) -> list[str]:
        """The words of the entities of these labels in the sentence, in order."""
        return [self.text[m.start : m.end] for m in self.mentions if m.label in labels]


class EntityTagger(Protocol):
    """Finds the named entities of sentences (``assistant.answer.language.Language`` with spaCy)."""

    def mentions(self, texts: Sequence[str]) -> list[tuple[Mention, ...]]: ...


def is_heading(text: str) -> bool:
    """A title or section label ("Kinship Learning Forum", "Key Insight"): short, unpunctuated, Title Case,
    and no field or list ("No of Attendees: 34", "12th June 2024, Dundee" are facts)."""
    words = text.split()
    return (
        len(words) <= 6
        and ":" not in text
        and "," not in text
        and not text.rstrip().endswith((".", "!", "?", ":"))
        and all(word[:1].isupper() or not word[:1].isalpha() for word in words if len(word) > 3)
    )


def _clean(text: str) -> str:
    text = _STRAY_EMPHASIS.sub("", _EMPHASIS.sub(r"\2", text).replace("**", "").strip())
    match = _DANGLING_START.match(text)
    if match:
        text = text[match.end() :]
        text = text[:1].upper() + text[1:]
    return text


def _field_value(text: str) -> str:
    """The value of a field line long enough to say something without its label; "" for any other line."""
    match = _LABEL.match(text)
    return match["value"] if match and len(match["value"].split()) >= _LABEL_KEEP_WORDS else ""


def _unlabelled(text: str) -> str:
    """A field's value when it is a sentence of its own, else the line as it is."""
    value = _field_value(text)
    return value if _ENDS_A_SENTENCE.search(value) and not ends_in_abbreviation(value) else text


def split_with_offsets(text: str, offset: int = 0) -> list[Quote]:
    """Sentences of one line of text, each with its span (``offset`` is where the line starts)."""
    return [Quote(text[start:end], offset + start, offset + end) for start, end in sentence_spans(text)]


def quotes_of(text: str, context: str = "") -> list[Quote]:
    """The quotable units of a passage's text; ``context`` is its first line, which is not quoted."""
    lines: list[tuple[str, int, int]] = []
    heading_lines: set[int] = set()  # of ``lines``
    position = 0
    for raw in text.split("\n"):
        start, end = position, position + len(raw)
        position = end + 1
        line = raw.strip()
        if not line or (start == 0 and context and line == context) or _HEADER.match(line):
            continue
        if NAVIGATION.search(line) or _BUTTON.match(line):
            continue
        lead = start + len(raw) - len(raw.lstrip())
        if _MARKDOWN_HEADING.match(line):  # a heading the structure left in: a title, or a list's head
            marked = line
            line = line.lstrip("#").strip()
            lead += len(marked) - len(line)
            heading_lines.add(len(lines))
        lines.append((line, lead, lead + len(line)))
    units: list[Quote] = []
    index = 0
    while index < len(lines):
        line, start, end = lines[index]
        items: list[tuple[str, int]] = []
        following = index + 1
        while (
            following < len(lines)
            and len(items) < _MAX_LIST_ITEMS
            and (
                BULLET.match(lines[following][0]) or (len(lines[following][0].split()) <= 6 and not line.endswith("."))
            )
            and following not in heading_lines  # a heading ends a list
        ):
            items.append((without_bullet(lines[following][0]), lines[following][2]))
            following += 1
        # A field's value ("Summary of Presentation: ..."), not a list's head ("Key learning: these tools:").
        labelled = bool(_field_value(line)) and not line.endswith(":")
        listed = len(items) >= 2 and not BULLET.match(line) and not labelled
        if listed and all(_a_sentence(item) for item, _ in items) and not _frames(line):
            # Each item is quoted as a line of its own; the lead-in ("Headline findings:", "What happens next")
            # says nothing alone, a sentence before it does ("129 of you replied.").
            units.extend(
                quote
                for quote in _line_quotes(line, start, index in heading_lines)
                if _ENDS_A_SENTENCE.search(quote.text) and not quote.text.endswith(":")
            )
            index += 1
            continue
        if listed:
            head = _clean(_unlabelled(line).rstrip(":"))
            joined = "; ".join(_clean(item.rstrip(".;")) for item, _ in items)
            units.append(Quote(f"{head}: {joined}.", start, items[-1][1]))
            index = following
            continue
        units.extend(_line_quotes(line, start, index in heading_lines))
        index += 1
    return units


def _line_quotes(line: str, start: int, heading: bool) -> list[Quote]:
    """The sentences of one line (``start`` is where it sits in the passage); none of a heading."""
    if heading:
        return []
    body = without_bullet(line)
    body_start = start + len(line) - len(body)
    quotes = []
    for quote in split_with_offsets(body, body_start):
        cleaned = _clean(_unlabelled(quote.text))
        if cleaned:
            quotes.append(Quote(cleaned, quote.start, quote.end))
    return quotes


def _frames(line: str) -> bool:
    """The line ends in a lead-in that says what its list is ("... a co-production group, which came up with
    the following solutions:"): the items are answers to what it asks, quoted with it. A bare label
    ("Headline findings:", "What happens next") frames nothing an item needs."""
    lead = line.rsplit(". ", 1)[-1]
    return lead.endswith(":") and len(lead.split()) > _STOPPED_ITEM_WORDS


def _a_sentence(item: str) -> bool:
    """A list item that says something on its own (``_SENTENCE_ITEM_WORDS``): long or closed by a full stop,
    and opening as a sentence does, with a capital or a figure, not as the rest of its lead-in ("write to the
    minister ...")."""
    opening = _clean(item)[:1]
    words = len(item.split())
    long_enough = words >= _SENTENCE_ITEM_WORDS or (words >= _STOPPED_ITEM_WORDS and item.endswith("."))
    return long_enough and (opening.isupper() or opening.isdigit() or opening in "£$€")
