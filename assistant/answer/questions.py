"""What a question asks for: the kind of fact (a date, a number, a name, a place, a contact, a finding, a list)
and the words it is about, as opposed to the words that frame it ("I'm a ... and our ... Has anyone ...?").

Every rule here reads the shape of English questions, never the words of particular ones.
"""

import itertools
import re
from dataclasses import dataclass
from enum import Enum

from spacy.tokens import Token

from assistant.answer.language import NAMING_ENTITIES, Language
from assistant.answer.lexicon import ASKED_NOUNS, DURATION_UNITS, FRACTIONS, KIND_WORDS, PLACING, REACHING
from assistant.models import MONTH_NAMES, WEEKDAY_NAMES
from assistant.sentences import Quote
from assistant.text import EMAIL, NUMBER_WORDS, tokenize


class FactKind(Enum):
    DATE = "date"
    YEAR = "year"
    TIME = "time"
    WEEKDAY = "day of the week"
    COUNT = "number"
    AMOUNT = "amount of money"
    SHARE = "figure"
    DURATION = "length of time"
    PLACE = "place"
    PERSON = "person's name"
    PERSON_OR_ORGANISATION = "name"
    VIEWS = "views"
    CONTACT = "contact"
    EXPANSION = "full name"
    FINDING = "finding"
    LIST = "list"
    GENERAL = "general"


# Kinds whose absence from the picked sentences is worth saying out loud: they are single facts.
SINGLE_FACTS = frozenset(
    {
        FactKind.DATE,
        FactKind.YEAR,
        FactKind.TIME,
        FactKind.WEEKDAY,
        FactKind.COUNT,
        FactKind.AMOUNT,
        FactKind.SHARE,
        FactKind.DURATION,
        FactKind.PLACE,
        FactKind.PERSON,
        FactKind.PERSON_OR_ORGANISATION,
        FactKind.CONTACT,
        FactKind.EXPANSION,
        FactKind.VIEWS,
    }
)

