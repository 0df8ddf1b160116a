"""Sentence picking, fact kinds, near misses and follow-ups, offline: a small set of notes, the hashing embedder.

The notes (tests/data/forum_notes) hold one fact of each kind: a date and place, a count, who runs what,
a contact, a finding, a list of tools, and an acronym.
"""

import re
from dataclasses import replace

import pytest

from assistant.answer.composing import missing_fact
from assistant.answer.framing import framing_removed
from assistant.answer.grounding import SupportedSentence
from assistant.answer.picking import Candidate, SentencePicker
from assistant.answer.questions import FactKind, asked_fact, states
from assistant.models import Answer, ChunkMetadata, Passage
from assistant.sentences import Quote, quotes_of
from tests.conftest import conversation, language, tagged


def cited_and_valid(answer: Answer) -> None:
    assert answer.answered, answer.text
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} <= {c.n for c in answer.citations}


# --- each kind of fact -------------------------------------------------------------------------


def test_when_and_where_give_the_events_date_and_place(forum):
    for question in ("When was the Kinship Learning Forum held?", "Where was the Kinship Learning Forum held?"):
        answer = forum.answer(question)
        cited_and_valid(answer)
        assert re.search(r"12(th)? June 2024", answer.text) and "Dundee" in answer.text
        assert "don't give" not in answer.text


def test_how_many_gives_the_count(forum):
    answer = forum.answer("How many attendees did the Kinship Learning Forum have?")
    cited_and_valid(answer)
    assert "27" in answer.text


def test_who_names_the_organisation(forum):
    answer = forum.answer("Who runs the Kinship Circle?")
    cited_and_valid(answer)
    assert answer.text.startswith("Bridges Family Trust")


def test_contact_comes_from_the_contact_the_notes_give(forum):
    answer = forum.answer("How can I contact Bridges Family Trust?")
    cited_and_valid(answer)
    assert answer.text.startswith("Bridges Family Trust: Morag Leslie morag@bridgesfamily.org.uk [1].")


def test_contact_for_an_organisation_without_one_says_so_and_never_gives_anothers(forum):
    answer = forum.answer("Is there a contact for Harbour Youth Partnership?")
    cited_and_valid(answer)
    assert "The notes give no contact for Harbour Youth Partnership." in answer.text
    assert "morag@" not in answer.text


def test_a_finding_is_quoted_with_its_project_named(forum):
    answer = forum.answer("What did the Kinship Circle evaluation find?")
    cited_and_valid(answer)
    assert "Bridges Family Trust: The evaluation found that carers who joined the Kinship Circle" in answer.text


def test_a_list_comes_whole_with_its_head_and_without_its_field_label(forum):
    answer = forum.answer("Which tools are in the Harbour Youth Partnership wellbeing toolkit?")
    cited_and_valid(answer)
    assert "a mood diary; a check-in card; a safety plan template" in answer.text
    assert "Key learning:" not in answer.text


def test_a_near_miss_says_what_the_notes_say_and_that_the_detail_is_not_there(forum):
    answer = forum.answer("How much did the Kinship Learning Forum cost?")
    cited_and_valid(answer)
    assert answer.text.endswith("The notes don't give the amount of money asked for.")
    assert answer.citations  # what the notes do say comes first, cited


def test_a_question_naming_something_the_notes_never_mention_is_refused(forum):
    for question in ("What is the capital of France?", "What is the weekly Kinship Care Allowance rate?"):
        assert not forum.answer(question).answered


# --- each kind of follow-up --------------------------------------------------------------------


def test_contact_follow_up_resolves_them_from_the_previous_answer(forum):
    history = conversation(forum, "Who runs the Kinship Circle?")
    answer = forum.answer("Can I contact them?", history)
    assert "Bridges Family Trust" in answer.standalone_question
    assert "morag@bridgesfamily.org.uk" in answer.text


def test_when_follow_up_gives_the_date_of_what_the_previous_answer_was_about(forum):
    answer = forum.answer("When was that?", conversation(forum, "Who runs the Kinship Circle?"))
    cited_and_valid(answer)
    assert re.search(r"12(th)? June 2024", answer.text)


def test_what_else_follow_up_says_something_new(forum):
    history = conversation(forum, "What did the Kinship Circle evaluation find?")
    answer = forum.answer("What else are they doing?", history)
    cited_and_valid(answer)
    assert "felt less isolated" not in answer.text


