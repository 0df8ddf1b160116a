"""Rules of question analysis, grounding, follow-ups and retrieval that the other tests leave unguarded.

Offline and fast: pure functions, or the small forum notes (tests/data/forum_notes) ingested with the
hashing embedder.
"""

import numpy as np
import pytest

from assistant.answer.answering import Answerer
from assistant.answer.followups import FollowUps, _cited_items, _ordinal
from assistant.answer.framing import asked_part
from assistant.answer.gate import Gate
from assistant.answer.grounding import Grounding, SupportedSentence, _numbers, briefing_subject, subject_of
from assistant.answer.questions import FactKind, asked_fact, states
from assistant.models import ChunkMetadata, Passage
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.store import open_store
from assistant.text import spelled_out
from ingest.pipeline import ingest_paths
from tests.conftest import HashingEmbeddings, conversation, language, tagged

BRIDGES = "Bridges Family Trust"
HARBOUR = "Harbour Youth Partnership"
EVENT = "Kinship Learning Forum"


def chunk_of(forum: Answerer, organisation: str) -> str:
    return next(p.chunk_id for p in forum.retriever.passages if p.metadata.organisation == organisation)


def passage(text: str, chunk: str = "c1") -> Passage:
    meta = ChunkMetadata(
        "notes.txt", "Showcase", None, None, "Harbour Trust", None, None, None, 0, 0, "h", "u1", 0, 0, "d", ""
    )
    return Passage(chunk, text, meta)


# --- 1. the part of a question that asks --------------------------------------------------------


def test_statements_about_the_asker_are_dropped_and_the_question_kept():
    """What the asker says of themselves is not what they ask about; the asking sentence is kept."""
    question = "I'm a depute head in Fife and we have many care experienced pupils. What is the education offer?"
    assert asked_part(question) == "What is the education offer?"
    question = "I run an employability programme for 16 to 25 year olds. Has anyone worked on onboarding?"
    assert asked_part(question) == "Has anyone worked on onboarding?"


def test_a_statement_about_the_asker_that_asks_is_kept():
    """A sentence opening with "I" that ends in a question mark is still the question."""
    question = "I work in Fife. I'm new here, so what is the education offer?"
    assert asked_part(question) == "I'm new here, so what is the education offer?"


def test_a_one_sentence_question_is_kept_whole():
    """A plain question is asked as it stands."""
    assert asked_part("What is the education offer in Fife?") == "What is the education offer in Fife?"


def test_a_question_all_about_the_asker_is_kept_whole():
    """When every sentence is about the asker, nothing is dropped."""
    question = "I'm a depute head in Fife. We run a programme for 16 to 25 year olds."
    assert asked_part(question) == question


def test_the_askers_own_figures_are_not_required_of_the_notes():
    """ "We work with 16 to 25 year olds" does not make an answer need 16 and 25 in its passages."""
    grounding = Grounding({"tool": 1.0}, 0.4, 0.6, language())
    kept = [SupportedSentence("The toolkit has a mood diary.", (1,))]
    passages = [passage("The toolkit has a mood diary.")]
    question = "We work with 16 to 25 year olds. Which tools help?"
    assert grounding.answers_question(question, kept, passages)
    assert not grounding.answers_question("Which tools help 16 year olds?", kept, passages)


# --- 2. the kind of fact asked --------------------------------------------------------------------


@pytest.mark.parametrize("question", ["What does CYCJ stand for?", "what does that acronym stand for?"])
def test_asking_what_an_acronym_stands_for_asks_for_its_full_name(question):
    """ "What does X stand for?" asks for the full name."""
    assert asked_fact(question).kind is FactKind.EXPANSION


