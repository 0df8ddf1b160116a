"""Language analysis on the real spaCy model: names wherever they stand in a sentence, what a question refers
back to, and when a question in a conversation is a new topic. The sentences here are worded unlike the
seeds; ``tests/data/turns.jsonl`` was written by someone who had not seen this code."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.answer.followups import FollowUps
from assistant.answer.grounding import Grounding
from assistant.answer.language import load_language
from assistant.answer.lexicon import DETAIL_NOUNS
from assistant.models import ChunkMetadata, Passage
from tests.conftest import language

DATA = Path(__file__).parent / "data"
_META = ChunkMetadata(
    "notes.md", "Meeting", None, None, None, None, None, None, 0, 0, "hash", "unit", 0, 0, "doc", "Meeting"
)  # fmt: skip
PASSAGE = (
    "Riverside Family Hub · Kinship Café\n"
    "The Kinship Café meets every second Tuesday in Bo'ness. Grandparents raising grandchildren share a meal "
    "and advice with a worker from the council."
)


@pytest.fixture(scope="module")
def grounding() -> Grounding:
    return Grounding({"kinship": 2.0, "cafe": 2.0}, 0.4, 0.6, language())


@pytest.mark.parametrize(
    "sentence",
    [
        "Harbour Trust runs the Kinship Café for grandparents raising grandchildren.",  # the wrong name first
        "The Kinship Café, which Harbour Trust runs, meets every second Tuesday.",  # in the middle
        "Grandparents raising grandchildren meet at the Kinship Café run by Harbour Trust.",  # last
        "Moira Dunn leads the Kinship Café in Bo'ness.",  # a person first
        "Falkirk grandparents share a meal at the Kinship Café.",  # a place first
    ],
)
def test_a_name_the_passage_never_gives_is_found_wherever_it_stands(grounding, sentence):
    assert grounding.names_not_in(sentence, PASSAGE)


@pytest.mark.parametrize(
    "sentence",
    [
        "The Kinship Café meets every second Tuesday in Bo'ness.",
        "Grandparents raising grandchildren share a meal at the Kinship Café.",
        "Every second Tuesday, the Kinship Café meets.",
        "Participants share a meal and advice with a worker from the council.",  # a capital that is no name
        "This café is for grandparents raising grandchildren.",
    ],
)
def test_names_the_passage_gives_and_sentence_capitals_pass(grounding, sentence):
    assert grounding.names_not_in(sentence, PASSAGE) == []


def test_a_sentence_naming_what_its_passage_does_not_has_no_support(grounding):
    """The same words with another organisation first: the first is supported, the second never."""
    meta = ChunkMetadata(
        "notes.md", "Riverside Family Hub", None, None, "Riverside Family Hub", "Kinship Café", None, None,
        0, len(PASSAGE), "hash", "unit", 0, 0, "doc", "Riverside Family Hub · Kinship Café",
    )  # fmt: skip
    passage = Passage("chunk", PASSAGE, meta)
    assert grounding.support("Riverside Family Hub runs the Kinship Café in Bo'ness.", passage) >= 0.6
    assert grounding.support("Harbour Trust runs the Kinship Café in Bo'ness.", passage) == 0.0


@pytest.mark.parametrize(
    ("question", "refers"),
    [
        ("who pays for it?", True),
        ("is that still going?", True),
        ("where's their office?", True),
        ("could you send me their details", True),
        ("who works there?", True),
        ("is there anything on young carers?", False),
        ("is it possible to get help with rent?", False),
        ("can I refer a family myself?", False),
        ("which charities mentor care leavers and what have they learned?", False),  # "they" has its noun
        ("what's the best way to get hold of her?", True),  # "her" stands for a person, not for "way"
        ("has he got an email address?", True),
        ("Shona Petrie ran it; can I phone her?", False),  # "her" has its name
    ],
)
def test_a_pronoun_with_nothing_of_its_own_to_stand_for_refers_back(question, refers):
    assert language().refers_back(question) is refers


def test_the_detail_nouns_are_lemmas_the_model_gives():
    """The lexicon holds lemmas: the words of questions worded otherwise ("deadlines", "emails") meet them."""
    nouns = [t.lemma_.lower() for t in language().content_words("Any deadlines, emails or phone numbers?")]
    assert {"deadline", "email", "phone", "number"} <= set(nouns) <= DETAIL_NOUNS


def test_an_unknown_model_is_one_sentence():
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError, match="not installed"):
        load_language("no_such_spacy_model")


def _turns() -> list[dict]:
    path = DATA / "turns.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_follow_ups_and_new_topics_written_elsewhere_are_told_apart(real_settings, real_embeddings):
    """Cases of both kinds, written from the subject alone by someone who had not seen this code: a question
    leaning on the last turn and one naming a new subject, many short and casual (over the seeds' words)."""
    from assistant.answer.gate import Gate
    from assistant.prompts import Prompts
    from assistant.retrieval import HybridRetriever
    from assistant.store import open_store

    retriever = HybridRetriever(open_store(real_settings, real_embeddings, language()), real_settings)
    gate = Gate(retriever, real_settings, language())
    followups = FollowUps(retriever, gate, real_settings, Prompts.load(), language())
    cases = _turns()
    wrong = [
        case["id"] for case in cases if followups.leans_on_history(case["question"], case["history"]) != case["leans"]
    ]
    assert len(cases) >= 40
    assert len(wrong) <= len(cases) // 10, wrong


def test_the_kind_of_fact_asked_is_read_from_questions_written_elsewhere():
    """70 questions labelled with the one kind of fact each wants, written by someone who had not seen this code
    ("whats the deadline for applying", "what rent do tenants pay", "who's the named contact")."""
    from assistant.answer.questions import asked_fact
    from assistant.text import spelled_out

    cases = [json.loads(line) for line in (DATA / "asked_kinds.jsonl").read_text(encoding="utf-8").splitlines()]
    wrong = [c["question"] for c in cases if asked_fact(spelled_out(c["question"]), language()).kind.value != c["kind"]]
    assert len(cases) >= 60
    assert len(wrong) <= len(cases) * 0.15, wrong


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What's the closing date for the Sibling Days grants?", "date"),
        ("what fee do families pay for the summer camp", "amount of money"),
        ("which venue hosts the carers' lunch?", "place"),
        ("What percentage split was there between boys and girls?", "figure"),
        ("what's the phone number for Tideline?", "contact"),
        ("who is the project coordinator at Tideline?", "person's name"),
        ("What is Tideline?", "general"),
    ],
)
def test_the_noun_a_question_asks_what_of_names_the_kind_of_fact(question, kind):
    from assistant.answer.questions import asked_fact

    assert asked_fact(question, language()).kind.value == kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Is there a group somewhere in Fife where grandparents bringing up grandkids can talk?", "general"),
        ("we need a service where teenagers leaving care get a mentor, does one exist?", "general"),
        ("Any drop-in when parents can bring the kids along?", "general"),
        ("where does the grandparents group meet?", "place"),
        ("Do you know where the kinship group meets these days?", "place"),
        ("when did the mentoring scheme start?", "date"),
        ("Right, something else entirely – when does the kinship course run?", "date"),
        ("new question: when's the next care leavers' lunch?", "date"),
        ("Parents drop in - when they can - to the Tuesday group, what does it offer?", "general"),
    ],
)
def test_a_where_or_when_opening_a_relative_clause_asks_for_no_place_or_date(question, kind):
    """ "a group where grandparents can talk" asks for a group; "where does it meet" for a place."""
    from assistant.answer.questions import asked_fact

    assert asked_fact(question, language()).kind.value == kind


