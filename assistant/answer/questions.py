"""What a question asks for: the kind of fact (a date, a number, a name, a place, a contact, a finding, a list)
and the words it is about, as opposed to the words that frame it ("I'm a ... and our ... Has anyone ...?").

Every rule here reads the shape of English questions, never the words of particular ones.
"""

import re
from dataclasses import dataclass
from enum import Enum

from spacy.tokens import Token

from assistant.answer.language import Language
from assistant.answer.lexicon import ASKED_NOUNS, KIND_WORDS, REACHING
from assistant.text import EMAIL, tokenize


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
        # "when" opening a question or a clause of it, not "... when things escalate".
        re.compile(
            r"(^\W*|[.?!,;]\s*|\band\s+)when\b|\b(what date|which date|on what date|what day\b|which month|what month)",
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
    (FactKind.COUNT, re.compile(r"\b(how many|number of|how much)\b", _I)),
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

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_YEAR = re.compile(r"\b(19|20)\d\d\b")
_DATE = re.compile(
    rf"\b(\d{{1,2}}(st|nd|rd|th)?\s+{_MONTH}\b|{_MONTH}\s+\d{{1,2}}(st|nd|rd|th)?\b|{_MONTH}\.?\s+(19|20)\d\d|"
    rf"\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|(19|20)\d\d-\d\d(-\d\d)?)",
    _I,
)
_WEEKDAY = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", _I)
_TIME = re.compile(r"\b\d{1,2}[.:]\d\d\b|\b\d{1,2}\s?(am|pm)\b", _I)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"hundred|thousand|million|dozen|half|third|quarter|several|dozens|hundreds|thousands"
)
_NUMBER = re.compile(rf"\b\d+(?:[.,]\d+)*%?|\b({_NUMBER_WORDS})\b", _I)
_MONEY = re.compile(r"[£$€]\s?\d|\b\d+(?:[.,]\d+)*\s?(k|m|million|billion|thousand|pounds?)\b", _I)
_SHARE = re.compile(rf"\d%|\bper ?cent\b|\b\d+(?:\.\d+)?\s+times\b|\b({_NUMBER_WORDS})\b", _I)
_DURATION = re.compile(rf"\b(\d+|{_NUMBER_WORDS})[\s-]+(years?|months?|weeks?|days?|hours?|minutes?)\b", _I)
_PLACE = re.compile(r"\b(in|at|across|from|near)\s+(the\s+)?[A-Z][\w'’-]+")
_CAPITALISED = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][\w'’&-]*(?:\s+(?:of|and|for|in|the)?\s*[A-Z][\w'’&-]*)*")
_PHONE = re.compile(r"\b0\d{3,4}\s?\d{3}\s?\d{3,4}\b")
_FINDING = re.compile(
    r"\b(found|find|finding|showed|shows|show|highlighted|revealed|learn|learning|learned|learnt|insight|"
    r"concluded|suggests?|helped|led to|resulted|meant|demonstrated|identified|more likely|less likely)\b",
    _I,
)
_LIST_SHAPE = re.compile(r";|:\s|\b\w+, \w+(?: \w+)?,? and\b")

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

    def stated_by(self, text: str, noun_words: frozenset[str]) -> bool:
        """``text`` states a fact of one of the asked kinds."""
        return any(states(kind, text, noun_words, self.question, self.what) for kind in self.kinds)

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
        if match:
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


# Words that name bodies, places and things, not people ("Love Inc", "East Ayrshire", "Bright Spots").
_NOT_PERSONAL = frozenset(
    "council trust partnership foundation inc ltd network group service services school high academy college "
    "university project team board scotland scottish care health centre hub forum programme officer action "
    "promise agency authority government committee club children young people family families justice prison "
    "review act plan showcase collaborative event spots east west north south city county street road the "
    "social work fund unit society association alliance initiative strategy system".split()
)
# Capitalised words in a row, not after "the" ("the Bright Spots surveys"): a person's name is two or three.
_CAPITALISED_RUN = re.compile(r"(?<!\bthe )(?<!\bThe )\b[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)*\b")
# What people said, reported ("Young people said they felt heard"); a quoted phrase alone is not a report.
_REPORTED = re.compile(
    r"\b(said|says|told|felt|reported|commented|described|wanted|asked for|raised|shared that|responded)\b", _I
)
_ROLE = re.compile(rf"\b{_ROLES}\b|\bchair", _I)
# How near a person's name sits to their role ("Participation Officer Kerry Watson", "chaired by ...").
_ROLE_REACH = 40


