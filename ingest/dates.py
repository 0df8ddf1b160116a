"""Read an event's date (ISO 8601) and place from the opening of its notes."""

import re

from assistant.models import MONTH_NAMES

# Each month's full name and its abbreviations ("sept" too), lower-cased, to its number.
_MONTHS = {
    alias: number
    for number, name in enumerate(MONTH_NAMES, start=1)
    for alias in (name.lower(), name[:3].lower(), *(("sept",) if number == 9 else ()))
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DAY_MONTH_YEAR = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\s*,?\s*{_YEAR}\b", re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE)
_DAY_MONTH = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b", re.IGNORECASE)
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+{_YEAR}\b", re.IGNORECASE)
_ISO = re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>\d\d)-(?P<day>\d\d)\b")
# Dates with a day, a month and a year, most explicit first.
_WHOLE_DATES = (_ISO, _DAY_MONTH_YEAR, _MONTH_DAY_YEAR)
# A field line, maybe a list item, its label maybe in bold ("- **Venue:** North Inch Conference Centre, Perth").
_FIELD_OPENING = r"^\s*(?:[-*•]\s+)?(?:\*\*|__)?"
_FIELD_COLON = r"(?:\*\*|__)?\s*:(?:\*\*|__)?\s*"
_DATE_LINE = re.compile(rf"{_FIELD_OPENING}date(?:\(s\))?{_FIELD_COLON}(?P<value>.+)$", re.IGNORECASE | re.MULTILINE)
_PLACE_LINE = re.compile(
    rf"{_FIELD_OPENING}(?:venue|location|place){_FIELD_COLON}(?P<value>.+)$", re.IGNORECASE | re.MULTILINE
)

# Only the opening of a document describes the event; later dates are about other things.
_OPENING_CHARS = 1500


def _iso(year: str, month: str, day: str | None) -> str | None:
    number = int(month) if month.isdigit() else _MONTHS.get(month.lower().rstrip("."))
    if number is None or not 1 <= number <= 12:
        return None
    if day is None:
        return f"{year}-{number:02d}"
    if not 1 <= int(day) <= 31:
        return None
    return f"{year}-{number:02d}-{int(day):02d}"


def parse_date(text: str, default_year: str | None = None) -> str | None:
    """The first date in ``text`` as YYYY-MM-DD (or YYYY-MM when no day is given)."""
    for pattern in _WHOLE_DATES:
        match = pattern.search(text)
        if match:
            return _iso(match["year"], match["month"], match["day"])
    if default_year:
        match = _DAY_MONTH.search(text)
        if match:
            return _iso(default_year, match["month"], match["day"])
    match = _MONTH_YEAR.search(text)
    if match:
        return _iso(match["year"], match["month"], None)
    return None


def date_span(text: str) -> tuple[int, int] | None:
    """Where the first date in ``text`` is (a day, month and year; a month and year; a day and month), if any."""
    for pattern in (*_WHOLE_DATES, _MONTH_YEAR, _DAY_MONTH):
        match = pattern.search(text)
        if match:
            return match.span()
    return None


def find_event_date(text: str, title: str) -> tuple[str | None, str | None]:
    """The event's date and place: a 'Date:' line first, then a date in the opening, then the title's month."""
    date_line = _DATE_LINE.search(text)
    place = None
    if date_line:
        value = date_line["value"].strip()
        date = parse_date(value)
        if date:
            rest = value.rsplit(",", 1)
            if len(rest) == 2 and not re.search(r"\d", rest[1]):
                place = rest[1].strip() or None
            place_line = _PLACE_LINE.search(text)
            return date, place_line["value"].strip() if place_line else place
    opening = text[:_OPENING_CHARS]
    title_year = re.search(_YEAR, title)
    date = parse_date(opening, title_year["year"] if title_year else None)
    place_line = _PLACE_LINE.search(opening)
    return date, place_line["value"].strip() if place_line else None
