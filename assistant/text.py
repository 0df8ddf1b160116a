"""The text rules every module shares: words, sentences, list items, citation markers, questions, names.

The ground floor: this module imports nothing from the project, so any module may import it. A rule
written here once is the rule everywhere: ingest cuts sentences the way answers quote and check them,
BM25 indexes the words the grounding checks count, and a source is labelled the same on every face.
"""

import functools
import re

# --- words -------------------------------------------------------------------------------------------

STOPWORDS = frozenset(
    (
        "a about above after again all am an and any are as at be been before being below between both but by "
        "can could did do does doing down during each few for from further had has have having he her here "
        "hers him his how i if in into is it its itself just me more most my no nor not now of off on once "
        "only or other our ours out over own same she should so some such than that the their theirs them "
        "then there these they this those through to too under until up very was we were what when where "
        "which while who whom why will with would you your yours "
    ).split()
)
WORD = re.compile(r"[a-z0-9]+")  # a word of lower-cased text
# The notes mix British and American spellings ("organisation" and "organization", "programme" and
# "program"), and so do the people asking: both are written the British way before stemming.
_AMERICAN_IZ = re.compile(r"(?<=[a-z]{3})iz(?=(?:e|es|ed|ing|ation|ations|er|ers)$)")
_PROGRAMME = re.compile(r"(?<=gram)me(?=s?$)")
# Numbers written as words, with their figures: the one list of them.
NUMBER_WORD_VALUES = {
    word: str(number)
    for number, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
} | {word: str(10 * tens) for tens, word in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)}
# Small numbers are written both ways ("the two-house tool", "the 2 house tool"): words and tokens take these as
# their figures. "one" is left alone, as it is far more often a pronoun ("no one", "one of"), and "zero" and the
# larger ones, which the notes write as figures.
NUMBER_WORDS = {word: value for word, value in NUMBER_WORD_VALUES.items() if 2 <= int(value) <= 12}


@functools.lru_cache(maxsize=1 << 16)  # a question's check tokenizes the same few thousand words again and again
def stem(word: str) -> str:
    """A light suffix stripper: enough for 'projects'/'project', 'funding'/'funded' and 'services'/'service'
    to meet, with 'organization' and 'organisation', 'program' and 'programme', '2' and 'two' one word too.
    Its stems stay real words where it can ('service', not 'servic'): grounding tells a real word the notes
    never use from shorthand by looking the stem up among the embedder's whole words."""
    word = NUMBER_WORDS.get(word, word)
    word = _PROGRAMME.sub("", _AMERICAN_IZ.sub("is", word))
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break  # "class", "focus", "crisis" are not plurals
            base = word[:-2]
            if suffix == "es" and not (
                base.endswith(("ss", "x", "z", "ch", "sh")) or (base[-1] == "s" and len(base) <= 3)
            ):
                suffix = "s"  # "services" and "houses" end in s; "classes" and "boxes" in es
            word = word[: len(word) - len(suffix)] + replacement
            break
    return word


def tokenize(text: str) -> list[str]:
    """The stemmed content words of ``text``, in order (repeats kept): what BM25 indexes and grounding counts."""
    text = text.lower().replace("’", "'").replace("'s ", " ")
    return [stem(word) for word in WORD.findall(text) if word not in STOPWORDS]


# --- sentences ---------------------------------------------------------------------------------------

# The break between two sentences: an end mark, any closing quotes or bracket (which the break takes with
# it), white space, then what opens a sentence: a capital, a figure or a Markdown heading, maybe quoted.
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9#])")
# "The Why Not? Trust developed ...": a "?" or "!" this few words after the last break ends a name, not a sentence.
_NAME_WORDS = 3
# A bracket holding one short word with its full stop ("Sheriff (retd.) Margaret Lennox", "(est.)", "(Ltd.)")
# holds an abbreviation: the full stop ends no sentence. A longer word is a sentence's last ("(mostly.)").
_BRACKETED_ABBREVIATION = re.compile(r"\(\s*[A-Za-z]{1,4}\.$")
# The word before a full stop.
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


@functools.cache
def _abbreviations() -> tuple[frozenset[str], frozenset[str]]:
    """pysbd's English abbreviations that a full stop never ends a sentence after: those written before a name
    ("Dr. Isla Menzies", "St. Andrews", "Prof.") or inside one ("e.g.", "i.e."), and those written before a
    number ("No. 5", "pp. 12")."""
    from pysbd.lang.english import English

    listed = English.Abbreviation
    before_a_name = frozenset(listed.PREPOSITIVE_ABBREVIATIONS) | {a for a in listed.ABBREVIATIONS if "." in a}
    return before_a_name, frozenset(listed.NUMBER_ABBREVIATIONS)