def _person(text: str, question: str) -> bool:
    """A person's name in ``text`` that the question does not give, beside the role it asks about when it
    asks about one ("Chaired by Alison Sutherland" for "Who chairs the Steering Group?")."""
    asked = question.lower()
    roles = {match.group().lower()[:5] for match in _ROLE.finditer(question)}
    for run in _CAPITALISED_RUN.finditer(text):
        # A run of capitals may hold a role and a name together ("Participation Officer Kerry Watson"): the
        # names are its stretches between words naming bodies, places or roles.
        stretch: list[str] = []
        for word in [*run.group().split(), ""]:
            if word and word.lower() not in _NOT_PERSONAL and not _ROLE.fullmatch(word):
                stretch.append(word)
                continue
            name = " ".join(stretch)
            stretch = []
            if not 2 <= len(name.split()) <= 3 or name.lower() in asked:
                continue
            around = text[max(0, run.start() - _ROLE_REACH) : run.end() + _ROLE_REACH].lower()
            if not roles or any(role in around for role in roles):
                return True
    return False


def _new_name(text: str, question: str) -> bool:
    """A capitalised name in ``text`` that the question does not already give."""
    asked = question.lower()
    return any(name.lower() not in asked for name in _CAPITALISED.findall(text) if len(name) > 2)


def states(
    kind: FactKind,
    text: str,
    noun_words: frozenset[str] = frozenset(),
    question: str = "",
    what: frozenset[str] = frozenset(),
) -> bool:
    """Whether ``text`` states a fact of this kind (a date for DATE, a number for COUNT, ...); an amount or a
    figure must be of ``what`` the question names, when it names something ("rent", "completion rate")."""
    if kind is FactKind.YEAR:
        return bool(_YEAR.search(text))
    if kind is FactKind.DATE:
        return bool(_DATE.search(text) or _YEAR.search(text) or _WEEKDAY.search(text))
    if kind is FactKind.WEEKDAY:
        return bool(_WEEKDAY.search(text))
    if kind is FactKind.TIME:
        return bool(_TIME.search(text))
    if kind is FactKind.AMOUNT:
        return bool(_MONEY.search(text)) and _uses(what, text)
    if kind is FactKind.SHARE:
        return bool(_SHARE.search(text)) and _uses(what, text)
    if kind is FactKind.DURATION:
        return bool(_DURATION.search(text))
    if kind is FactKind.COUNT:
        return _counts(text, noun_words)
    if kind is FactKind.PLACE:
        return any(match.group().split()[-1].lower() not in question.lower() for match in _PLACE.finditer(text))
    if kind is FactKind.PERSON:
        return _person(text, question)
    if kind is FactKind.PERSON_OR_ORGANISATION:
        return _new_name(text, question)
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


def _counts(text: str, noun_words: frozenset[str]) -> bool:
    """A number that counts the asked thing: "34 people", "three schools", or "No of Attendees: 34"."""
    words = re.findall(r"[\w%'’-]+|:", text.lower())
    for position, word in enumerate(words):
        if not _NUMBER.fullmatch(word) or word.endswith("%"):
            continue
        if not noun_words:
            return True
        after = words[position + 1 : position + 4]
        before = words[max(0, position - 4) : position]
        if any(_related(candidate, noun) for candidate in after for noun in noun_words):
            return True
        if ":" in before and any(_related(candidate, noun) for candidate in before for noun in noun_words):
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