def test_a_full_name_is_recognised_by_its_initials():
    """Text spelling an acronym out (joining words aside) states its full name; text merely using it does not."""
    sprag = "What does SPRAG stand for?"
    assert states(
        FactKind.EXPANSION, tagged("SPRAG (Scottish Physical Restraint Action Group) have set up"), question=sprag
    )
    cycj = "What does CYCJ stand for?"
    assert states(FactKind.EXPANSION, tagged("the Centre for Youth and Criminal Justice"), question=cycj)
    assert not states(FactKind.EXPANSION, tagged("CYCJ ran a session on youth justice."), question=cycj)
    assert not states(FactKind.EXPANSION, tagged("the Centre for Youth Justice"), question=cycj)


def test_an_address_is_a_place_but_addressing_needs_is_not():
    """ "What's the address of ...?" asks where; "how do we address the needs of ...?" does not."""
    assert asked_fact("What's the address of the centre?").kind is FactKind.PLACE
    assert FactKind.PLACE not in asked_fact("how do we address the needs of young carers?").kinds


def test_an_allowance_is_an_amount_of_money():
    """ "What weekly allowance would I get" asks for an amount of money."""
    assert asked_fact("what weekly allowance would I get").kind is FactKind.AMOUNT


def test_who_are_the_contacts_asks_for_a_contact_first():
    """ "Who are the contacts for that?" is a contact question, not a question of who."""
    assert asked_fact("who are the contacts for that?").kind is FactKind.CONTACT


@pytest.mark.parametrize(
    ("question", "seeks"),
    [
        ("Has anyone set up a peer group for kinship carers?", True),
        ("Are there any projects on housing for care leavers?", True),
        ("When was the Kinship Learning Forum held?", False),
        ("What did the Kinship Circle evaluation find?", False),
        ("Has anyone got a contact for Bridges Family Trust?", False),
    ],
)
def test_asking_who_has_done_something_seeks_projects(question, seeks):
    """ "Has anyone ...?" and "Are there any projects ...?" ask for projects; a question of one fact does not."""
    assert asked_fact(question).seeks_projects is seeks


# --- 3. the subject of a request --------------------------------------------------------------------


NOTE_REQUEST = "Can you pull together a one-page note for councillors on what the notes say about kinship care"
BRIEFING_REQUEST = "Write me a short briefing for my director on trauma-informed practice, for a team meeting"


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        (NOTE_REQUEST, "kinship care"),
        (BRIEFING_REQUEST, "trauma-informed practice"),
        ("What do the notes say about kinship?", "kinship"),
        ("what is the education offer in Fife?", "what is the education offer in Fife"),
    ],
)
def test_the_subject_of_a_request_is_what_it_is_about(question, subject):
    """The request and its audience are framing: what is left is what the notes must be about."""
    assert briefing_subject(question) == subject


@pytest.mark.parametrize(
    "question",
    ["What support is there for a kinship carers group?", "What training is there for a foster care team?"],
)
def test_who_a_chat_question_is_for_is_what_it_asks_about(question):
    """In chat, "for a kinship carers group" is the subject, not an audience to strip (only briefings do)."""
    assert subject_of(question) == question.rstrip("?")
    assert briefing_subject(question) != question.rstrip("?")


def test_the_subject_of_a_summary_request_keeps_who_said_it():
    """ "Summarise for a meeting what the X table said about Y" is about what the X table said."""
    subject = subject_of("Summarise for a management meeting what the Scottish Borders table said about transitions")
    assert subject.startswith("the Scottish Borders table")
    assert "management meeting" not in subject and "Summarise" not in subject


# --- 4. numbers, names and everyday words -----------------------------------------------------------


def test_a_number_written_as_a_word_is_a_figure():
    """ "The two-house tool" holds the figure 2."""
    assert "2" in _numbers("the two-house tool")
    assert "3" in _numbers("Three schools took part.")


def test_a_question_with_a_figure_is_answered_by_a_passage_spelling_it():
    """A question about "2 tools" is answered by notes saying "two tools"."""
    grounding = Grounding({"tool": 1.0}, 0.4, 0.6, language())
    kept = [SupportedSentence("They shared two tools.", (1,))]
    passages = [passage("They shared two tools with youth workers.")]
    assert grounding.answers_question("Which 2 tools did they share?", kept, passages)
    assert not grounding.answers_question("Which 3 tools did they share?", kept, passages)


