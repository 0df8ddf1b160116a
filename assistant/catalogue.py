"""What the library holds: the organisations and projects each document names, one entry each.

A showcase's notes name them in their structure (each chunk's organisation and project); a funding release, an
awards table or a programme list names them in rows of fields ("Project: Moray Keys; Lead organisation: Speyside
Housing Collective; Area: Elgin; Award: £185,000"). Built from the live passages, so an upload or a removal is
in it as soon as the retriever refreshes.
"""

import re
from dataclasses import dataclass
from typing import Protocol

from assistant.models import Passage
from assistant.text import fold

# The labels of a row's field that name who or what the row is about: an awards table's "Organisation" or "Lead
# organisation", a programme list's "Project", a partner list's "Partner" (the added funding table, the blind
# funding release). A row names its entry by the organisation when it gives one, else by its project.
_ORGANISATION_LABELS = frozenset(
    {"organisation", "organization", "charity", "partner", "grantee", "recipient", "group"}
)
_PROJECT_LABELS = frozenset({"project", "programme", "program", "service", "initiative"})
# A row of fields: two or more "Label: value" pairs split by semicolons, as ``ingest.columns`` writes a table.
_FIELD = re.compile(r"^\s*(?P<label>[A-Z][\w'’ -]{0,40}?):\s+(?P<value>\S.*?)\s*$")
# A row's value runs on after its name with a description ("Kinship Kitchen Table – weekly shared meals").
_DESCRIBED = re.compile(r"\s+[–—-]\s+|\s*\(")


@dataclass(frozen=True)
class Entry:
    """An organisation or project a document names, with the passage that names it (for its citation)."""

    name: str  # as the document first writes it: the organisation, else the project
    project: str | None  # the project, when the entry is an organisation's
    passage: Passage
    row: str | None  # the table or list row naming it; None for an entry of a document's structure (a showcase's)

    @property
    def label(self) -> str:
        """ "Organisation – project", or the name alone."""
        return (
            f"{self.name} – {self.project}" if self.project and fold(self.project) not in fold(self.name) else self.name
        )


def _words(text: str) -> str:
    """The text's letters and figures in lower case, one space between words: "Dads on the Harbour!" as
    "dads on the harbour"."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def key(name: str) -> str:
    """One form for the spellings of one name: "Passion 4 Fusion" and "Passion4Fusion", "The King's Trust" and
    "The King’s Trust"."""
    return re.sub(r"^the ", "", _words(name)).replace(" ", "")


class Catalogue:
    """The entries of every live document, in the order the document gives them."""

    def __init__(self, passages: list[Passage]) -> None:
        self._by_source: dict[str, list[Entry]] = {}
        self._row_names: list[tuple[Entry, list[str]]] = []  # each row's names as ``_words`` writes them
        seen: set[tuple[str, str, str]] = set()
        ordered = sorted(passages, key=lambda p: (p.metadata.source, p.metadata.start))
        for passage in ordered:
            for entry in _entries_in(passage):
                marker = (passage.metadata.source, key(entry.name), key(entry.project or ""))
                if marker not in seen:
                    seen.add(marker)
                    self._by_source.setdefault(passage.metadata.source, []).append(entry)
                    if entry.row is not None:
                        names = [_words(name) for name in (entry.project, entry.name) if name]
                        self._row_names.append((entry, names))

    def entries_of(self, source: str) -> list[Entry]:
        return list(self._by_source.get(source, []))

    def rows_named_in(self, text: str) -> list[Entry]:
        """The entries of tables and lists whose name, or project's name, the text gives in full ("Moray Keys",
        "who runs Dads on the Harbour?"): a name typed into the finder finds its row."""
        spoken = f" {_words(text)} "
        return [entry for entry, names in self._row_names if any(f" {name} " in spoken for name in names if name)]

    def named_in(self, passage: Passage, text: str) -> Entry | None:
        """The entry of the passage that a sentence of it is about: the row it quotes ("Edinburgh Advocacy
        Bridge; Lead organisation: ..."), by the first entry name in it; None when it names none."""
        folded = fold(text)
        placed = [
            (folded.find(fold(name)), entry)
            for entry in self._by_source.get(passage.metadata.source, [])
            if entry.passage.chunk_id == passage.chunk_id
            for name in (entry.project, entry.name)
            if name and fold(name) in folded
        ]
        return min(placed, key=lambda pair: pair[0])[1] if placed else None


class LivePassages(Protocol):
    """What the catalogue is built from: the live passages, and a count that changes when they do."""

    @property
    def passages(self) -> list[Passage]: ...

    generation: int


class LiveCatalogue:
    """The catalogue of the live passages, rebuilt when they change (an upload, a removal)."""

    def __init__(self, live: LivePassages) -> None:
        self.live = live
        self._built: tuple[int, Catalogue] | None = None

    @property
    def current(self) -> Catalogue:
        if self._built is None or self._built[0] != self.live.generation:
            self._built = (self.live.generation, Catalogue(self.live.passages))
        return self._built[1]


def _entries_in(passage: Passage) -> list[Entry]:
    meta = passage.metadata
    if meta.organisation or meta.project:
        name = meta.organisation or meta.project or ""
        return [Entry(name, meta.project if meta.organisation else None, passage, None)]
    entries = []
    for line in passage.text.splitlines():
        fields = _row(line)
        organisation = next((value for label, value in fields if label in _ORGANISATION_LABELS), None)
        project = next((value for label, value in fields if label in _PROJECT_LABELS), None)
        named = organisation or project
        if named:
            entries.append(Entry(named, project if organisation else None, passage, line))
    return entries


def _row(line: str) -> list[tuple[str, str]]:
    """The fields of a row ("Project: X; Lead organisation: Y; ..."), each label as its last word in lower case
    and each value up to its description; none for a line of fewer than two fields."""
    fields = []
    for part in line.split("; "):
        match = _FIELD.match(part)
        if match is None:
            continue
        value = _DESCRIBED.split(match["value"].rstrip("."), maxsplit=1)[0].strip()
        fields.append((match["label"].split()[-1].lower(), value))
    return fields if len(fields) >= 2 else []
