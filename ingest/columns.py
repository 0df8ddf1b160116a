"""Tables typed in plain text, their columns set apart by runs of spaces, read as the rows they are.

Minutes, bulletins and emails lay out attendees, actions and dates in aligned columns
("1    Prepare costed proposal ...    Jenna McLaren      31 March 2026"). Read line by line, a row is a run
of words with no say in which column is which, and a short row looks like a heading. Here a table under a
header row becomes one line a row, each cell after its column's name (``labelled_rows``, as HTML and Word
tables are read), a two-column list becomes "first: second" lines, and a lone row of cells is joined the same
way (semicolons between three or more).
"""

import itertools
import re
import statistics

# Columns are at least this many spaces apart; a single space is a word gap inside a cell. Tabs are left to the
# structure detector, which reads tab-separated rows itself.
_COLUMN_GAP = re.compile(r" {2,}")
# A lone line of cells ("Agree 88%   Disagree 5%   Not sure 7%", "Megan Syme      Partnership Support Officer"):
# wider gaps, as two spaces may end a sentence.
_LONE_GAP = re.compile(r" {3,}")
# A header cell names a column: a few words and no figures ("Action", "Owner", "Due date").
_HEADER_CELL_WORDS = 4
# A column's text may start a character either side of where its header or first row put it.
_ALIGN_SLACK = 1


def _cells(line: str, gap: re.Pattern[str] = _COLUMN_GAP) -> list[tuple[int, str]]:
    """Where each cell of ``line`` starts, and its text."""
    cells, start = [], len(line) - len(line.lstrip())
    for match in gap.finditer(line, start):
        if match.start() > start:
            cells.append((start, line[start : match.start()]))
        start = match.end()
    if line[start:].strip():
        cells.append((start, line[start:].rstrip()))
    return cells


def _names_columns(cells: list[tuple[int, str]]) -> bool:
    return len(cells) >= 3 and all(
        len(text.split()) <= _HEADER_CELL_WORDS and not re.search(r"\d", text) for _, text in cells
    )


def _slices(line: str, starts: list[int]) -> list[str]:
    """``line`` cut where the columns start, each cut moved to the nearest word start (a long name can run up
    to the next column with one space: "Sgt Calum Drysdale 31 March 2026"; a row may sit a character off)."""
    word_starts = [match.start() for match in re.finditer(r"(?<!\S)\S", line)]
    cuts = [0]
    for start in starts[1:]:
        later = [at for at in word_starts if at > cuts[-1]]
        cuts.append(min(later, key=lambda at: abs(at - start)) if later else len(line))
    cuts.append(len(line))
    return [re.sub(r"\s+", " ", line[a:b]).strip() for a, b in itertools.pairwise(cuts)]


def labelled_rows(rows: list[list[str]]) -> list[str]:
    """A table with a header row, one line a row, each cell after its column's name: "Organisation: Glen
    Family Link; Project: Nearer Home; Award: £46,350." A row read alone still says what each figure is."""
    header, *body = rows
    lines = []
    for row in body:
        if len(row) != len(header):
            lines.append("\t".join(row))  # a row across the columns (a section's title): as it is
            continue
        cells = [f"{name}: {cell}" if name else cell for name, cell in zip(header, row, strict=False) if cell.strip()]
        if cells:
            lines.append("; ".join(cells).rstrip(".") + ".")
    return lines


def _table(lines: list[str], index: int) -> tuple[list[str], int] | None:
    """The table whose header row is ``lines[index]``, as labelled rows, and the index after it. Where the
    columns start is read off the rows that show every cell apart, since a typed header seldom lines up
    exactly with its rows; a row whose cells run together is cut there."""
    header = _cells(lines[index])
    if not _names_columns(header):
        return None
    end = index + 1
    while end < len(lines) and lines[end].strip():
        end += 1
    body = [_cells(line) for line in lines[index + 1 : end]]
    full = [cells for cells in body if len(cells) == len(header)]
    if len(full) < max(2, len(body) // 2):
        return None
    starts = [int(statistics.median(cells[k][0] for cells in full)) for k in range(len(header))]
    rows: list[list[str]] = []
    for line, cells in zip(lines[index + 1 : end], body, strict=True):
        if cells[0][0] > starts[0] + _ALIGN_SLACK and rows:  # a cell wrapped onto the next line
            for start, text in cells:
                column = min(range(len(starts)), key=lambda k: abs(starts[k] - start))
                rows[-1][column] = f"{rows[-1][column]} {text.strip()}".strip()
        elif len(cells) == len(header):
            rows.append([text.strip() for _, text in cells])
        else:
            rows.append(_slices(line, starts))
    return labelled_rows([[text for _, text in header], *rows]), end


def _pair(first: str, second: str) -> str:
    """A first cell that is already a label keeps its own colon ("Date:     Wednesday" → "Date: Wednesday")."""
    return f"{first}{'' if first.endswith(':') else ':'} {second}"


def _pairs(lines: list[str], index: int) -> tuple[list[str], int] | None:
    """Two or more lines of two cells whose second cells line up ("Priya Nair      Team Manager, Fostering"),
    as "Priya Nair: Team Manager, Fostering"; a first cell that is a label keeps its own colon."""
    out: list[str] = []
    column: int | None = None
    end = index
    while end < len(lines):
        cells = _cells(lines[end])
        if len(cells) != 2 or (column is not None and abs(cells[1][0] - column) > _ALIGN_SLACK):
            break
        column = cells[1][0]
        out.append(lines[end][: cells[0][0]] + _pair(cells[0][1].strip(), cells[1][1].strip()))
        end += 1
    return (out, end) if len(out) >= 2 else None


def aligned(text: str) -> tuple[str, frozenset[int]]:
    """``text`` with its space-aligned tables, two-column lists and lone rows of cells read as rows, and the
    numbers of the lines that are such rows: each ends where it does (no reflowing joins them)."""
    lines = text.split("\n")
    out: list[str] = []
    rows_at: set[int] = set()
    index = 0
    while index < len(lines):
        found = _table(lines, index) or _pairs(lines, index)
        if found:
            rows, index = found
            rows_at.update(range(len(out), len(out) + len(rows)))
            out.extend(rows)
            continue
        line = lines[index]
        cells = _cells(line, _LONE_GAP)
        if len(cells) >= 2:
            texts = [cell.strip() for _, cell in cells]
            joined = _pair(*texts) if len(texts) == 2 else "; ".join(texts)
            line = line[: cells[0][0]] + joined
            rows_at.add(len(out))
        out.append(line)
        index += 1
    return "\n".join(out), frozenset(rows_at)