_I = re.IGNORECASE
# Roles a person holds: "the name of the Participation Officer" asks for a person, not an organisation.
_ROLES = (
    r"(officer|lead|manager|chair|chairperson|worker|co-?ordinator|director|speaker|presenter|facilitator|"
    r"minister|head|teacher|champion|keeper|author|researcher|practitioner|person|founder|ceo|chief executive)"
)
# ... unless the role word describes a body ("the lead organisation", "the lead partner").
_NOT_A_BODY = r"(?!\s+(organisation|organization|agency|partner|body|council|authority|group|service|team|charity))"
# Order matters: the first pattern that matches decides the kind.
_KIND_PATTERNS: tuple[tuple[FactKind, re.Pattern[str]], ...] = (
    (
        FactKind.CONTACT,
        re.compile(
            r"\b(contacts? (details|person|people|for|them|him|her|info)|"
            r"(is there|who is|who's|whos|any) (a |the )?contact|(can|could|should|do) (i|we) contact|"
            r"how (do|can|could|would) (i|we) (contact|reach)|e-?mail|"
            r"get in touch|reach (them|him|her)|phone number|who should i (ask|call|contact))",
            _I,
        ),
    ),
    (
        FactKind.EXPANSION,
        re.compile(r"\b(stands?|stood) for\b|\bshort for\b|\b(acronym|abbreviation|initials)s?\b|\bfull name\b", _I),
    ),
    (FactKind.WEEKDAY, re.compile(r"\b(what|which) day of the week\b", _I)),
    (FactKind.TIME, re.compile(r"\b(what time|which time|at what time)\b", _I)),
    (FactKind.YEAR, re.compile(r"\b(what|which|in which|in what) year\b(?! of\b)", _I)),
    (
        FactKind.DATE,
        # "when" opening a question or a clause of it, not "... when things escalate"; after a dash or colon only
        # as a question ("changing the subject - when is ...?", not "drop in - when they can -").
        re.compile(
            r"(^\W*|[.?!,;]\s*|\band\s+)when\b|"
            r"(:|\s[-–—]+)\s*when(?=\s+(is|are|was|were|do|does|did|will|would|can|could|should|has|have)\b|'s\b)|"
            r"\b(what date|which date|on what date|what day\b|which month|what month)",
            _I,
        ),
    ),
    (
        FactKind.AMOUNT,
        re.compile(
            r"\bhow much (money|funding|did .* (cost|pay|award|give|get|receive|raise|win))|"
            r"\b(cost|budget|price|allowance|salary|fee)s?\b",
            _I,
        ),
    ),
    (
        FactKind.SHARE,
        re.compile(
            r"\b(what (share|proportion|percentage|fraction)|how (much )?(more|less) likely|how likely|what percent)|"
            r"\bwhat %",
            _I,
        ),
    ),
    (FactKind.DURATION, re.compile(r"\bhow long\b|\bhow many (years|months|weeks|days|hours)\b", _I)),
    # "How much ... raise, and how many hampers is that?": the count is of what follows "how many".
    (FactKind.COUNT, re.compile(r"\b(how many|number of)\b|\bhow much\b(?!.*\bhow many\b)", _I)),
    (
        FactKind.PLACE,
        re.compile(
            r"\b(where\b(?! (do|does|did|would|should|could|can) (i|we|you|they|a team|teams?) (start|begin))|"
            r"(in )?(which|what) (town|city|venue|place|area|region|council area|local authority|country|building)|"
            r"\baddress\b(?! (the|this|that|these|those|it|them|their|our|issues?|needs?|challenges?)\b))",
            _I,
        ),
    ),
    (
        FactKind.PERSON,
        re.compile(
            rf"\b(what is|what's|whats|what was) the name of (the|their|its|a) ([\w-]+ )?{_ROLES}\b{_NOT_A_BODY}|"
            rf"\bwho (is|was) (the|their|its) ([\w-]+ )?{_ROLES}\b{_NOT_A_BODY}|"
            r"\bwho (chairs|chaired|chaires)\b|\bwhich person\b",
            _I,
        ),
    ),
    (
        FactKind.VIEWS,
        re.compile(
            r"\bwhat (did|do|does|have|has) (the )?([\w-]+ ){0,4}(say|said|tell|told|think|thought|feel|felt|"
            r"report|reported)\b.{0,60}\b(surveys?|consultations?|interviews?|focus groups?|questionnaires?|"
            r"evaluations?|feedback forms?)\b",
            _I,
        ),
    ),
    (
        FactKind.PERSON_OR_ORGANISATION,
        re.compile(
            r"^\W*(who|whom|whose|who's|whos)\b|\b(what is|what's|whats) the name\b|"
            r"\b(who (is|was|are|were|ran|runs|led|leads|created|developed|made|"
            r"hosted|presented|raised|set up|is behind|'?s behind)|which (organisation|organization|charity|"
            r"council|group|team|table|project|partner|body|person|people))",
            _I,
        ),
    ),
    (
        FactKind.LIST,
        re.compile(
            r"\b(what|which) (are|were) (the )?(\w+ )?(steps|tools|areas|priorities|fundamentals|solutions|"
            r"recommendations|actions|outcomes|principles|reports|foundations|ways|barriers|challenges|"
            r"strengths)\b|\blist\b|\b(which|what) (tools|steps|solutions|outcomes)\b",
            _I,
        ),
    ),
    (
        FactKind.FINDING,
        re.compile(
            r"\b(find|found|findings|learnt|learned|showed|shown|reveal|revealed|discover|discovered|conclude|"
            r"concluded|insights?)\b|\b(did|does|do) .{0,60}\b(learn|show)\b",
            _I,
        ),
    ),
)