def test_the_names_a_question_gives_must_all_be_in_the_passages():
    """A question is about the passages by name only if they use every multi-word name it gives."""
    passages = [passage("The Kinship Learning Forum met in Dundee. Bridges Family Trust presented.")]
    grounding = Grounding({}, 0.4, 0.6, language())
    assert grounding.uses_names_given("When was the Kinship Learning Forum held?", passages)
    assert grounding.uses_names_given("Did the Kinship Learning Forum invite Bridges Family Trust?", passages)
    assert not grounding.uses_names_given("When was the Kinship Youth Forum held?", passages)
    assert not grounding.uses_names_given("Did the Kinship Learning Forum invite Harbour Youth Partnership?", passages)
    assert not grounding.uses_names_given("When was the forum held?", passages)  # gives no name


def test_a_question_in_title_case_is_read_in_sentence_case(forum):
    """ "When Was The Kinship Learning Forum Held?": every capital is not a name (nor "Was" one the notes
    never use); acronyms and inner capitals stay."""
    assert spelled_out("When Was The Kinship Learning Forum Held?") == "When was the Kinship Learning Forum held?"
    assert spelled_out("Who Is The Current First Minister?") == "Who is the Current First Minister?"
    assert spelled_out("We Work In Fife. When Is It On?") == "We work in Fife. When is it on?"
    assert spelled_out("What Does HYP Stand For?") == "What does HYP stand for?"
    assert spelled_out("What is the Kinship Learning Forum?") == "What is the Kinship Learning Forum?"
    for question in ("When Was The Kinship Learning Forum Held?", "when was the kinship learning forum held"):
        answer = forum.answer(question)  # the notes' name, however it is typed
        assert answer.answered and "12th June 2024" in answer.text


def test_names_run_together_in_a_question_count_as_used_part_by_part():
    """ "the Participation Officer Love Inc recruited" gives two names the notes use, run together."""
    passages = [passage("Love Inc recruiting a Participation Officer. The Scottish Government said so.")]
    grounding = Grounding({}, 0.4, 0.6, language())
    assert grounding.uses_names_given("What is the name of the Participation Officer Love Inc recruited?", passages)
    names, unused = grounding.names_not_used("Who is the current First Minister of Scotland?", passages)
    assert names == ["First Minister of Scotland"] and unused == names


@pytest.mark.parametrize(
    "question", ["How much did the Kinship Youth Forum cost?", "Who runs the Kinship Youth Forum?"]
)
def test_one_fact_asked_of_a_name_the_notes_never_use_is_refused(forum, question):
    """ "the Kinship Youth Forum": a name made of the notes' words, but not theirs; even "who" is refused,
    though the notes name plenty of organisations."""
    answer = forum.answer(question)
    assert not answer.answered, answer.text
    assert forum.answer(question.replace("Youth", "Learning")).answered


def test_everyday_words_are_familiar_and_rare_or_unknown_ones_are_not():
    """ "Kids" is everyday English; "cranachan" and a rare word are not; a word of the notes always is familiar."""
    grounding = Grounding(
        {"kinship": 1.5, "ofsted": 0.9}, 0.4, 0.6, language(), vocabulary={"the": 0, "kids": 100, "rare": 20000}
    )
    assert not grounding.unfamiliar("kids")
    assert not grounding.unfamiliar("kid")  # the stem of an everyday word, as questions are tokenized
    assert grounding.unfamiliar("rare")
    assert grounding.unfamiliar("cranachan")
    assert not grounding.unfamiliar("ofsted")  # unknown to the vocabulary, but the notes use it
    assert not Grounding({"kinship": 1.5}, 0.4, 0.6, language()).unfamiliar(
        "cranachan"
    )  # no vocabulary: nothing to judge by


