"""The shared text rules (assistant.text): words, sentences, list items, citation markers, questions, names."""

import ast
from pathlib import Path

import pytest

from assistant import text
from assistant.models import ChunkMetadata, ProjectMatch
from assistant.text import (
    BULLET,
    CITED_SENTENCE_END,
    EMAIL,
    ESCAPED_CITATION,
    cited_numbers,
    clean_query,
    query_problem,
    sentence_spans,
    sentences_of,
    split_sentences,
    stem,
    tokenize,
    who_label,
    without_bullet,
    without_citations,
)


def test_the_ground_floor_imports_nothing_from_the_project():
    tree = ast.parse(Path(text.__file__).read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] in {"assistant", "ingest", "tests"}}


def test_tokenize_drops_stop_words_and_meets_word_forms():
    assert tokenize("The projects' funding was funded by the Trust’s partners") == [
        "project", "fund", "fund", "trust", "partner",
    ]  # fmt: skip
    assert stem("stories") == "story" and stem("bus") == "bus" and stem("is") == "is"
    assert tokenize("Kinship care, kinship CARE") == [*tokenize("kinship care")] * 2


@pytest.mark.parametrize(
    "forms",
    [
        ("house", "houses"),  # "es" is a plural ending only after ss, x, z, ch and sh
        ("service", "services"),
        ("class", "classes"),  # "ss" is no plural
        ("bus", "buses"),
        ("organisation", "organization", "organisations", "organizations"),
        ("programme", "program", "programmes"),
        ("two", "2"),
    ],
)
def test_word_forms_and_spellings_meet(forms):
    assert len({stem(form) for form in forms}) == 1, {form: stem(form) for form in forms}


def test_different_words_stay_apart():
    assert len({stem(word) for word in ("focus", "crisis", "class", "one", "1", "care", "case")}) == 7


def test_sentences_end_at_end_marks_before_a_capital_figure_or_heading():
    line = 'It worked… Then it grew. "Young people" said so! 34 came. # Next (see above.) Done?'
    assert split_sentences(line) == [
        "It worked…", "Then it grew.", '"Young people" said so!', "34 came.", "# Next (see above.", "Done?",
    ]  # fmt: skip
    assert split_sentences("Ages 5 to 8. then more, e.g. this.") == ["Ages 5 to 8. then more, e.g. this."]


def test_a_short_word_alone_in_brackets_with_a_full_stop_is_an_abbreviation():
    line = "Chaired by Bailie (retd.) Fiona Moir. Minutes by Ali (Ltd.) Harper. Staff agreed (mostly.) Then lunch."
    assert split_sentences(line) == [
        "Chaired by Bailie (retd.) Fiona Moir.",
        "Minutes by Ali (Ltd.) Harper.",
        "Staff agreed (mostly.",
        "Then lunch.",
    ]


@pytest.mark.parametrize(
    ("line", "sentences"),
    [
        (
            "Opened by Cllr Rae and Prof. Anna Lindqvist. Tea followed.",
            ["Opened by Cllr Rae and Prof. Anna Lindqvist.", "Tea followed."],
        ),
        ("Meet at St. Ninian's Hall. Parking is free.", ["Meet at St. Ninian's Hall.", "Parking is free."]),
        ("See action No. 4 in the log. Nothing else.", ["See action No. 4 in the log.", "Nothing else."]),
        ("Bring paper, pens etc. Lunch is provided.", ["Bring paper, pens etc.", "Lunch is provided."]),
    ],
)
def test_a_full_stop_after_a_title_or_before_a_number_ends_no_sentence(line, sentences):
    assert split_sentences(line) == sentences


def test_a_short_name_ending_in_a_question_mark_is_not_a_sentence():
    line = "The Why Not? Trust developed Thinking Space. Would it work? It did."
    assert split_sentences(line) == ["The Why Not? Trust developed Thinking Space.", "Would it work? It did."]


