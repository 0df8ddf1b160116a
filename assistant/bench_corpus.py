"""The bench's synthetic corpus: larger corpora made from the seeds, split by the structure detector as the seeds are.

A corpus at scale N holds N synthetic variants of every seed document. A variant keeps its seed's layout line for
line (blank lines, headings, repeated section labels, tab-separated rows, "Question - " lines, list markers), so the
structure detector splits it the same way; it tags the names in it and moves list items and prose lines between
blocks, with their sentences reordered, so its chunks are new passages rather than copies.
"""

import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TextIO

from assistant.errors import ConfigError, DocumentError
from assistant.settings import Settings
from assistant.text import BULLET, split_sentences
from ingest.loaders import load_text
from ingest.pipeline import PreparedDocument, discover, prepare_text
from ingest.structure import QUESTION_LINE

# The structure detector's limits for a heading or name line; a tagged name must stay within them.
_TITLE_MAX_WORDS = 9
_TITLE_MAX_CHARS = 80
_LABEL_MAX_WORDS = 10
_CLOSING_PUNCTUATION = tuple(".,;:!?)…-–—")
# The event's title, date and place are read from the opening of a document (ingest.dates reads this many
# characters); nothing moves into or out of it, so a variant keeps its seed's event and date.
_OPENING_CHARS = 1500
_LABEL_VALUE = re.compile(r"^[^\s:]+(?: [^\s:]+){0,3}:")  # "Date: …", "No of Attendees: …"


@dataclass(frozen=True)
class SeedDocument:
    name: str
    path: Path
    text: str


class LineKind(Enum):
    FIXED = "fixed"  # blank lines, labels, questions, repeated headings: kept as they are
    NAME = "name"  # a heading or name that occurs once: gets the variant's tag
    ITEM = "item"  # a list item's text: moves to another list item's place
    PROSE = "prose"  # a line of prose: moves to another prose line's place, its sentences reordered


@dataclass(frozen=True)
class SourceLine:
    frame: str  # what stays in place: the cells before the last tab, indentation, the list marker
    content: str  # what a variant may tag or move
    is_item: bool


def split_frame(line: str) -> SourceLine:
    cells_end = line.rfind("\t") + 1
    last_cell = line[cells_end:]
    marker = BULLET.match(last_cell)
    cut = cells_end + (marker.end() if marker else len(last_cell) - len(last_cell.lstrip()))
    return SourceLine(line[:cut], line[cut:], marker is not None)


def content_kind(content: str, is_item: bool) -> LineKind:
    """The kind a line's text has wherever it stands; moving a line never turns it into a heading."""
    text = content.strip()
    if not re.search(r"\w", text) or QUESTION_LINE.match(text):
        return LineKind.FIXED
    if is_item:
        return LineKind.ITEM
    words = len(text.split())
    if _LABEL_VALUE.match(text) or (text.endswith((":", "?")) and words <= _LABEL_MAX_WORDS):
        return LineKind.FIXED
    if text.startswith("#") or (words <= _TITLE_MAX_WORDS and not text.endswith(_CLOSING_PUNCTUATION)):
        return LineKind.NAME
    return LineKind.PROSE


def _heading_key(text: str) -> str:
    """Headings that differ only in case, punctuation or a plural 's' are the same section label."""
    words = re.sub(r"[^a-z0-9 ]", " ", text.lower()).split()
    return " ".join(word.removesuffix("s") for word in words)


def _titles_question_table(lines: Sequence[SourceLine], index: int) -> bool:
    """The last non-blank line before a "Question - " line names that table, whatever it looks like."""
    for later in lines[index + 1 :]:
        if later.content.strip() or later.frame.strip():
            return not later.frame.strip() and bool(QUESTION_LINE.match(later.content.strip()))
    return False


def line_kinds(lines: Sequence[SourceLine], tag: str) -> list[LineKind]:
    repeats = Counter(_heading_key(line.content) for line in lines)
    kinds: list[LineKind] = []
    start = 0
    for index, line in enumerate(lines):
        kind = content_kind(line.content, line.is_item)
        if start < _OPENING_CHARS and kind in (LineKind.ITEM, LineKind.PROSE):
            kind = LineKind.FIXED
        start += len(line.frame) + len(line.content) + 1
        if kind is not LineKind.FIXED and _titles_question_table(lines, index):
            kind = LineKind.NAME
        text = line.content.strip()
        fits_tag = len(text) + 1 + len(tag) <= _TITLE_MAX_CHARS
        if kind is LineKind.NAME and (repeats[_heading_key(text)] > 1 or not fits_tag):
            kind = LineKind.FIXED
        kinds.append(kind)
    return kinds


def reorder_sentences(content: str, rng: random.Random) -> str:
    sentences = split_sentences(content.strip(), keep_closing_marks=True)
    rng.shuffle(sentences)
    reordered = " ".join(sentences)
    return reordered if content_kind(reordered, is_item=False) is LineKind.PROSE else content


def synthetic_variant(text: str, variant: int, rng: random.Random) -> str:
    """A document laid out line for line like ``text``, with tagged names and list items and prose recombined.

    A line's text only moves to a line of the same kind and the same number of words, and a tag joins the last word
    of a name, so every block keeps its length and the detector splits it and the chunker packs it as in the seed.
    """
    lines = [split_frame(line) for line in text.split("\n")]
    tag = f"v{variant:04d}"
    kinds = line_kinds(lines, tag)
    movable: dict[tuple[LineKind, int], list[str]] = {}
    for line, kind in zip(lines, kinds, strict=True):
        if kind in (LineKind.ITEM, LineKind.PROSE):
            movable.setdefault((kind, len(line.content.split())), []).append(line.content)
    for contents in movable.values():
        rng.shuffle(contents)
    replacements = {key: iter(contents) for key, contents in movable.items()}
    variant_lines: list[str] = []
    for line, kind in zip(lines, kinds, strict=True):
        content = line.content
        if kind is LineKind.NAME:
            content = f"{content.rstrip()}-{tag}"
        elif kind in (LineKind.ITEM, LineKind.PROSE):
            content = next(replacements[kind, len(content.split())])
        if kind is LineKind.PROSE:
            content = reorder_sentences(content, rng)
        variant_lines.append(line.frame + content)
    return "\n".join(variant_lines)


def load_seeds(settings: Settings, out: TextIO) -> list[SeedDocument]:
    files, _, _ = discover([settings.seeds_dir])
    seeds: list[SeedDocument] = []
    for path in files:
        try:
            seeds.append(SeedDocument(path.name, path.resolve(), load_text(path, settings.max_file_bytes)))
        except DocumentError as error:
            print(f"skipped {error}", file=out)
    if not seeds:
        raise ConfigError(f"There are no readable seed documents in {settings.seeds_dir} to benchmark with.")
    return seeds


def build_corpus(seeds: Sequence[SeedDocument], scale: int, max_words: int) -> list[PreparedDocument]:
    """The seeds themselves at scale 1; otherwise ``scale`` synthetic variants of each."""
    if scale == 1:
        return [prepare_text(seed.text, seed.name, str(seed.path), max_words) for seed in seeds]
    documents: list[PreparedDocument] = []
    for variant in range(scale):
        for seed in seeds:
            source = f"synthetic_{variant:04d}_{seed.name}"
            text = synthetic_variant(seed.text, variant, random.Random(source))
            documents.append(prepare_text(text, source, str(seed.path.with_name(source)), max_words))
    return documents