def ends_in_abbreviation(before: str, after: str = "") -> bool:
    """The full stop ending ``before`` is an abbreviation's ("Sheriff (retd.)", "Dr."), given the text
    ``after`` the break (a number after "No.")."""
    if _BRACKETED_ABBREVIATION.search(before.rstrip(")").rstrip()):
        return True
    word = _LAST_WORD.search(before)
    if not word:
        return False
    before_a_name, before_a_number = _abbreviations()
    abbreviation = word.group(1).lower()
    return abbreviation in before_a_name or (abbreviation in before_a_number and after.lstrip()[:1].isdigit())


def sentence_spans(text: str, *, keep_closing_marks: bool = False) -> list[tuple[int, int]]:
    """Where each sentence of one line of text starts and ends, white space trimmed.

    A sentence ends at its end mark; ``keep_closing_marks`` takes the closing quotes or bracket after it
    too (``He said "yes."``), so the sentences can be put back together without losing a character.
    """
    spans: list[tuple[int, int]] = []
    position = 0
    for match in [*SENTENCE_END.finditer(text), None]:
        if match and text[match.start() - 1] in "?!" and len(text[position : match.start()].split()) <= _NAME_WORDS:
            continue
        if match and ends_in_abbreviation(text[position : match.start()], text[match.end() :]):
            continue
        end = len(text)
        if match:
            end = match.start() + (len(match.group().rstrip()) if keep_closing_marks else 0)
        piece = text[position:end]
        stripped = piece.strip()
        if stripped:
            start = position + len(piece) - len(piece.lstrip())
            spans.append((start, start + len(stripped)))
        if match:
            position = match.end()
    return spans


def split_sentences(text: str, *, keep_closing_marks: bool = False) -> list[str]:
    """The sentences of one line of text (see ``sentence_spans``)."""
    return [text[start:end] for start, end in sentence_spans(text, keep_closing_marks=keep_closing_marks)]


def sentences_of(text: str) -> list[str]:
    """The sentences of a text of several lines (an answer, say), each line's list-item marker dropped."""
    return [sentence for line in text.splitlines() for sentence in split_sentences(without_bullet(line))]


# --- page furniture ----------------------------------------------------------------------------------

# A breadcrumb trail, a navigation bar or a running header, copied with a page ("Home > Our funding > Round 2",
# "Cowal Youth Housing Partnership › Blog", "Tail of the Bank Family Network | Final evaluation report | June
# 2025"): where a page is, not what it says.
NAVIGATION = re.compile(r"\s[›»>]\s|(?:\s\|\s.*){2}")


# --- list items --------------------------------------------------------------------------------------

# A list item's marker at the start of a line, with the space after it: "- ", "• ", "▶ ", "1. ", "2) ".
BULLET = re.compile(r"^\s*(?:[-*•▶►▪→]|\d{1,2}[.)])\s+")


def without_bullet(line: str) -> str:
    """The line without its list-item marker (if it has one)."""
    return BULLET.sub("", line)


# --- citation markers --------------------------------------------------------------------------------

# A citation marker in plain text, "[1]" or "[1, 2]", with the space before it; group 1 holds the numbers.
CITATION = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
# A one-number marker "[n]" after Markdown escaping ("\[n\]"); group 1 holds the number.
ESCAPED_CITATION = re.compile(r"\\\[(\d+)\\\]")


def cited_numbers(text: str) -> list[int]:
    """The passage numbers the markers in ``text`` cite, in order: "a [1]. b [2, 3]." -> [1, 2, 3]."""
    return [int(number) for group in CITATION.findall(text) for number in re.split(r"[,;]", group)]


def without_citations(text: str) -> str:
    """``text`` without its citation markers (nor the space before each); not otherwise trimmed."""
    return CITATION.sub("", text)


# Where a streamed answer reaches its next sentence: an end mark, the markers citing that sentence, white
# space, then anything (``match.end()`` is where the next sentence starts).
CITED_SENTENCE_END = re.compile(r"[.!?](?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*\s+(?=\S)")


