"""A field's label stays where its value is no sentence ("Chair: Morag Dunbar") and goes where the value says
something on its own; the cases in tests/data/field_lines.jsonl were written by a helper who had not seen the
rule's code."""

import json
from pathlib import Path

import pytest

from assistant.sentences import quotes_of

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "field_lines.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("case", CASES, ids=[case["line"][:40] for case in CASES])
def test_a_field_line_is_quoted_with_its_label_only_when_its_value_needs_it(case):
    assert quotes_of(case["line"])[0].text == case["quote"]