_PHONE = re.compile(r"\b0\d{3,4}\s?\d{3}\s?\d{3,4}\b")
# A clock time as the recogniser often leaves it, unlabelled or as a number: "2.30pm", "9:30", "10 am".
_CLOCK = re.compile(r"\b\d{1,2}(?:[.:]\d\d)?\s?(?:am|pm)\b|\b\d{1,2}:\d\d\b", _I)
_FINDING = re.compile(
    r"\b(found|find|finding|showed|shows|show|highlighted|revealed|learn|learning|learned|learnt|insight|"
    r"concluded|suggests?|helped|led to|resulted|meant|demonstrated|identified|more likely|less likely)\b",
    _I,
)
# A list: items after a semicolon or a colon with commas ("Three tools: a guide, a game, a plan"), or a run of
# "x, y and z"; a field's colon alone ("Summary of Presentation: Working With African Families") lists nothing.
_LIST_SHAPE = re.compile(r";|:\s.*,|\b\w+, \w+(?: \w+)?,? and\b")

_SEEKS_PROJECTS = re.compile(
    r"\b(has|have|is|are|was|were|did|does)\s+(anyone|anybody|someone|somebody|any\s+(projects?|organisations?|"
    r"organizations?|councils?|charities|services|groups?|teams?|schools?|partnerships?))\b|"
    r"\b(any|(?<!the )other)\s+(examples?|projects?|organisations?|organizations?)\b|"
    r"\banyone\s+(doing|done|tried|working)\b",
    _I,
)


@dataclass(frozen=True)
class AskedFact:
    kinds: tuple[FactKind, ...]  # every kind asked for ("when and where ..."), the first one first
    noun: str  # for a count: the words after "how many" ("local authorities' approaches"), else ""
    question: str
    # For an amount or a figure: the words of what it is of, which a sentence stating it must use ("rent",
    # "completion rate"), as tokenized; empty when the question names nothing.
    what: frozenset[str] = frozenset()

    @property
    def kind(self) -> FactKind:
        return self.kinds[0]

    def stated_by(self, quote: Quote, noun_words: frozenset[str]) -> bool:
        """The sentence states a fact of one of the asked kinds."""
        return self.kinds_stated(quote, noun_words) > 0

    def kinds_stated(self, quote: Quote, noun_words: frozenset[str]) -> int:
        """How many of the asked kinds the sentence states: for "when and where", a line giving the date and
        the venue says more than one giving the date alone."""
        return sum(states(kind, quote, noun_words, self.question, self.what) for kind in self.kinds)

    @property
    def seeks_projects(self) -> bool:
        """The question asks who has done something ("Has anyone ...?", "Are there any projects ...?"): its
        answer is several projects, one line each, more than one project's every line."""
        return self.kind is FactKind.GENERAL and bool(_SEEKS_PROJECTS.search(self.question))


def asked_fact(question: str, language: Language | None = None) -> AskedFact:
    """The kinds of fact a question asks for; GENERAL when it asks for none in particular. With ``language``,
    a question no pattern reads is read by the noun it asks "what" or "which" of (``noun_asked_for``)."""
    kinds: list[FactKind] = []
    noun = ""
    for kind, pattern in _KIND_PATTERNS:
        match = pattern.search(question)
        if match and not (language is not None and _opens_relative_clause(question, match.start(), language)):
            kinds.append(kind)
            if kind is FactKind.COUNT:
                noun = " ".join(question[match.end() :].split()[:3])
    parsed = noun_asked_for(question, language) if language is not None and not kinds else None
    if parsed is not None:
        kinds.append(parsed)
    if kinds == [FactKind.PERSON_OR_ORGANISATION] and language is not None:
        kinds = [_who_is(question, language) or FactKind.PERSON_OR_ORGANISATION]
    money_or_share = kinds[:1] in ([FactKind.AMOUNT], [FactKind.SHARE])
    what = frozenset(tokenize(_what_of(question, language))) if language is not None and money_or_share else frozenset()
    if FactKind.PERSON in kinds:  # a person asked for: an organisation's name does not answer it
        kinds = [kind for kind in kinds if kind is not FactKind.PERSON_OR_ORGANISATION]
    return AskedFact(tuple(kinds) or (FactKind.GENERAL,), noun, question, what)