# --- questions ---------------------------------------------------------------------------------------

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Control characters, and UTF-16 surrogates standing alone (a JSON "\ud800", or bytes that were not UTF-8 on
# a command line), which no file, database or page can store.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def clean_query(query: str) -> str:
    """The question as typed, without terminal colour codes, control characters or lone surrogates pasted
    with it, and with its white space collapsed."""
    cleaned = _ANSI_ESCAPE.sub(" ", query)
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", cleaned)).strip()


# The sector's shorthand, as people type it ("sw students", "LAs", "ceyp"), and what the notes write instead.
_SHORTHAND = {
    "sw": "social work",
    "uni": "university",
    "la": "local authority",
    "las": "local authorities",
    "yp": "young people",
    "cyp": "children and young people",
    "ceyp": "care experienced young people",
    "lac": "looked after children",
    "asn": "additional support needs",
    "ppl": "people",
    "kids": "children",
    "exec": "executive",
    # contractions typed without their apostrophe, which neither the parser nor the patterns read otherwise
    "whats": "what's",
    "whos": "who's",
    "wheres": "where's",
    "hows": "how's",
    "whens": "when's",
}
_SHORTHAND_WORD = re.compile(rf"(?<![\w'’-])({'|'.join(_SHORTHAND)})(?![\w'’-])", re.IGNORECASE)


def spelled_out(question: str) -> str:
    """The question with the sector's shorthand written as the notes write it ("sw students" is "social
    work students"), and in sentence case when typed in title case ("When Was The Forum Held?"), so word
    matching and the embedder both see the notes' words and every capital is not taken for a name."""

    def written_out(match: re.Match[str]) -> str:
        word = match.group()
        if word.lower() in ("la", "las") and not word.startswith("LA"):
            return word  # "la" in lower case is a word of its own; only "LA" and "LAs" are the council
        return _SHORTHAND[word.lower()]

    return _SHORTHAND_WORD.sub(written_out, _sentence_cased(question))


_TITLE_WORD = re.compile(r"[A-Za-z][\w'’-]*")
# The words that hold a question together, which only title case capitalises: lower-cased, they leave the
# capitals of what it names ("When Was The Kinship Forum Held?" names the Kinship Forum; "Who Is The Current
# First Minister?" still names a First Minister the notes never mention).
_SMALL_WORDS = frozenset(
    "the of was is are were be been a an in on for and or to did does do what when where who whom how which with "
    "at by from about into there their they it its this that these those has have had can could would will "
    "should held hosted run runs ran started begin began take took place happen happened say said find found "
    "mean means stand work works help helps get got tell me you i we our my any anyone".split()
)


def _sentence_cased(question: str) -> str:
    """A question typed in title case (its small words capitalised too) with its small words in lower case,
    but the first of each sentence. Any other question as it is."""
    words = _TITLE_WORD.findall(question)[1:]
    small = [word for word in words if word.lower() in _SMALL_WORDS]
    if len(small) < 2 or not all(word[0].isupper() for word in words):
        return question

    def lowered(match: re.Match[str]) -> str:
        word = match.group()
        opens = match.start() == 0 or re.search(r"[.!?]\s+$", question[: match.start()])
        return word.lower() if word.lower() in _SMALL_WORDS and word != "I" and not opens else word

    return _TITLE_WORD.sub(lowered, question)


def query_problem(cleaned: str, max_chars: int) -> str | None:
    """Why a cleaned question (see ``clean_query``) cannot be run, as one sentence for the user; None if it can.
    The caller raises the project's error with it."""
    if not cleaned:
        return "The question is empty: type a few words about what you are looking for."
    if len(cleaned) > max_chars:
        return (
            f"The question is {len(cleaned):,} characters long; the limit is {max_chars:,}. "
            "Please shorten it to the essentials."
        )
    if not WORD.search(cleaned.lower()):
        return "The question has no words in it: type a few words about what you are looking for."
    return None


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 passage``, ``2 passages``, ``0 passages``."""
    return f"{count} {noun if count == 1 else plural_noun or noun + 's'}"


# --- names -------------------------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
WHO_SEPARATOR = " – "


def fold(text: str | None) -> str:
    """Case- and apostrophe-insensitive form for matching names ("King's" finds "King’s")."""
    return (text or "").lower().replace("’", "'")


# A possessive ending ("Circle Group's"): a name without it is the name.
POSSESSIVE = re.compile(r"['’]s?$")


def who_label(organisation: str | None, project: str | None) -> str:
    """Whom a passage is about, as one label: "organisation – project", either alone when the other is
    missing, and the organisation alone when the project's name is already in it; "" for general notes."""
    if organisation and project and project.lower() not in organisation.lower():
        return f"{organisation}{WHO_SEPARATOR}{project}"
    return organisation or project or ""
