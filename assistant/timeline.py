"""The library at a glance: counts in words, documents newest first, and the events on a small timeline.

Pure functions over the store's manifest entries, no web framework: the Library tab shows what they return.
The timeline is inline SVG (no plotting library at run time), and every document's text in it is escaped.
"""

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.models import spelled_date
from assistant.store import ManifestEntry
from assistant.text import plural

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
# The picture's drawing units; it scales to the width it is given (a phone's 390 px too).
_WIDTH, _MARGIN, _AXIS_Y, _STEP = 600, 30, 58, 22


def newest_first(entries: Iterable[ManifestEntry]) -> list[ManifestEntry]:
    """Documents by event date, newest first, undated last; documents of one date by name."""
    entries = sorted(entries, key=lambda entry: entry.source.casefold())
    dated = sorted((entry for entry in entries if _year_fraction(entry.date) is not None),
                   key=lambda entry: entry.date or "", reverse=True)  # fmt: skip
    return dated + [entry for entry in entries if _year_fraction(entry.date) is None]


def readable_date(date: str | None) -> str:
    """``2024-12-04`` as ``4 Dec 2024``, ``2025-11`` as ``Nov 2025``; anything else as it is."""
    return spelled_date(date, short=True) or (date or "")


def _year_fraction(date: str | None) -> float | None:
    """A date as a position in years (``2025-07`` is about 2025.5); None when it is not a date."""
    match = _DATE.match(date or "")
    if not match:
        return None
    month, day = int(match[2] or 1), int(match[3] or 1)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return int(match[1]) + (month - 1) / 12 + (day - 1) / 372


@dataclass(frozen=True)
class Event:
    name: str
    date: str | None
    documents: int
    passages: int


def events_of(entries: Iterable[ManifestEntry]) -> list[Event]:
    """One event per name and date, with its documents and passages, newest first, undated last."""
    grouped: dict[tuple[str, str | None], list[ManifestEntry]] = {}
    for entry in newest_first(entries):
        grouped.setdefault((entry.event, entry.date), []).append(entry)
    return [
        Event(name, date, len(group), sum(len(entry.chunk_ids) for entry in group))
        for (name, date), group in grouped.items()
    ]


def timeline_html(entries: Iterable[ManifestEntry]) -> str:
    """The events on a time axis (numbered dots, oldest on the left), and under it the numbered list: numbered
    oldest first, as the axis reads, the undated ones after."""
    newest = events_of(entries)
    undated = [event for event in newest if _year_fraction(event.date) is None]
    events = [event for event in reversed(newest) if _year_fraction(event.date) is not None] + undated
    if not events:
        return '<div class="library-timeline"><p>No documents yet.</p></div>'
    dated = [(number, event) for number, event in enumerate(events, start=1) if _year_fraction(event.date) is not None]
    items = "".join(
        f'<li value="{number}"><b>{html.escape(readable_date(event.date) or "Undated")}</b> · '
        f"{html.escape(event.name)} ({plural(event.documents, 'document')}, {plural(event.passages, 'passage')})</li>"
        for number, event in enumerate(events, start=1)
    )
    picture = _svg(dated) if dated else ""
    summary = f"{plural(len(events), 'event')}, {plural(len(dated), 'dated', 'dated')}"
    return (
        f'<div class="library-timeline" aria-label="{html.escape(summary)}"><h2>Events in the library</h2>'
        f'{picture}<ol class="timeline-events">{items}</ol></div>'
    )


def _svg(dated: list[tuple[int, Event]]) -> str:
    """The axis with a year tick each January and one numbered dot per event (dots that would overlap stack up)."""
    positions = {number: _year_fraction(event.date) or 0.0 for number, event in dated}
    first, last = int(min(positions.values())), int(max(positions.values())) + 1
    span = _WIDTH - 2 * _MARGIN

    def x(year: float) -> float:
        return _MARGIN + span * (year - first) / (last - first)

    ticks = "".join(
        f'<line x1="{x(year):.1f}" y1="{_AXIS_Y - 4}" x2="{x(year):.1f}" y2="{_AXIS_Y + 4}" class="tick"/>'
        f'<text x="{x(year):.1f}" y="{_AXIS_Y + 20}" text-anchor="middle">{year}</text>'
        for year in range(first, last + 1)
    )
    dots: list[str] = []
    placed: list[tuple[float, int]] = []  # each dot's x and level: a dot goes on the lowest level with room
    for number, event in sorted(dated, key=lambda pair: positions[pair[0]]):
        cx = x(positions[number])
        crowded = {level for other, level in placed if abs(other - cx) < 22}
        level = min(set(range(len(placed) + 1)) - crowded)
        placed.append((cx, level))
        cy = _AXIS_Y - 14 - level * _STEP
        title = html.escape(f"{readable_date(event.date)}: {event.name}")
        dots.append(
            f'<g class="event"><title>{title}</title><circle cx="{cx:.1f}" cy="{cy}" r="10"/>'
            f'<text x="{cx:.1f}" y="{cy + 4}" text-anchor="middle" class="num">{number}</text></g>'
        )
    top = _AXIS_Y - 26 - max(level for _, level in placed) * _STEP
    height = _AXIS_Y + 28 - top
    return (
        f'<svg class="timeline" role="img" viewBox="0 {top} {_WIDTH} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f"<title>The events in the library by date</title>"
        f'<line x1="{_MARGIN}" y1="{_AXIS_Y}" x2="{_WIDTH - _MARGIN}" y2="{_AXIS_Y}" class="axis"/>'
        f"{ticks}{''.join(dots)}</svg>"
    )
