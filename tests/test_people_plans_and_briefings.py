"""Rules for questions asking for a person, for what people said, for a plan's aims or for a fact ranked low,
and for the subject and points of a briefing. Offline and fast: pure functions, hand-made sentences, and
small notes ingested with the hashing embedder."""

import numpy as np
import pytest

from assistant.answer.composing import missing_fact
from assistant.answer.finder import ProjectFinder
from assistant.answer.gate import Gate
from assistant.answer.grounding import Grounding, SupportedSentence, briefing_subject
from assistant.answer.picking import Candidate, SentencePicker, UnitSentences
from assistant.answer.questions import FactKind, asked_fact, states
from assistant.briefer import Briefer
from assistant.catalogue import LiveCatalogue
from assistant.models import ChunkMetadata, Passage
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import open_store
from ingest.pipeline import ingest_paths
from tests.conftest import FORUM_NOTES, HashingEmbeddings, language, tagged


def passage(text: str, organisation: str | None = "Love Inc", chunk: str = "c1", source: str = "n.txt") -> Passage:
    meta = ChunkMetadata(source, "Network", None, None, organisation, None, None, None, 0, 0, "h", chunk, 0, 0, "d", "")
    return Passage(chunk, text, meta)


def unit(texts: list[str], rank: int = 0, deep: bool = False) -> UnitSentences:
    """One unit of hand-made sentences, each its own chunk, with zero vectors (meaning plays no part)."""
    quotes = [(tagged(text), passage(text, chunk=f"c{rank}-{n}"), np.zeros(4, np.float32))
              for n, text in enumerate(texts)]  # fmt: skip
    return UnitSentences(rank, quotes, deep)


def candidate(text: str, organisation: str | None = "Love Inc") -> Candidate:
    return Candidate(tagged(text), passage(text, organisation), 0, 0, 0.5, 0.5, 0.5)


GROUNDING = Grounding({"local": 1.0, "steering": 2.0, "online": 2.0, "sessions": 2.0}, 0.4, 0.6, language())
PICKER = SentencePicker(None, Settings())  # type: ignore[arg-type]  # scoring reads no store

# --- a person's name ---------------------------------------------------------------------------------

OFFICER = "What is the name of the Participation Officer Love Inc recruited?"
NO_PERSON = (
    "Love Inc recruiting a Participation Officer, East Ayrshire now using the Bright Spots surveys, "
    "and their use of Modern Apprenticeships."
)


def test_the_name_of_a_role_asks_for_a_person_not_an_organisation():
    """ "The name of the Participation Officer" is a person's name: another organisation's does not answer it."""
    asked = asked_fact(OFFICER)
    assert asked.kind is FactKind.PERSON
    assert FactKind.PERSON_OR_ORGANISATION not in asked.kinds
    assert asked_fact("Who hosted the showcase?").kind is FactKind.PERSON_OR_ORGANISATION


def test_a_person_is_named_beside_the_role_asked_about():
    """Places, programmes and surveys are not people; a name next to the role is."""
    assert not states(FactKind.PERSON, tagged(NO_PERSON), question=OFFICER)
    assert states(
        FactKind.PERSON, tagged("Their Participation Officer, Kerry Watson, joined in May."), question=OFFICER
    )
    assert states(FactKind.PERSON, tagged("Steering Group - Chaired by Alison Sutherland"), question="Who chairs it?")


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What was the name of the Participation Officer?", FactKind.PERSON),
        ("Can you tell me who chairs the steering group?", FactKind.PERSON),
        ("Who is the head teacher at Johnstone High?", FactKind.PERSON),
        ("Who is the lead organisation for the pilot?", FactKind.PERSON_OR_ORGANISATION),
        ("Who are the Promise Keepers?", FactKind.PERSON_OR_ORGANISATION),
    ],
)
def test_a_role_held_by_a_person_is_asked_for_by_name_a_body_is_not(question, kind):
    assert asked_fact(question).kinds == (kind,)


def test_a_name_run_together_with_the_role_is_a_person():
    """ "Participation Officer Kerry Watson": the role's words end where the name starts."""
    assert states(FactKind.PERSON, tagged("Participation Officer Kerry Watson leads the work."), question=OFFICER)


def test_a_missing_persons_name_is_said_to_be_missing():
    """The notes mention the role only: the answer says the name is not given."""
    kept = [SupportedSentence(NO_PERSON, (1,))]
    assert missing_fact(asked_fact(OFFICER), kept, [passage(NO_PERSON)], language()) == (
        "The notes don't give the person's name asked for."
    )


# --- what people said ----------------------------------------------------------------------------------

SURVEY = "What did children in East Ayrshire say in the Bright Spots surveys?"