def _opens_relative_clause(question: str, at: int, language: Language) -> bool:
    """The word at ``at`` is a "where" or "when" opening a relative or adverbial clause, which asks nothing:
    "is there a network where professionals can meet?" asks for a network, not a place (spaCy: its head is a
    relcl, or an advcl inside the sentence; an indirect question, "do you know where it meets?", is a ccomp and
    still asks). Opening its sentence it asks, whatever the parse: the small model reads "when was the forum
    held" without its question mark as an advcl."""
    token = next((token for token in language.parse(question) if token.idx == at), None)
    if token is None or token.tag_ != "WRB":
        return False
    return token.head.dep_ == "relcl" or (token.head.dep_ == "advcl" and token.i != token.sent.start)


def noun_asked_for(question: str, language: Language) -> FactKind | None:
    """The kind of fact named by the noun a question asks "what" or "which" of, from its parse: "What's the
    closing date for Round 3?" (date), "what rent will tenants pay?" (an amount), "which council area is it
    in?" (a place), "the phone number for ..." (a contact); None when the noun names no kind of fact
    (``lexicon.ASKED_NOUNS``)."""
    asked = _asked_noun(question, language)
    if asked is None:
        return None
    compounds = [child.lemma_.lower() for child in asked.children if child.dep_ == "compound"]
    kind = next((ASKED_NOUNS[c] for c in compounds if c in REACHING), None) or ASKED_NOUNS.get(asked.lemma_.lower())
    return FactKind(kind) if kind else None


def _asked_noun(question: str, language: Language) -> Token | None:
    """The noun a question asks "what" or "which" of: "what rent", "what is the closing date"."""
    for token in language.parse(question):
        if token.lower_ not in ("what", "which") or token.tag_ not in ("WDT", "WP"):
            continue
        if token.dep_ == "det" and _common_noun(token.head):
            return token.head
        if token.head.lemma_ == "be":
            return next(
                (c for c in token.head.children if c is not token and c.dep_ in ("nsubj", "attr") and _common_noun(c)),
                None,
            )
    return None


def _common_noun(token: Token) -> bool:
    """A noun, or one the tagger took for a name because the question is typed in title case ("What Is The
    Closing Date?")."""
    return token.pos_ == "NOUN" or (token.pos_ == "PROPN" and token.lower_ in ASKED_NOUNS)


def _what_of(question: str, language: Language) -> str:
    """The words of the noun asked "what" of that a sentence stating the fact must use too: "the vacant post's
    salary" is not answered by the project's budget, nor "the rent" by the building's cost. The nouns that only
    name the kind ("amount", "figure") need not be repeated."""
    asked = _asked_noun(question, language)
    if asked is None:
        return ""
    words = [child for child in asked.children if child.dep_ == "compound"] + [asked]
    return " ".join(word.lower_ for word in words if word.lemma_.lower() not in KIND_WORDS)


def _who_is(question: str, language: Language) -> FactKind | None:
    """ "Who is the X?" asks for a person when X is a role ("who's the coordinator", "who is the chief exec"),
    for a contact when X is one ("who's the named contact"); None otherwise ("who is behind ...")."""
    for token in language.parse(question):
        if token.lower_ != "who" or token.head.lemma_ != "be":
            continue
        for noun in token.head.children:
            if noun is token or noun.dep_ not in ("attr", "nsubj") or noun.pos_ != "NOUN":
                continue
            words = [child.lower_ for child in noun.children if child.dep_ == "compound"] + [noun.lower_]
            if noun.lemma_.lower() in REACHING:
                return FactKind.CONTACT
            if _ROLE.search(" ".join(words)):
                return FactKind.PERSON
    return None


# What people said, reported ("Young people said they felt heard"); a quoted phrase alone is not a report.
_REPORTED = re.compile(
    r"\b(said|says|told|felt|reported|commented|described|wanted|asked for|raised|shared that|responded)\b", _I
)
_ROLE = re.compile(rf"\b{_ROLES}\b|\bchair", _I)
# How near a person's name sits to their role ("Participation Officer Kerry Watson", "chaired by ...").
_ROLE_REACH = 40
# Months as written in full or short ("March", "Mar", "Sept").
_MONTHS = frozenset({"sept"} | {form.lower() for name in MONTH_NAMES for form in (name, name[:3])})
_WEEKDAYS = frozenset(name.lower() for name in WEEKDAY_NAMES)
_COUNTED_WORD = re.compile(r"[\w%'’-]+|:")


