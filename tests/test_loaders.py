"""Every supported format reads to clean text; every bad file gives one clear reason."""

import errno
import io
import os
import time
from pathlib import Path

import docx
import pytest

from assistant.errors import DocumentError
from ingest.loaders import load_text

LIMIT = 20 * 1024 * 1024


def minimal_pdf(*pages: str) -> bytes:
    """A PDF with the given text on each page (one line per line), written by hand so the tests need no PDF
    writer."""
    kids = " ".join(f"{4 + 2 * number} 0 R" for number in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for number, text in enumerate(pages):
        shown = " ".join(f"({line}) Tj T*" for line in text.split("\n"))
        stream = f"BT /F1 12 Tf 14 TL 72 720 Td {shown} ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {5 + 2 * number} 0 R "
            "/Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_plain_text_and_markdown(tmp_path: Path):
    (tmp_path / "a.txt").write_text("Kinship carers met in Fife.\r\nThey shared advice.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Notes\n\n- Kinship carers met in Fife.", encoding="utf-8")
    assert load_text(tmp_path / "a.txt", LIMIT) == "Kinship carers met in Fife.\nThey shared advice."
    assert load_text(tmp_path / "b.md", LIMIT).startswith("# Notes")


def test_html_keeps_headings_and_bullets_and_drops_tags(tmp_path: Path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>x</title><script>alert(1)</script></head><body><h2>Key learning</h2>"
        "<p>Families valued <b>consistent</b> workers.</p><ul><li>Wider reach</li><li>Flexible support</li></ul>"
        "</body></html>",
        encoding="utf-8",
    )
    text = load_text(path, LIMIT)
    assert "## Key learning" in text
    assert "- Wider reach\n" in text + "\n" and "- Flexible support" in text
    assert "<" not in text and "alert" not in text


def test_docx_headings_and_lists(tmp_path: Path):
    document = docx.Document()
    document.add_heading("Kinship Network Meeting", level=1)
    document.add_paragraph("Carers described long waits for housing.")
    document.add_paragraph("Allowances differ", style="List Bullet")
    path = tmp_path / "notes.docx"
    document.save(str(path))
    text = load_text(path, LIMIT)
    assert "# Kinship Network Meeting" in text
    assert "Carers described long waits for housing." in text
    assert "- Allowances differ" in text


def test_pdf_text(tmp_path: Path):
    path = tmp_path / "notes.pdf"
    path.write_bytes(minimal_pdf("Kinship carers met in Fife to share advice"))
    assert "Kinship carers met in Fife" in load_text(path, LIMIT)


def test_non_utf8_text_is_decoded(tmp_path: Path):
    path = tmp_path / "latin.txt"
    text = "Café meeting in Ayr about children’s rights and kinship care."
    path.write_bytes(text.encode("cp1252"))
    assert load_text(path, LIMIT) == text  # not "CafÃ©", "Caf�" or "childrenâ€™s"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"   \n\n  ", "empty"),
        ("binary.txt", bytes(range(256)) * 40, "binary"),
        ("image.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "unsupported file type"),
        ("fake.docx", b"this is not a word document at all", "not a .docx"),
        ("zip.docx", b"PK\x03\x04" + b"\x00" * 200, ".docx"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", ".pdf"),
        ("symbols.txt", b"!!! ??? ... --- ###", "no readable text"),
    ],
)
def test_bad_files_give_one_clear_reason(tmp_path: Path, name: str, content: bytes, reason: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        load_text(path, LIMIT)
    message = str(caught.value)
    # The file's name, never where it sits on the server (an editor may see the message in the Library).
    assert message.startswith(f"{name}: ") and str(tmp_path) not in message and reason in message
    assert "\n" not in message


def test_missing_and_huge_files(tmp_path: Path):
    with pytest.raises(DocumentError, match="no such file"):
        load_text(tmp_path / "absent.txt", LIMIT)
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(DocumentError, match=r"too large \(52\.4 MB"):
        load_text(huge, LIMIT)


def test_a_folder_given_as_a_file_gives_one_clear_reason(tmp_path: Path):
    folder = tmp_path / "notes.txt"
    folder.mkdir()
    with pytest.raises(DocumentError, match=r"notes\.txt: cannot read it \(Is a directory\)"):
        load_text(folder, LIMIT)


def test_a_file_the_user_may_not_read_gives_one_clear_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The refusal the system gives a file without read permission, given here by a fake read: a chmod'ed
    file is readable all the same when the tests run as root (as in a container)."""
    locked = tmp_path / "locked.txt"
    locked.write_text("Kinship carers met in Fife.", encoding="utf-8")
    real_read = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path == locked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(DocumentError) as caught:
        load_text(locked, LIMIT)
    assert str(caught.value) == "locked.txt: cannot read it (Permission denied)"


# --- layouts unlike the seeds ---------------------------------------------------------------------------

WRAPPED = """TIDELINE NEWS
==============

--------------------------------------------
SWIM CLUB OPENS FOR FOSTER FAMILIES
--------------------------------------------
The Tideline swim club in Montrose now keeps two lanes free every
Saturday morning for foster families and the children they look
after. Sessions are free and run by Coral Baxter, who trained as a
lifeguard after leaving care herself.
Contact: Coral on 07700 900 123

- towels are provided at the door for every family that comes along on a
  Saturday, with a changing room beside the pool for parents with toddlers
- no booking needed
"""


def test_hard_wrapped_text_is_joined_into_its_sentences_and_framed_titles_become_headings(tmp_path: Path):
    path = tmp_path / "bulletin.txt"
    path.write_text(WRAPPED, encoding="utf-8")
    text = load_text(path, LIMIT)
    assert "## SWIM CLUB OPENS FOR FOSTER FAMILIES" in text and "## TIDELINE NEWS" in text
    assert (
        "The Tideline swim club in Montrose now keeps two lanes free every Saturday morning for foster families "
        "and the children they look after." in text
    )
    assert "\nContact: Coral on 07700 900 123\n" in text  # a field keeps its own line
    # a list item keeps its own line, with the line indented under it
    assert (
        "\n- towels are provided at the door for every family that comes along on a Saturday, with a changing" in text
    )
    assert "toddlers\n- no booking needed" in text
    assert "----" not in text and "====" not in text


def test_a_numbered_item_framed_by_rules_is_a_title(tmp_path: Path):
    """A bulletin numbers its stories between rules: each number and title is a heading, not a list item."""
    bulletin = (
        "Newsletter of the Moray Young Carers Forum, sent to members each month with news and dates\n\n"
        "==========================================================\n"
        "3. NEW DROP-IN AT THE ELGIN LIBRARY\n"
        "==========================================================\n"
        "From February young carers can drop in to the library on Thursdays after\n"
        "school for homework help and a hot chocolate.\n"
    )
    path = tmp_path / "forum-news.txt"
    path.write_text(bulletin, encoding="utf-8")
    assert "## 3. NEW DROP-IN AT THE ELGIN LIBRARY" in load_text(path, LIMIT)


def test_text_written_a_paragraph_a_line_keeps_its_lines(tmp_path: Path):
    """Long lines without a full stop are not a wrapping width: a document written a paragraph a line (the
    seeds' way) is left as it is."""
    lines = [
        "Kinship Connect Falkirk",
        "A drop-in where grandparents raising grandchildren meet other carers, get benefits advice and a hot lunch "
        "every Wednesday in the Grangemouth community hall, run with the council's family support team",
        "Key learning",
        "Carers came back when the same worker greeted them each week and the advice was given on the spot rather "
        "than by referral to another service somewhere else in the town",
    ]
    path = tmp_path / "notes.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert load_text(path, LIMIT) == "\n".join(lines)


def test_pdf_lines_are_joined_back_into_sentences(tmp_path: Path):
    page = (
        "Lanternfield evaluation summary\n"
        "Of the 52 young people who joined the scheme in its first year, 40 were still in touch\n"
        "with their mentor after twelve months, and most said the weekly call mattered most."
    )
    path = tmp_path / "summary.pdf"
    path.write_bytes(minimal_pdf(page))
    text = load_text(path, LIMIT)
    assert "40 were still in touch with their mentor after twelve months" in text


def test_a_table_with_a_header_row_reads_one_row_a_line_each_cell_named(tmp_path: Path):
    html = """<h2>Grants awarded</h2><table>
      <tr><th>Group</th><th>Town</th><th>Grant</th></tr>
      <tr><td>Harbourside Dads</td><td>Arbroath</td><td>£12,000</td></tr>
      <tr><td>Tayview Sibling Days</td><td>Dundee</td><td>£8,500</td></tr>
    </table><p>Applications for the next round
    close in March.</p>"""
    path = tmp_path / "grants.html"
    path.write_text(html, encoding="utf-8")
    text = load_text(path, LIMIT)
    assert "Group: Harbourside Dads; Town: Arbroath; Grant: £12,000." in text
    assert "Group: Tayview Sibling Days; Town: Dundee; Grant: £8,500." in text
    assert "Applications for the next round close in March." in text  # the source's line break is white space


def test_markdown_is_read_as_its_reader_sees_it_a_pipe_table_a_row_a_line(tmp_path: Path):
    """A pipe table reads as an HTML table does, emphasis is plain text, and a paragraph typed over several
    lines is one paragraph."""
    markdown = (
        "# Westerlea Young Carers — year in review\n\n"
        "We ran **two** residential weekends and a\nwinter lunch club in Kirkcaldy.\n\n"
        "| Item | Last year | This year |\n|---|---|---|\n"
        "| Carers registered | 88 | 112 |\n| Weekend places | 30 | 44 |\n\n"
        "- lunches cooked by the carers themselves\n"
    )
    path = tmp_path / "review.md"
    path.write_text(markdown, encoding="utf-8")
    text = load_text(path, LIMIT)
    assert "# Westerlea Young Carers — year in review" in text
    assert "We ran two residential weekends and a winter lunch club in Kirkcaldy." in text
    assert "Item: Carers registered; Last year: 88; This year: 112." in text
    assert "Item: Weekend places; Last year: 30; This year: 44." in text
    assert "- lunches cooked by the carers themselves" in text and "|" not in text and "**" not in text


def test_markdown_minutes_keep_a_field_a_line_and_a_line_of_dots_is_read_at_once(tmp_path: Path):
    minutes = "# Carers forum\n\n**Date:** 4 March 2026\n**Venue:** Brechin Town House\n**Chair:** Ailsa Reid\n"
    path = tmp_path / "minutes.md"
    path.write_text(minutes, encoding="utf-8")
    lines = [line for line in load_text(path, LIMIT).splitlines() if line]
    assert lines[1:] == ["Date: 4 March 2026", "Venue: Brechin Town House", "Chair: Ailsa Reid"]
    dots = tmp_path / "dots.txt"
    dots.write_text("Total " + "." * 200_000 + " 12 and more", encoding="utf-8")
    started = time.perf_counter()
    load_text(dots, LIMIT)
    assert time.perf_counter() - started < 2


def test_a_field_between_rules_is_no_title(tmp_path: Path):
    path = tmp_path / "notice.txt"
    path.write_text("-----------------\nContact: hello@glenfamily.org\n-----------------\n", encoding="utf-8")
    assert "Contact: hello@glenfamily.org" in load_text(path, LIMIT).splitlines()


def test_figures_led_by_dots_to_their_value_are_fields_of_their_own(tmp_path: Path):
    """A plain-text summary laid out as a form: each label and its figure one field, never run together."""
    summary = (
        "Survey of kinship households in Clackmannanshire, carried out over the summer by the family team\n"
        "with help from the local carers' association and two volunteers who had been carers themselves.\n\n"
        "  Households asked .................... 240\n"
        "  Replies returned ........ 131\n"
        "  Asked for a follow-up call ............ 57\n"
    )
    path = tmp_path / "survey.txt"
    path.write_text(summary, encoding="utf-8")
    lines = [line.strip() for line in load_text(path, LIMIT).splitlines()]
    assert lines[-3:] == ["Households asked: 240", "Replies returned: 131", "Asked for a follow-up call: 57"]


def test_word_tables_stay_where_they_are_and_a_label_and_value_table_stays_a_row(tmp_path: Path):
    document = docx.Document()
    document.add_paragraph("Minutes of the Braeside Family Forum")
    actions = document.add_table(rows=3, cols=3)
    for row, cells in zip(
        actions.rows,
        [("Action", "Owner", "Due"), ("Book the hall", "Iona Rae", "3 May"), ("Send the survey", "Sam Kerr", "9 May")],
        strict=True,
    ):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.add_paragraph("The next meeting is on 14 June.")
    fields = document.add_table(rows=2, cols=2)
    for row, cells in zip(fields.rows, [("Date", "14 June 2025"), ("Venue", "Braeside Hall")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    path = tmp_path / "minutes.docx"
    document.save(path)
    text = load_text(path, LIMIT)
    assert "Action: Book the hall; Owner: Iona Rae; Due: 3 May." in text
    assert text.index("Send the survey") < text.index("The next meeting")  # in the document's order
    assert "Date\t14 June 2025" in text


# A board's papers typed at a keyboard, laid out unlike any seed: a misaligned header, a cell wrapped onto the
# next line, a lead's name running into the date column with one space, a two-column list and a lone row.
_TYPED_PAPERS = """\
NORTH COAST CARE LEAVERS BOARD
NOTE OF MEETING

Held:      Thursday 4 June 2026
Where:     Wick Assembly Rooms

ATTENDING
    Morven Sinclair      Board convener
    Iain Gunn            Throughcare Team Leader
    Kirsty Mowat         Youth worker, Pulteney Youth Project

2. HOUSING FIRST FOR CARE LEAVERS
Iain Gunn said eleven young people had moved into their own tenancy since January, and none had lost it.

3. RESULTS OF THE SPRING SURVEY
   Satisfied 64%     Unsure 21%     Unhappy 15%
The board asked for the survey to run again in the autumn.

ACTION LOG
Ref   Task                                                   Lead                    By when
A1    Write to the housing association about a fourth      Iain Gunn               31 July 2026
      supported flat in Thurso
A2    Book the autumn survey venue                          Kirsty Mowat            1 September 2026
A3    Share the tenancy figures with the Parenting Panel     Morven Sinclair-Bremner 30 June 2026
"""


def test_a_typed_table_becomes_one_labelled_line_a_row() -> None:
    from ingest.loaders import document_from_bytes

    text = document_from_bytes(_TYPED_PAPERS.encode(), ".txt", "papers.txt").text
    assert (
        "Ref: A1; Task: Write to the housing association about a fourth supported flat in Thurso; "
        "Lead: Iain Gunn; By when: 31 July 2026." in text
    )
    assert "Ref: A2; Task: Book the autumn survey venue; Lead: Kirsty Mowat; By when: 1 September 2026." in text
    assert (
        "Ref: A3; Task: Share the tenancy figures with the Parenting Panel; Lead: Morven Sinclair-Bremner; "
        "By when: 30 June 2026." in text
    )


def test_two_typed_columns_and_a_lone_row_of_cells_read_as_fields() -> None:
    from ingest.loaders import document_from_bytes

    lines = [line.strip() for line in document_from_bytes(_TYPED_PAPERS.encode(), ".txt", "p.txt").text.split("\n")]
    assert "Held: Thursday 4 June 2026" in lines
    assert "Iain Gunn: Throughcare Team Leader" in lines
    assert "Kirsty Mowat: Youth worker, Pulteney Youth Project" in lines
    assert "Satisfied 64%; Unsure 21%; Unhappy 15%" in lines


def test_typed_agenda_items_and_not_their_attendees_head_the_sections() -> None:
    from ingest.loaders import document_from_bytes
    from ingest.structure import analyse

    text = document_from_bytes(_TYPED_PAPERS.encode(), ".txt", "p.txt").text
    headings = [unit.default_section for unit in analyse(text, "p").units]
    assert "2. HOUSING FIRST FOR CARE LEAVERS" in headings
    assert "3. RESULTS OF THE SPRING SURVEY" in headings
    assert not any("Sinclair" in heading or "Satisfied" in heading for heading in headings if heading)


def test_a_numbered_list_stays_a_list() -> None:
    from ingest.structure import analyse

    text = "Next steps\n\n1. Agree the budget\n2. Recruit two mentors\n3. Report back in March\n"
    headings = {unit.default_section for unit in analyse(text, "steps").units}
    assert not any(heading and heading.startswith("1.") for heading in headings)