def test_what_people_said_in_a_survey_is_asked_for_as_views():
    """A survey only mentioned ("now using the surveys to seek opinions") does not report what was said."""
    asked = asked_fact(SURVEY)
    assert asked.kind is FactKind.VIEWS
    assert not states(FactKind.VIEWS, tagged("East Ayrshire now using the surveys to seek opinions of young people."))
    assert not states(FactKind.VIEWS, tagged('A safe place to "work for the family firm".'))
    assert states(FactKind.VIEWS, tagged("Young people said they felt listened to for the first time."))
    kept = [SupportedSentence("East Ayrshire now using the surveys to seek opinions.", (1,))]
    assert missing_fact(asked, kept, [passage("x")], language()) == "The notes don't give the views asked for."


# --- a plan's aims ---------------------------------------------------------------------------------------


def test_a_question_about_what_is_needed_is_answered_with_the_plans_aims():
    """ "What does the plan say is needed?" asks for aims ("Boards will track ..."); otherwise aims rank last."""
    aim, fact = "Local Oversight Boards will track the change locally.", "The local steering group met in May."
    asks_aims = PICKER.candidates("What local arrangements are needed?", [0.0] * 4, asked_fact(""), [unit([aim, fact])],
                                  GROUNDING)  # fmt: skip
    assert asks_aims[0].quote.text == aim
    asks_facts = PICKER.candidates("What local arrangements are there?", [0.0] * 4, asked_fact(""),
                                   [unit([aim, fact])], GROUNDING)  # fmt: skip
    assert asks_facts[0].quote.text == fact


def test_what_the_asker_needs_is_not_a_question_about_aims():
    """ "I need examples of ..." asks for what projects did; a plan's "will" lines still rank last."""
    aim, fact = "Local Oversight Boards will track the change locally.", "The local steering group met in May."
    chosen = PICKER.candidates("I need examples of local arrangements", [0.0] * 4, asked_fact(""), [unit([aim, fact])],
                               GROUNDING)  # fmt: skip
    assert chosen[0].quote.text == fact


def test_a_plans_aims_stand_for_general_notes_in_briefings_never_for_a_project():
    """What The Promise says it will do is a point about The Promise, not something a project did."""
    aim = "Children must stay with their brothers and sisters where safe to do so."
    assert not SentencePicker.stands_alone(candidate(aim, organisation=None))
    assert SentencePicker.stands_alone(candidate(aim, organisation=None), aims=True)
    assert not SentencePicker.stands_alone(candidate(aim, organisation="Love Inc"), aims=True)


@pytest.mark.parametrize(
    "text",
    [
        "Key Points from Plan 24-30",  # a title, however long
        "The Fundamentals: What Matters; Listening; Poverty; Children's Rights",  # a menu
        "You might settle on something along the lines of what follows",  # a lead-in
    ],
)
def test_titles_menus_and_lead_ins_never_stand_as_points(text):
    assert not SentencePicker.stands_alone(candidate(text, organisation=None), aims=True)


def test_a_list_of_things_done_stands_as_a_point():
    """A list in lower case is what a project did, not a menu of titles."""
    assert SentencePicker.stands_alone(
        candidate("Placements included: residential homes; kinship care; family carers.")
    )


# --- a fact ranked low, and a figure of a name ------------------------------------------------------------


def test_units_read_deeper_offer_only_sentences_stating_the_fact_and_covering_the_question():
    """Past the first units, only a sentence that states the number asked for and says most of what the
    question asks counts: another event's figure does not."""
    asked = asked_fact("How many online sessions were to follow?")
    sentences = [
        "This session will be followed by 3 online sessions.",
        "The steering group has 12 members.",
        "More online sessions are planned.",
        "Another event ran 40 online talks.",
    ]
    deep = unit(sentences, rank=3, deep=True)
    chosen = PICKER.candidates(asked.question, [0.0] * 4, asked, [deep], GROUNDING)
    assert [c.quote.text for c in chosen] == ["This session will be followed by 3 online sessions."]


def test_a_figure_of_a_name_may_be_in_the_cited_passages_notes():
    """ "Plan 21-24" names the plan: a passage under its heading answers without repeating it; a figure
    asked about ("in 2023") must be in the cited passages themselves."""
    grounding = Grounding({"poverty": 1.0}, 0.4, 0.6, language())
    text = "Scotland will reduce poverty in line with the Child Poverty (Scotland) Act 2017."
    kept, passages = [SupportedSentence(text, (1,))], [passage(text, source="promise.txt")]
    notes = {"promise.txt": "Plan 21 - 24\nThe Fundamentals\nPoverty\n" + text}.get
    question = "Which Act sets the poverty targets that Plan 21-24 refers to?"
    assert grounding.answers_question(question, kept, passages, lambda source: notes(source, ""))
    assert not grounding.answers_question(question, kept, passages)
    assert not grounding.answers_question("What did it say about poverty in 2023?", kept, passages,
                                          lambda source: "2023 " + (notes(source, "")))  # fmt: skip
    # A month before a year is a date, not a name: "November 2023" anywhere in the notes does not do.
    assert not grounding.answers_question("What about poverty in November 2023?", kept, passages,
                                          lambda source: "November 2023 " + (notes(source, "")))  # fmt: skip