def test_an_everyday_word_missing_from_the_notes_weighs_less_than_an_unknown_one():
    """The notes never saying "kids" says less about the subject than their never saying "cranachan"."""
    grounding = Grounding({"kinship": 1.5, "carer": 0.5}, 0.4, 0.6, language(), vocabulary={"the": 0, "kids": 100})
    assert grounding._weight("kids") < grounding._weight("cranachan")
    assert grounding._weight("cranachan") == pytest.approx(1.5)


# --- 5. follow-ups ------------------------------------------------------------------------------------


def test_an_answer_divides_into_points_by_its_citations():
    """Each cited stretch is a point; consecutive stretches citing the same passage are one."""
    assert _cited_items("A did this [1], and B did that [2].") == ["A did this", "and B did that"]
    items = _cited_items("A did this [1]. A also did more [1]. B did that [2].")
    assert len(items) == 2 and "A did this" in items[0] and "A also did more" in items[0]
    assert items[1] == "B did that"


@pytest.mark.parametrize(
    ("question", "count", "chosen"),
    [
        ("tell me more about the second one", 2, 1),
        ("what about the other project?", 2, 1),
        ("and the first?", 2, 0),
        ("tell me more about the latter", 3, 2),
        ("tell me more", 2, None),
        ("was that the second time they met?", 2, None),
        ("tell me more about the second one", 1, None),
        ("what were the other challenges?", 2, None),
        ("on the other hand, who paid?", 2, None),
        ("what was the first step?", 2, None),
    ],
)
def test_which_point_an_ordinal_picks(question, count, chosen):
    """ "The second one" or "the other project" picks a point of the answer; "the second time" picks none."""
    assert _ordinal(question, count) == chosen


TWO_PROJECTS = [
    {"role": "user", "content": "Who presented at the forum?"},
    {
        "role": "assistant",
        "content": f"{BRIDGES} runs the Kinship Circle [1]. {HARBOUR} developed a wellbeing toolkit [2].",
    },
]


def test_the_second_one_carries_only_the_second_organisation(forum):
    """ "Contact for the second one?" is about the second organisation the answer named, not the first."""
    standalone = forum.followups.carry_entities("contact for the second one?", TWO_PROJECTS)
    assert HARBOUR in standalone and BRIDGES not in standalone
    standalone = forum.followups.carry_entities("contact for the first one?", TWO_PROJECTS)
    assert BRIDGES in standalone and HARBOUR not in standalone


def test_a_capital_opening_a_sentence_of_the_last_answer_is_no_name_to_carry(forum):
    """ "Carers 27 ..." opens a sentence with a capital, and the notes use both words, but not as a name: a
    follow-up carries the organisation the answer named, not that."""
    history = [
        {"role": "user", "content": "How did the kinship survey go?"},
        {"role": "assistant", "content": f"{BRIDGES} ran it. Carers 27 and over answered, most of them at work."},
    ]
    standalone = forum.followups.carry_entities("and what happens with it next?", history)
    assert BRIDGES in standalone and "Carers 27" not in standalone


def test_a_short_question_without_a_pronoun_leans_on_the_conversation(forum):
    """ "Contact details?" asks about what the conversation was about."""
    assert forum.followups.leans_on_history("contact details?", TWO_PROJECTS)
    standalone = forum.followups.carry_entities("contact details?", TWO_PROJECTS)
    assert standalone.startswith("contact details? (") and BRIDGES in standalone


def test_a_short_question_naming_something_of_its_own_is_not_a_follow_up(forum):
    """ "Is Dundee far from Perth?" names its own subject: nothing is carried into it."""
    question = "is Dundee far from Perth?"
    assert not forum.followups.leans_on_history(question, TWO_PROJECTS)
    assert forum.followups.carry_entities(question, TWO_PROJECTS) == question