def test_acronym_follow_up_carries_the_acronym_and_finds_its_expansion(forum):
    history = conversation(forum, "Who made the wellbeing toolkit?")
    answer = forum.answer("What does that stand for?", history)
    assert "HYP" in answer.standalone_question
    assert "Harbour Youth Partnership (HYP)" in answer.text


# --- question analysis and quotes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("When was it published?", FactKind.DATE),
        ("What year was the event held?", FactKind.YEAR),
        ("Which year of the promise was the transition year?", FactKind.GENERAL),
        ("How many local authorities are there?", FactKind.COUNT),
        ("How much more likely are they to be charged?", FactKind.SHARE),
        ("Who hosted the showcase?", FactKind.PERSON_OR_ORGANISATION),
        ("In which town is the school?", FactKind.PLACE),
        ("Is there a contact for the SCCR person?", FactKind.CONTACT),
        ("Which tools are in the toolkit?", FactKind.LIST),
        ("What did the research find?", FactKind.FINDING),
        ("I manage a house and staff escalate when things get hard. Has anyone tried peer learning?", FactKind.GENERAL),
        ("Where would a team start with it?", FactKind.GENERAL),
    ],
)
def test_the_kind_of_fact_asked(question, kind):
    assert asked_fact(question).kind is kind


def test_what_states_a_fact_of_each_kind():
    assert states(FactKind.DATE, tagged("It was held on 4 December.")) and not states(
        FactKind.DATE, tagged("It was held.")
    )
    assert states(FactKind.YEAR, tagged("Plan 21-24, published 2021")) and not states(
        FactKind.YEAR, tagged("25 January")
    )
    assert states(FactKind.COUNT, tagged("sessions across three schools"), frozenset({"school"}))
    assert not states(FactKind.COUNT, tagged("27% more likely to disengage"), frozenset({"young", "people"}))
    assert states(FactKind.COUNT, tagged("No of Attendees: 34"), frozenset({"attend"}))
    assert states(FactKind.SHARE, tagged("4.16 times more likely")) and states(
        FactKind.CONTACT, tagged("jo@example.org")
    )
    assert states(
        FactKind.PERSON_OR_ORGANISATION, tagged("It was set up by Corra Foundation."), question="Who set it up?"
    )
    assert not states(
        FactKind.PERSON_OR_ORGANISATION, tagged("Love Inc recruited one."), question="Who did Love Inc hire?"
    )


def test_framing_is_removed_and_content_kept():
    kept = framing_removed("I'm a youth worker and our team wants examples. Has anyone tried peer support?")
    assert "youth worker" in kept and "peer support" in kept and "anyone" not in kept and "I'm" not in kept
    # What the asker wants done about the problem is framing too: the notes say "onboarding", never "fixed".
    kept = framing_removed("we lose young people during onboarding, has anyone fixed or solved that?")
    assert "onboarding" in kept and "fixed" not in kept and "solved" not in kept


def test_quotes_drop_furniture_labels_and_dangling_openers_and_keep_spans():
    text = "ctx\nGallery › Bridges\nKey learning: So the evaluation found that carers felt better.\nNo of Attendees: 27"
    quotes = quotes_of(text, "ctx")
    assert [q.text for q in quotes] == ["The evaluation found that carers felt better.", "No of Attendees: 27"]
    assert all(q.text.split()[-1].rstrip(".") in text[q.start : q.end] for q in quotes)


def test_breadcrumbs_running_headers_and_emphasis_marks_are_not_what_a_page_says():
    text = (
        "ctx\nHome > What we fund > Sibling Days > 2025 grants\n"
        "Braeside Trust | Annual review | 2025\n"
        "*Run for and with kinship families across Angus. Every session is free.*\n"
        "Families told us the _weekly_ calls mattered most."
    )
    assert [q.text for q in quotes_of(text, "ctx")] == [
        "Run for and with kinship families across Angus.",
        "Every session is free.",
        "Families told us the weekly calls mattered most.",
    ]


def test_a_heading_line_ends_a_list_of_short_lines():
    quotes = quotes_of("Inside this month:\nCamp photos\nNew volunteers\n## Camp photos\nForty children went to Arran.")
    assert [q.text for q in quotes] == [
        "Inside this month: Camp photos; New volunteers.",
        "Forty children went to Arran.",
    ]
    assert [q.text for q in quotes_of("#KeepThePromise week starts on Monday.")] == [
        "#KeepThePromise week starts on Monday."
    ]  # a hashtag is no heading