def test_a_sentence_broken_off_loses_its_hanging_words_a_whole_one_none():
    """The notes' "... followed by 3 online sessions focussing on" is shown without "focussing on"; a full
    sentence ending on a small word ("... who they are living with.") is quoted whole."""
    grounding = Grounding({"sessions": 1.0, "living": 1.0}, 0.4, 0.6, language())
    broken = "This session will be followed by 3 online sessions focussing on"
    kept = grounding.verify(f"{broken} [1]", [passage(broken)], by_line=True)
    assert [sentence.text for sentence in kept] == ["This session will be followed by 3 online sessions"]
    whole = "Young people want a say in who they are living with."
    assert [s.text for s in grounding.verify(f"{whole} [1]", [passage(whole)], by_line=True)] == [whole]


# --- the subject of a briefing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_text", "subject"),
    [
        ("Our residential managers have asked what's being done around restraint. Can you brief me, with sources?",
         "restraint"),
        ("Summarise what the notes say about staff wellbeing and burnout, for my team meeting.",
         "staff wellbeing and burnout"),
        ("I'm putting together an induction pack for new staff. Can you summarise the five foundations?",
         "the five foundations"),
        ("Short briefing for our senior leadership team, please: what does The Promise ask of local areas?",
         "what does The Promise ask of local areas"),
        ("Give me a summary of Plan 21-24: its priority areas.", "Plan 21-24: its priority areas"),
        ("Head teachers have asked what the projects learned about school exclusion. Draft a short brief.",
         "school exclusion"),
        ("I'm writing a note for finance colleagues — what comes up in the notes about short-term funding?",
         "short-term funding"),
        ("Can you write up a briefing on the table discussions?", "the table discussions"),
        ("Write me a briefing on kinship care. Examples from specific projects please.", "kinship care"),
        ("Write a briefing on what Aberlour found about kinship care.", "what Aberlour found about kinship care"),
        ("Can you brief me on the Love Inc project — for a board paper?", "the Love Inc project"),
    ],
)  # fmt: skip
def test_a_briefings_subject_leaves_out_who_asked_for_it_and_how(request_text, subject):
    assert briefing_subject(request_text) == subject


# --- a briefing on an event ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_forums(tmp_path_factory: pytest.TempPathFactory) -> Briefer:
    """A briefer over the forum notes and a second event of the same name, held in Perth a year later."""
    notes = tmp_path_factory.mktemp("notes")
    text = (FORUM_NOTES / "kinship_forum.txt").read_text()
    (notes / "dundee.txt").write_text(text)
    perth = text.replace("12th June 2024, Dundee", "3rd March 2025, Perth").replace("Bridges", "Tayside")
    (notes / "perth.txt").write_text(perth.replace("Harbour", "Loch"))
    settings = Settings(store_dir=notes / "store", embedding_model="fake-hashing", collection="two_forums")
    store = open_store(settings, HashingEmbeddings(), language())
    ingest_paths(store, [notes / "dundee.txt", notes / "perth.txt"], settings, progress=False)
    retriever = HybridRetriever(store, settings)
    finder = ProjectFinder(retriever, settings, Gate(retriever, settings, language()), LiveCatalogue(retriever))
    return Briefer(finder, Prompts.load(), settings)


def test_an_event_briefing_opens_with_when_and_where_and_covers_its_presentations(two_forums):
    """An event asked about as a whole: its date and place first, then one point from each presentation."""
    briefing = two_forums.brief("Write me a briefing on the Kinship Learning Forum in Dundee: what was discussed?")
    assert briefing.points[0].startswith("Kinship Learning Forum was held on 12 June 2024 in Dundee [1]")
    assert {c.passage.metadata.source for c in briefing.citations} == {"dundee.txt"}
    organisations = [c.passage.metadata.organisation for c in briefing.citations[1:3]]
    assert set(organisations) == {"Bridges Family Trust", "Harbour Youth Partnership"}
    assert [point[-4:] for point in briefing.points[1:3]] == ["[2].", "[3]."]  # the presentations come first


def test_a_series_name_alone_does_not_pick_one_of_its_events(two_forums):
    """Two events share a name and the request gives neither date nor place: no one event's date opens it."""
    briefing = two_forums.brief("Brief me on the Kinship Learning Forum")
    assert briefing.points and "was held" not in briefing.points[0]


def test_the_date_or_place_a_briefing_gives_picks_among_events_of_one_name(two_forums):
    """Two events share a name: "in Perth" (or "March 2025") is the later one, not the first of the name."""
    for request in (
        "Brief me on the Kinship Learning Forum in Perth",
        "Brief me on the March 2025 Kinship Learning Forum",
    ):
        briefing = two_forums.brief(request)
        assert "3 March 2025 in Perth" in briefing.points[0]
        assert {c.passage.metadata.source for c in briefing.citations} == {"perth.txt"}