def test_a_possessive_ends_a_name_the_question_gives():
    """ "the Linnhe Trust's Bridges to Adulthood Fund": the trust and its fund, each as the notes write it; the
    question is not about a "Linnhe Trust's Bridges" the notes never name."""
    text = "The Dunmore Trust runs the Harbour Steps Fund. The Harbour Steps Fund gave £40,000 to Pathways Moray."
    passage = Passage("c", text, replace(_META, end=len(text)))
    names, unused = Grounding.names_not_used("How much did the Dunmore Trust's Harbour Steps Fund give?", [passage])
    assert names == ["Dunmore Trust", "Harbour Steps Fund"] and unused == []


@pytest.mark.parametrize(
    ("question", "noun"),
    [
        ("How much was collected at the coffee morning, and how many families came?", "families"),
        ("how much did the raffle make and how many tickets were sold", "tickets"),
        ("How many volunteers signed up?", "volunteers"),
    ],
)
def test_a_count_asked_after_an_amount_counts_what_follows_how_many(question, noun):
    from assistant.answer.questions import FactKind, asked_fact

    asked = asked_fact(question, language())
    assert FactKind.COUNT in asked.kinds and asked.noun.split()[0] == noun


def test_a_sentence_stating_the_asked_kinds_is_read_for_each_of_them():
    """ "Who took over, and when?": a line naming the new person and the day says more than one naming a place
    and a month; a town answers "where", never "who"."""
    from assistant.answer.questions import asked_fact

    asked = asked_fact("Who is replacing Ann Bell as the hub's manager, and when do they start?", language())
    leaving = language().tagged("Ann Bell leaves in June for a new post in Stornoway.")
    arriving = language().tagged("Her successor, Priya Nair, joins on 3 August 2026 from Fife Council.")
    assert asked.kinds_stated(arriving, frozenset()) == 2
    assert asked.kinds_stated(leaving, frozenset()) == 1


def test_a_table_rows_cells_count_what_the_row_is_of():
    """ "Families supported; 2024–25: 167": the figure counts families though the label is several words back."""
    from assistant.answer.questions import FactKind, states

    row = language().tagged("Young carers registered with the service; 2023: 40; 2024: 52.")
    other = language().tagged("Hours of respite given; 2023: 310; 2024: 402.")
    assert states(FactKind.COUNT, row, frozenset({"carer"}))
    assert not states(FactKind.COUNT, other, frozenset({"carer"}))