def test_a_list_of_sentences_is_quoted_item_by_item_and_a_list_of_clauses_as_one():
    """A bulleted list whose items each say something (a minutes' decisions) gives one quote an item, its bare
    lead-in none; short items, items finishing their lead-in's sentence, or items answering a lead-in that says
    what they are, stay one quote with it."""
    decisions = quotes_of(
        "Decisions taken\n"
        "- The respite pilot in Brora will be extended to March 2027 at no extra cost.\n"
        "- Carers from Wick and Thurso will be invited to join the reference group in spring.\n"
    )
    assert [q.text for q in decisions] == [
        "The respite pilot in Brora will be extended to March 2027 at no extra cost.",
        "Carers from Wick and Thurso will be invited to join the reference group in spring.",
    ]
    survey = quotes_of("We heard from 212 carers. What they told us:\n- 58% wanted more evening support groups.\n"
                       "- 12 of the 14 Brora carers asked for a named worker they could phone.")  # fmt: skip
    assert [q.text for q in survey] == [
        "We heard from 212 carers.",
        "58% wanted more evening support groups.",
        "12 of the 14 Brora carers asked for a named worker they could phone.",
    ]
    clauses = quotes_of("The committee resolved to:\n- ask the council for the waiting-list figures by June\n"
                        "- write to every kinship family in Caithness before the summer holidays")  # fmt: skip
    assert len(clauses) == 1 and clauses[0].text.startswith("The committee resolved to: ask the council")
    framed = quotes_of("Carers met twice in June and drew up the changes they want to see:\n"
                       "- Every kinship family gets a named worker within a month of the child arriving.\n"
                       "- Allowances are paid from the first week, not from the panel date.")  # fmt: skip
    assert len(framed) == 1 and framed[0].text.startswith("Carers met twice in June and drew up the changes")
    short = quotes_of("What worked:\n- Evening sessions\n- A named worker")
    assert [q.text for q in short] == ["What worked: Evening sessions; A named worker."]


def test_a_name_ending_in_a_question_mark_does_not_end_the_sentence():
    quotes = quotes_of("The Why Not? Trust developed Thinking Space. What is a Kinship Carer? It is family.")
    assert [q.text for q in quotes] == [
        "The Why Not? Trust developed Thinking Space.",
        "What is a Kinship Carer?",
        "It is family.",
    ]


def test_a_passage_heading_repeated_as_its_first_line_is_no_sentence_to_pick():
    """A sentence-case heading ("How the money was spent", which the Title Case test misses) under which a
    passage sits is not picked as a sentence; a heading stating a date is a fact and stays."""
    import numpy as np

    from assistant.answer.grounding import Grounding
    from assistant.answer.picking import UnitSentences
    from assistant.settings import Settings

    context = "Glenbrae Carers Trust annual review · How the money was spent"
    text = f"{context}\nHow the money was spent\nMost of the grant paid for respite weekends in Nairn."
    meta = ChunkMetadata(
        "review.md", "Glenbrae Carers Trust annual review", None, None, None, None, "How the money was spent", None,
        0, len(text), "h", "u1", 0, 0, "d", context,
    )  # fmt: skip
    passage = Passage("c1", text, meta)
    quotes = [(tagged(q.text), passage, np.zeros(0, dtype=np.float32)) for q in quotes_of(text, context)]
    picker = SentencePicker(None, Settings())  # type: ignore[arg-type]  # scoring reads no store
    question = "what did the grant pay for?"
    grounding = Grounding({"grant": 1.0}, 0.4, 0.6, language())
    picked = picker.candidates(question, [0.0], asked_fact(question), [UnitSentences(0, quotes)], grounding)
    assert [c.quote.text for c in picked] == ["Most of the grant paid for respite weekends in Nairn."]

    dated = "Kinship gathering · Spring gathering, 12 May 2026"
    dated_text = f"{dated}\nSpring gathering, 12 May 2026\nForty carers came."
    dated_meta = replace(meta, context=dated, section="Spring gathering, 12 May 2026", end=len(dated_text))
    dated_passage = Passage("c2", dated_text, dated_meta)
    quotes = [(tagged(q.text), dated_passage, np.zeros(0, dtype=np.float32)) for q in quotes_of(dated_text, dated)]
    picked = picker.candidates("when was it?", [0.0], asked_fact("when was it?"), [UnitSentences(0, quotes)], grounding)
    assert "Spring gathering, 12 May 2026" in [c.quote.text for c in picked]