def _words(text: str) -> list[str]:
    return [word.strip(".,;:()'’").lower() for word in text.split()]


def _person(quote: Quote, question: str) -> bool:
    """A person the recogniser finds in the sentence that the question does not name, beside the role it asks
    about when it asks about one ("Chaired by Alison Sutherland" for "Who chairs the Steering Group?")."""
    asked = question.lower()
    roles = {match.group().lower()[:5] for match in _ROLE.finditer(question)}
    for mention in quote.mentions:
        name = quote.text[mention.start : mention.end]
        if mention.label != "PERSON" or name.lower() in asked:
            continue
        around = quote.text[max(0, mention.start - _ROLE_REACH) : mention.end + _ROLE_REACH].lower()
        if not roles or any(role in around for role in roles):
            return True
    return False


# A town or a region answers "where", not "who": "leaving for a post in Stornoway" names nobody who took over.
_WHO_ENTITIES = tuple(sorted(NAMING_ENTITIES - {"GPE", "LOC"}))


def _new_name(quote: Quote, question: str) -> bool:
    """A person, organisation or other named thing (not a place) in the sentence that the question does not
    give."""
    asked = question.lower()
    return any(name.lower() not in asked for name in quote.mentioned(*_WHO_ENTITIES))


def _is_duration(text: str) -> bool:
    """A length of time ("two years", "a six-week course", "90 minutes"), not a point in it."""
    words = _words(text.replace("-", " "))
    return any(
        unit in DURATION_UNITS and (before.isdigit() or before in NUMBER_WORDS or before in ("a", "an", "one"))
        for before, unit in itertools.pairwise(words)
    )


def _has_year(text: str) -> bool:
    return any(word.isdigit() and len(word) == 4 and word[:2] in ("19", "20") for word in _words(text))


def _is_date(text: str) -> bool:
    """A point in time the recogniser labels DATE: a day, month or year ("Tuesday 25 January", "March 2026",
    "12/03/2026"), not a length of time, and not a phone number it took for one ("01382 123456")."""
    named = any(word in _MONTHS or word in _WEEKDAYS for word in _words(text))
    return not _is_duration(text) and (named or _has_year(text) or "/" in text)


def _places(quote: Quote, question: str) -> bool:
    """A place the question does not give: a town, council area or country (GPE) anywhere, or another name the
    recogniser finds where a place is given ("at the Burgh Hall", "in Fife", which it may take for an
    organisation)."""
    asked = question.lower()
    for mention in quote.mentions:
        if quote.text[mention.start : mention.end].lower() in asked:
            continue
        if mention.label == "GPE":
            return True
        placed = _words(quote.text[: mention.start])[-2:]
        if mention.label in NAMING_ENTITIES and any(word in PLACING for word in placed):
            return True
    return False


def _counts(quote: Quote, noun_words: frozenset[str]) -> bool:
    """A number that counts the asked thing: "34 people", "three schools", or "No of Attendees: 34"."""
    for mention in quote.mentions:
        if mention.label not in ("CARDINAL", "QUANTITY") or _CLOCK.search(quote.text[mention.start : mention.end]):
            continue
        if not noun_words:
            return True
        # A colon is a word of its own: "(10 projects): Hilltown Kinship Circle" counts projects, not kinship.
        after = _COUNTED_WORD.findall(quote.text[mention.end :].lower())[:3]
        before = _COUNTED_WORD.findall(quote.text[: mention.start].lower())[-4:]
        if any(_related(word, noun) for word in after for noun in noun_words):
            return True
        if ":" in before and any(_related(word, noun) for word in before for noun in noun_words):
            return True
        # A table row's cell ("Families supported; 2024–25: 167; 2025–26: 214") counts what its row is of.
        row, _, cells = quote.text.partition("; ")
        in_a_cell = before[-1:] == [":"] and bool(cells) and mention.start > len(row)
        if in_a_cell and any(_related(w, noun) for w in _COUNTED_WORD.findall(row.lower()) for noun in noun_words):
            return True
    return False