def test_a_short_question_with_an_unfamiliar_word_is_not_a_follow_up(forum):
    """ "What is the recipe for cranachan" is a new subject, not one of the conversation."""
    question = "what is the recipe for cranachan"
    gate = Gate(forum.retriever, forum.settings, language())
    vocabulary = {"what": 0, "recipe": 3000, "contact": 900, "detail": 1200, "details": 1100}
    gate._grounding = (
        forum.retriever.generation,
        Grounding(forum.retriever.idf(), 0.4, 0.6, language(), vocabulary=vocabulary),
    )
    followups = FollowUps(forum.retriever, gate, forum.settings, forum.prompts, language())
    assert not followups.leans_on_history(question, TWO_PROJECTS)
    assert followups.carry_entities(question, TWO_PROJECTS) == question
    assert followups.leans_on_history("contact details?", TWO_PROJECTS)  # everyday words: still a follow-up


# --- 6. retrieval by name ---------------------------------------------------------------------------


def test_the_chunks_about_an_organisation_are_its_own(forum):
    """The chunks about a named organisation are that organisation's, whatever the case of the name."""
    assert forum.retriever.about(BRIDGES, 12) == {chunk_of(forum, BRIDGES)}
    assert forum.retriever.about(HARBOUR.lower(), 12) == {chunk_of(forum, HARBOUR)}


def test_the_chunks_about_a_name_no_unit_has_are_those_mentioning_it(forum):
    """A project named only in the text ("Kinship Circle") finds the chunks that mention it."""
    assert forum.retriever.about("Kinship Circle", 12) == {chunk_of(forum, BRIDGES)}
    assert forum.retriever.about("Nowhere Project", 12) == set()


def test_a_name_on_too_many_chunks_says_too_little(forum):
    """An event's name, on every chunk, picks none when more than ``most`` carry it."""
    every = {p.chunk_id for p in forum.retriever.passages}
    assert len(every) == 3
    assert forum.retriever.about(EVENT, 3) == every
    assert forum.retriever.about(EVENT, 2) == set()


def test_names_of_the_notes_are_found_in_a_text(forum):
    """The organisations and events of the notes that a text names, longest first."""
    names = forum.retriever.names_in(f"I met {HARBOUR.lower()} at the {EVENT} last year")
    assert names == [HARBOUR, EVENT]
    assert forum.retriever.names_in("Nothing named here") == []


def test_search_among_chunks_returns_only_those(forum):
    """A search limited to some chunks returns none of the others, however well they match."""
    only = {chunk_of(forum, HARBOUR)}
    results = forum.retriever.search("Kinship Circle evaluation carers felt less isolated", among=only)
    assert results and {r.passage.chunk_id for r in results} == only
    unlimited = forum.retriever.search("Kinship Circle evaluation carers felt less isolated")
    assert unlimited[0].passage.chunk_id == chunk_of(forum, BRIDGES)


def test_dense_ranking_is_exact_and_the_same_in_every_process(forum):
    """The dense side ranks every allowed chunk by its cosine with the question, best first: a search limited
    to a few chunks still ranks them all, and the order is the stored vectors' own, not an index's guess."""
    retriever = forum.retriever
    index = retriever._index
    vector = retriever.embed("peer support for grandparents")
    passages, matrix = retriever.store.live_chunks()
    assert [passage.chunk_id for passage in passages] == [passage.chunk_id for passage in index.passages]
    expected = np.argsort(-(matrix @ (np.asarray(vector) / np.linalg.norm(vector))), kind="stable")
    assert list(retriever._dense(index, vector, None)) == [int(p) for p in expected]
    allowed = {int(expected[-1]), int(expected[-2])}  # the two least similar chunks
    assert list(retriever._dense(index, vector, allowed)) == [int(expected[-2]), int(expected[-1])]


# --- 7. answers -------------------------------------------------------------------------------------


def test_a_follow_up_is_answered_from_the_notes_of_the_organisation_named(forum):
    """ "What did they find?" after an answer about one organisation quotes that organisation's notes only."""
    history = conversation(forum, "What did Harbour Youth Partnership develop?")
    answer = forum.answer("What did they find?", history)
    assert answer.answered, answer.text
    assert HARBOUR in answer.standalone_question
    assert answer.citations
    assert {c.passage.metadata.organisation for c in answer.citations} == {HARBOUR}
    assert "felt less isolated" not in answer.text