def _candidate(text: str, order: int, chunk: str = "c1") -> Candidate:
    meta = ChunkMetadata(
        "notes.txt", "Showcase", None, None, "Harbour Trust", None, None, None, 0, 0, "h", "u1", 0, 0, "d", ""
    )
    return Candidate(tagged(text), Passage(chunk, text, meta), 0, order, 0.4, 0.2, 0.5)


def test_a_sentence_leaning_on_the_one_before_stands_with_it_in_the_same_chunk_only():
    intro = _candidate("Harbour Trust offers young people chances to get started in life.", 0)
    finding = _candidate("Their data showed that young people were 27% more likely to disengage early.", 1)
    by_key = {intro.key: intro, finding.key: finding}
    assert SentencePicker.standing(finding, by_key) == [intro, finding]
    assert SentencePicker.standing(intro, by_key) == [intro]
    elsewhere = _candidate(finding.quote.text, 1, chunk="c2")
    assert SentencePicker.standing(elsewhere, {intro.key: intro, elsewhere.key: elsewhere}) == []
    head = _candidate("Harbour Trust identified these problems with its onboarding:", 0)
    assert SentencePicker.standing(finding, {head.key: head, finding.key: finding}) == []


def test_a_sentence_opening_a_named_projects_unit_stands_for_that_project():
    opening = _candidate("This poster describes how a group of parents explored what support was missing.", 0)
    assert SentencePicker.standing(opening, {opening.key: opening}) == [opening]
    general = Candidate(
        opening.quote, Passage("c1", opening.quote.text, replace(opening.passage.metadata, organisation=None)),
        0, 0, 0.4, 0.2, 0.5,
    )  # fmt: skip
    assert SentencePicker.standing(general, {general.key: general}) == []  # nothing names what "This" is


def test_follow_up_opens_with_the_contact_and_does_not_repeat_the_previous_answer(forum):
    history = conversation(forum, "What did Harbour Youth Partnership develop?")
    said = history[1]["content"]
    answer = forum.answer("How do I contact them?", history)
    assert answer.text.startswith("The notes give no contact for Harbour Youth Partnership")
    first = re.sub(r"\s*\[\d+\]", "", said).split(". ")[0].strip(" .")
    assert first not in answer.text


def test_when_follow_up_does_not_repeat_the_previous_answer(forum):
    history = conversation(forum, "What did the Kinship Circle evaluation find?")
    answer = forum.answer("When was that?", history)
    cited_and_valid(answer)
    assert re.search(r"12(th)? June 2024", answer.text)
    assert "felt less isolated" not in answer.text


def test_a_date_without_its_year_says_the_year_is_not_given():
    day = _candidate("The online event took place on Tuesday 25 January.", 0)
    kept = [SupportedSentence(day.quote.text, (1,))]
    missing = missing_fact(asked_fact("When was the online event?"), kept, [day.passage], language())
    assert missing == "The notes don't give the year."
    with_year = [SupportedSentence("The online event took place on 25 January 2022.", (1,))]
    assert missing_fact(asked_fact("When was the online event?"), with_year, [day.passage], language()) is None


def test_a_question_in_the_notes_is_not_taken_for_its_answer(forum):
    """A table's prompt or a heading ("What support do kinship carers get?") shares the question's words and
    meaning, yet answers nothing: the statement beside it is picked first."""
    import numpy as np

    from assistant.answer.picking import UnitSentences

    passage = forum.retriever.passages[0]
    same_meaning = np.full(8, 1 / np.sqrt(8), dtype=np.float32)
    prompt = Quote("What support do kinship carers get from the forum?", 0, 1)
    statement = Quote("Kinship carers get support from the forum at evening meetings.", 1, 2)
    unit = UnitSentences(0, [(prompt, passage, same_meaning), (statement, passage, same_meaning)])
    question = "What support do kinship carers get from the forum?"
    scored = forum.picker.candidates(question, list(same_meaning), asked_fact(question), [unit], forum.gate.grounding)
    assert [candidate.quote for candidate in scored] == [statement, prompt]
    penalty = forum.settings.pick_question_penalty
    assert scored[0].score - scored[1].score == pytest.approx(penalty, abs=0.1)


def test_a_list_of_bare_titles_is_not_taken_for_a_statement():
    from assistant.answer.picking import _asks, _index

    assert _index("The Fundamentals: What matters to children and families; Listening; Poverty; Language.")
    assert not _index("The toolkit contains these tools: a mood diary; a check-in card; a safety plan template.")
    assert _asks("Voice What is a Kinship Carer?") and not _asks("Carers meet every Tuesday.")