def _shares(quote: Quote) -> bool:
    """A share or a ratio: "65%", "12 per cent", "more than half", "three times as likely"."""
    if quote.mentioned("PERCENT"):
        return True
    for mention in quote.mentions:
        if mention.label != "CARDINAL":
            continue
        in_words = any(word in FRACTIONS for word in _words(quote.text[mention.start : mention.end]))
        if in_words or quote.text[mention.end :].lstrip().lower().startswith("times"):
            return True
    return False


def states(
    kind: FactKind,
    quote: Quote,
    noun_words: frozenset[str] = frozenset(),
    question: str = "",
    what: frozenset[str] = frozenset(),
) -> bool:
    """Whether the sentence states a fact of this kind, read from its entities (a DATE for a date, a number
    counting the asked thing for a count, ...); an amount or a figure must be of ``what`` the question names,
    when it names something ("rent", "completion rate")."""
    text = quote.text
    dates = quote.mentioned("DATE")
    if kind is FactKind.YEAR:
        return any(_has_year(date) for date in dates)
    if kind is FactKind.DATE:
        return any(_is_date(date) for date in dates)
    if kind is FactKind.WEEKDAY:
        return any(word in _WEEKDAYS for date in dates for word in _words(date))
    if kind is FactKind.TIME:
        return any(not _is_duration(time) for time in quote.mentioned("TIME")) or bool(_CLOCK.search(text))
    if kind is FactKind.AMOUNT:
        return bool(quote.mentioned("MONEY")) and _uses(what, text)
    if kind is FactKind.SHARE:
        return _shares(quote) and _uses(what, text)
    if kind is FactKind.DURATION:
        return any(_is_duration(span) for span in quote.mentioned("DATE", "TIME"))
    if kind is FactKind.COUNT:
        return _counts(quote, noun_words)
    if kind is FactKind.PLACE:
        return _places(quote, question)
    if kind is FactKind.PERSON:
        return _person(quote, question)
    if kind is FactKind.PERSON_OR_ORGANISATION:
        return _new_name(quote, question)
    if kind is FactKind.VIEWS:
        return bool(_REPORTED.search(text))
    if kind is FactKind.CONTACT:
        return bool(EMAIL.search(text) or _PHONE.search(text))
    if kind is FactKind.EXPANSION:
        return any(_expands(acronym, text) for acronym in _ACRONYM.findall(question))
    if kind is FactKind.FINDING:
        return bool(_FINDING.search(text))
    if kind is FactKind.LIST:
        return bool(_LIST_SHAPE.search(text))
    return True


def _uses(words: frozenset[str], text: str) -> bool:
    """The text uses one of the words of what is asked about (any text, when none are given)."""
    return not words or bool(words & set(tokenize(text)))


_ACRONYM = re.compile(r"\b[A-Z][A-Z&]{1,7}s?\b")
_JOINING_WORDS = frozenset({"of", "and", "the", "for", "in", "on", "to", "&", "at"})


def _expands(acronym: str, text: str) -> bool:
    """``text`` spells the acronym out: capitalised words whose initials make it ("Centre for Youth and
    Criminal Justice" for CYCJ), joining words ("for", "and") aside."""
    letters = acronym.rstrip("s").replace("&", "").lower()
    words = re.findall(r"[A-Za-z][\w'’-]*", text)
    for start, word in enumerate(words):
        if word[0].lower() != letters[0] or not word[0].isupper():
            continue
        initials = ""
        for following in words[start:]:
            if following.lower() in _JOINING_WORDS and initials:
                continue
            if not following[0].isupper() or len(initials) == len(letters):
                break
            initials += following[0].lower()
        if initials == letters:
            return True
    return False


def _related(word: str, other: str) -> bool:
    """Two forms of one word: "attendees" and "attended", "schools" and "school"."""
    shared = 0
    for first, second in zip(word, other, strict=False):
        if first != second:
            break
        shared += 1
    return word == other or shared >= max(5, min(len(word), len(other)) - 2) or (shared >= 4 and shared == len(other))