@pytest.mark.parametrize(
    "question",
    ["How much did the Family Learning Forum cost?", "How much did the kinship evening meetings cost?"],
)
def test_one_fact_asked_of_notes_not_clearly_about_its_subject_is_refused(forum, question):
    """A figure asked about something the notes don't clearly match is refused, not answered as missing."""
    answer = forum.answer(question)
    assert not answer.answered, answer.text
    assert "don't give the amount" not in answer.text and not answer.citations


SHOWCASE = """Care Leavers Showcase

Event description:

The Care Leavers Showcase brought together housing and social work teams.

Date: 3rd March 2023, Perth

Organisation\tNorthside Housing Trust
Contact(s)\t
Summary of Presentation\tNorthside Housing Trust runs Step Up, a supported flat for care leavers.
Key learning\tTenants said the flat gave them confidence to live on their own.

Organisation\tEastfield Council
Contact(s)\t
Summary of Presentation\tEastfield Council worked with Northside Housing Trust on move-on plans.
Key learning\tThe review found that care leavers found move-on plans helpful. It found fewer tenancy breakdowns.
"""


@pytest.fixture(scope="module")
def showcase(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    """Notes in which one organisation's name is mentioned in another's presentation."""
    root = tmp_path_factory.mktemp("showcase")
    (root / "notes").mkdir()
    (root / "notes" / "care_leavers_showcase.txt").write_text(SHOWCASE, encoding="utf-8")
    settings = Settings(store_dir=root / "store", embedding_model="fake-hashing", collection="showcase_notes")
    store = open_store(settings, HashingEmbeddings(), language())
    ingest_paths(store, [root / "notes"], settings, progress=False)
    return Answerer(HybridRetriever(store, settings), None, Prompts.load(), settings, language())


def test_an_organisations_chunks_are_its_own_not_those_mentioning_it(showcase):
    """The chunks about an organisation are its own, not another's that mentions it."""
    assert showcase.retriever.about("Northside Housing Trust", 12) == {chunk_of(showcase, "Northside Housing Trust")}


def test_a_follow_up_reads_the_named_organisations_notes_first(showcase):
    """ "What did they find?" after an answer about one organisation quotes it, not another that mentions it."""
    history = [
        {"role": "user", "content": "Who runs Step Up?"},
        {
            "role": "assistant",
            "content": "Northside Housing Trust runs Step Up, a supported flat for care leavers [1].",
        },
    ]
    answer = showcase.answer("What did they find?", history)
    assert answer.answered, answer.text
    assert answer.citations
    assert {c.passage.metadata.organisation for c in answer.citations} == {"Northside Housing Trust"}


# --- review fixes: names of the notes, filters, phrases of small words ---------------------------------------


def test_a_name_of_the_notes_counts_as_named_only_as_a_name(forum):
    """ "keeping the promise" or "a circle of support" is the asker's own words, not the project of that name."""
    gate = forum.gate
    names = {p.metadata.organisation for p in forum.retriever.passages if p.metadata.organisation}
    assert HARBOUR in names
    assert gate.names_of_notes(f"What did {HARBOUR} develop?") == [HARBOUR]
    assert gate.names_of_notes("what did harbour youth partnership develop?") == [HARBOUR]  # three words
    assert gate.names_of_notes("How are schools keeping the promise?") == []


def test_a_question_asked_within_an_organisation_filter_is_about_that_organisation(forum):
    """With the search narrowed to one organisation, a question matching its notes only loosely is covered;
    unnarrowed, the same match is too loose."""
    from assistant.models import SearchFilters

    question = "what meetings do they run"
    results = forum.retriever.search(question, filters=SearchFilters(organisation=BRIDGES))
    relevance = forum.gate.grounding.relevance(question, results, None)
    assert forum.gate.settings.relevance_floor <= relevance < forum.gate.settings.relevance_threshold
    assert forum.gate.relevance(question, question, results, None) is None
    assert forum.gate.relevance(question, question, results, None, narrowed=True) == relevance


SMALL_WORDS = """Family Voices Day

Organisation	Riverside Trust
Summary of Presentation	Riverside Trust runs All About Me, a storytelling programme for children in care.
Key learning	Children said telling their story in their own words helped them feel heard.

Organisation	Hill Council
Summary of Presentation	Hill Council trained staff in life story work with families.
Key learning	Staff said families felt more involved in plans about them.
"""


def test_a_phrase_of_small_words_names_what_the_word_index_cannot_see(tmp_path):
    """ "whats the all about me programme": every word a small one, found as the phrase it is, and answered."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "voices.txt").write_text(SMALL_WORDS)
    settings = Settings(store_dir=tmp_path / "store", embedding_model="fake-hashing", collection="voices")
    store = open_store(settings, HashingEmbeddings(), language())
    ingest_paths(store, [tmp_path / "notes"], settings, progress=False)
    answerer = Answerer(HybridRetriever(store, settings), None, Prompts.load(), settings, language())
    riverside = {p.chunk_id for p in answerer.retriever.passages if p.metadata.organisation == "Riverside Trust"}
    assert answerer.retriever.quoted("whats the all about me programme n who runs it", 2) <= riverside
    assert answerer.retriever.quoted("whats the all about me programme n who runs it", 2)
    assert answerer.retriever.quoted("tell me about it", 2) == set()  # the glue of a question names nothing
    answer = answerer.answer("whats the all about me programme n who runs it")
    assert answer.answered and "Riverside Trust" in answer.text, answer.text


def test_a_greeting_before_a_first_person_request_does_not_become_the_question():
    """ "Hi there. I need to know what Ofsted said ...": the request is what is asked, Ofsted and all."""
    question = "Hi there. I need to know what Ofsted said about kinship care"
    assert "Ofsted" in asked_part(question)


def test_a_follow_up_reads_each_unit_once(forum):
    """The named project's passages come first, and no unit appears twice among the results."""
    history = conversation(forum, f"What did {HARBOUR} develop?")
    answer = forum.answer("What tools does it have?", history)
    assert answer.answered
    results, scoped = forum._search(answer.standalone_question, forum.retriever.embed(answer.standalone_question),
                                    None, True)  # fmt: skip
    units = [result.passage.metadata.unit_id for result in results]
    assert scoped >= 1 and len(units) == len(set(units))


def test_the_sectors_shorthand_is_written_as_the_notes_write_it():
    """ "sw students at uni", "LAs", "ceyp": the notes write social work, university, local authorities."""
    from assistant.text import spelled_out

    assert spelled_out("sw students at uni") == "social work students at university"
    assert spelled_out("LAs not joined up; CEYP and kids") == (
        "local authorities not joined up; care experienced young people and children"
    )
    assert spelled_out("la la land, a swift uni-form") == "la la land, a swift uni-form"


def test_one_passages_points_listed_in_one_sentence_are_points_an_ordinal_can_pick(forum):
    """An answer listing two points of one passage after a colon ("Two came up: A [1], and B [1].") has two
    points; "the second one" carries the second's names, and its pointing words choose no sentence."""
    assert _cited_items(
        "Ideas raised at the forum: a buddy scheme for new carers [1], and a Saturday drop-in [1]."
    ) == [
        "a buddy scheme for new carers",
        "a Saturday drop-in",
    ]
    assert _cited_items("Tables: Families Outside and Project Change; CYCJ [3].") == [
        "Families Outside and Project Change",
        "CYCJ",
    ]  # "A and B" alone may be one point (one table)
    history = [
        {"role": "user", "content": "Who presented at the forum?"},
        {"role": "assistant", "content": f"Two came up: {BRIDGES}'s Kinship Circle [1], and {HARBOUR}'s toolkit [1]."},
    ]
    standalone = forum.followups.carry_entities("and what does the second one do?", history)
    assert HARBOUR in standalone and BRIDGES not in standalone
    assert FollowUps.without_pointer("what's the second one about?").split() == ["what's", "about?"]