def test_sentence_spans_locate_sentences_and_can_keep_closing_marks():
    line = '  She said "it helped." Staff agreed (mostly.) Then it ended.  '
    assert [line[start:end] for start, end in sentence_spans(line)] == split_sentences(line)
    assert split_sentences(line) == ['She said "it helped.', "Staff agreed (mostly.", "Then it ended."]
    kept = split_sentences(line, keep_closing_marks=True)
    assert kept == ['She said "it helped."', "Staff agreed (mostly.)", "Then it ended."]
    assert " ".join(kept) == line.strip()
    assert split_sentences("   ") == [] and sentence_spans("") == []


def test_the_sentences_of_a_text_of_several_lines_lose_their_list_markers():
    answer = "Two projects helped [1]. One grew [2].\n\n- Circle ran groups [3].\n  2. Staff met. Then they wrote\n"
    assert sentences_of(answer) == [
        "Two projects helped [1].", "One grew [2].", "Circle ran groups [3].", "Staff met.", "Then they wrote",
    ]  # fmt: skip


def test_bullets_are_list_markers_followed_by_a_space():
    for item in ("- one", "* one", "• one", "▶ one", "► one", "▪ one", "→ one", "1. one", "12) one", "  - one"):
        assert BULLET.match(item) and without_bullet(item) == "one", item
    for line in ("-5 degrees", "2024. A year", "*bold*", "one - two", "123. no"):
        assert not BULLET.match(line) and without_bullet(line) == line, line


def test_citation_markers():
    answer = "Kinship carers met monthly [1]. Two projects helped [2, 3]. One did [4; 5]."
    assert cited_numbers(answer) == [1, 2, 3, 4, 5]
    assert without_citations(answer) == "Kinship carers met monthly. Two projects helped. One did."
    assert cited_numbers("In [2024] and [a]") == [2024] and cited_numbers("none") == []
    escaped = r"Staff reflected \[1\] and grew \[2\]."
    assert [match[1] for match in ESCAPED_CITATION.finditer(escaped)] == ["1", "2"]


def test_a_streamed_sentence_ends_after_its_citation_markers():
    buffer = "Carers met monthly. [1] [2] Staff reflected [3]. More"
    assert [buffer[match.end() :][:5] for match in CITED_SENTENCE_END.finditer(buffer)] == ["Staff", "More"]
    assert CITED_SENTENCE_END.search("No end yet [1]") is None


def test_questions_are_cleaned_and_checked():
    assert clean_query("\x1b[31mwhat\x1b[0m  about\tkinship\x00care?\n") == "what about kinship care?"
    # a JSON "\\ud800" or a command line's bytes that were not UTF-8: no database or page can store them
    assert clean_query("what is wee\ud800 breathers\udcff") == "what is wee breathers"
    assert query_problem("kinship care", 100) is None
    assert "empty" in (query_problem(clean_query(" \x1b[2J \x07 "), 100) or "")
    assert "101 characters long; the limit is 100" in (query_problem("a" * 101, 100) or "")
    assert "no words" in (query_problem("?!… —", 100) or "")


def test_who_names_the_organisation_and_project_once():
    assert who_label("Circle", "Kinship Support") == "Circle – Kinship Support"
    assert who_label("Circle", None) == "Circle" and who_label(None, "Thinking Space") == "Thinking Space"
    assert who_label(None, None) == "" and who_label("", "") == ""
    assert who_label("Barnardo's Scotland", "barnardo's") == "Barnardo's Scotland"
    meta = ChunkMetadata("a.txt", "Event", None, None, "Circle", "Kinship Support", None, None, 0, 1, "h", "u", 0, 0,
                         "d", "Event")  # fmt: skip
    assert meta.who == "Circle – Kinship Support"
    match = ProjectMatch("Why Not? Trust", "Thinking Space", "Event", None, "a.txt", "why", None, [])
    assert match.who == "Why Not? Trust – Thinking Space"


@pytest.mark.parametrize("found", ["jo@example.org", "a.b+c@mail.example.co.uk"])
def test_email(found):
    assert EMAIL.search(f"Contact: {found}.")[0] == found
