"""Grounding checks, enforced in code: relevance, answerability, and support for every sentence."""

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from assistant.answer.framing import ABOUT_ASKER, asked_part, framing_removed
from assistant.answer.language import Language
from assistant.answer.meaning import departures, read
from assistant.models import MONTH_NAMES, WEEKDAY_NAMES, Passage, SearchResult, spelled_date
from assistant.text import (
    NUMBER_WORDS,
    POSSESSIVE,
    cited_numbers,
    fold,
    sentences_of,
    split_sentences,
    stem,
    tokenize,
    without_citations,
)

# Months and weekdays are dates, never unknown names.
_CALENDAR = frozenset(word.lower() for word in (*MONTH_NAMES, *WEEKDAY_NAMES))
# Endings that make another form of one word ("Africa" and "African", "Fife" and "Fifes").
_WORD_FORMS = ("s", "es", "n", "an", "ans", "ian", "ians", "ns")
_NUMBER = re.compile(r"(?<![A-Za-z])\d+(?:[.,]\d+)*%?(?![A-Za-z])")  # "any1" and "1st" hold no figure
_NUMBER_WORD = re.compile(rf"\b({'|'.join(NUMBER_WORDS)})\b", re.IGNORECASE)
# Figures that are part of a name ("Plan 21-24", "Year 2"): the name, not a claim about a figure; a month, or a
# word such as "In" or "Since" before a year, makes a date.
_NAMED_FIGURES = re.compile(r"\b([A-Z][\w’'-]*)\s+(\d+(?:\s*[-–]\s*\d+)?)\b")
_NOT_NAMING = frozenset(
    {month.lower() for month in MONTH_NAMES}
    | set("in since on at by from to for of before after until during year years".split())
)
# A name in a sentence: capitalised words in a row. Opening a sentence, the first may be a name or only the
# sentence's capital: the parse tells (``Language.opens_with_name``).
_NAME = re.compile(r"\b[A-Z][a-zA-Z’'-]{2,}(?:\s+[A-Z][a-zA-Z’'-]{2,})*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:])\s*$")  # what comes before a word opening a sentence
# A name in a question: capitalised words (or an acronym) not opening a sentence, "I" aside.
_QUESTION_NAME = re.compile(r"(?<![.!?]\s)(?<!^)(?<!\S)(?!I\b)[A-Z][\w’'-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w’'-]*)*")
_AFTER_POSSESSIVE = re.compile(r"(?<=['’]s)\s+")
# A short sentence ending on one of these was cut from what it introduces ("The seven reports are [1].").
_CUT_HEAD_WORDS = 10
_DANGLING_END = re.compile(
    r"(?:\b(?:are|is|were|was|include|includes|including|of|to|the|a|an|and|or|with|by|for|as|such as)|:)\s*$",
    re.IGNORECASE,
)
# A sentence of any length ending on these words, with no full stop, breaks off ("... sessions focussing on").
_BROKEN_OFF = re.compile(r"\b(?:the|a|an|and|or|of|such as|[a-z]+ing (?:on|at|to|with))\s*$")
# The framing of a request ("Can you pull together a one-page note for councillors, with sources, on what the
# notes say about ..."), not its subject.
_REQUEST = re.compile(
    r"^\s*(?:please\s+|(?:can|could|would|will)\s+you\s+(?:please\s+)?|i\s+(?:need|want|would like|'d like)\s+)?"
    r"(?P<verb>(?:prepare|write(?:\s+up)?|draft|produce|give|make|create|do|pull together|put together|"
    r"summari[sz]e|brief)\s+"
    r"(?:me\s+|us\s+)?)?"
    r"(?:an?\s+)?(?:(?:short|brief|quick|one-page|one page|1-page|two-page|written)\s+)*"
    r"(?P<noun>briefing|summary|overview|note|report|brief|one-pager|paper|update)?"
    r"(?:\s*,?\s*with\s+(?:sources|citations|references)\s*,?)?"
    r"(?:\s+of\s+|(?:\s*\bfor\s+(?:(?:my|our|the|a|an|new)\s+)?[\w' -]{1,40}?)?"
    r"\s*\b(?:on|about|regarding|covering|explaining|what)\s+)",
    re.IGNORECASE,
)
_BRIEFING_NOUN = re.compile(r"\b(briefing|brief|note|summary|overview)\b", re.IGNORECASE)
_TELL_ME = re.compile(
    r"^\s*(?:please\s+)?(?:tell me|what (?:do |did )?(?:the )?notes (?:say|said))\s+(?:about|on)\s+", re.IGNORECASE
)
# Who the briefing is for ("..., for a team meeting", "for my director") and how it is to be written ("with
# sources please", "drawing on the notes"), at its end: not what it is about.
_AUDIENCE = re.compile(
    r"(?:,?\s+for\s+(?:my|our|the|a|an|new)\s+(?:[\w'-]+\s+){0,3}(?:director|manager|team|meeting|board|members|"
    r"councillors|colleagues|group|forum|workshop|service|executive|committee|staff|partners|head|lead|chief|paper|"
    r"pack|report|newsletter|presentation|slides)"
    r"(?:\s+[\w'-]+){0,2}|,?\s+(?:with\s+(?:sources|citations|references)|(?:drawing|based)\s+on\s+the\s+notes)"
    r"(?:\s+please)?)\s*[.?!]?\s*$",
    re.IGNORECASE,
)
# Briefing framing ahead of the subject: who asked ("Head teachers have asked what ..."), a label before a colon
# naming the briefing ("Short briefing for our senior leadership team, please: what ..."), a leading verb
# ("Summarise the Participation Network event"), and "what the notes say about" / "what's being done around".
_ASKED_BY = re.compile(r"^.{0,80}?\b(?:have|has|had)\s+asked\s+(?:me\s+|us\s+)?(?:for\s+|about\s+)?", re.IGNORECASE)
_LABELLED_REQUEST = re.compile(
    r"^[^:]{0,80}\b(?:briefing|brief|note|summary|overview|update)\b(?![^:]*\b(?:of|on|about|regarding)\b)[^:]{0,60}:\s+",
    re.IGNORECASE,
)
_LEADING_VERB = re.compile(
    r"^(?:(?:can|could|would)\s+you\s+)?(?:please\s+)?"
    r"(?:summari[sz]e|describe|outline|explain|write up|brief me on|give me an overview of|an overview of)\s+",
    re.IGNORECASE,
)
# "what the notes say about", "what the showcase projects learned about", "what's being done around": who says
# it only when it is the notes or their projects, never a name ("what has Aberlour found about").
_NOTES_SAY = re.compile(
    r"^(?:what(?:'s| is| are)?\s+)?(?:(?:the\s+)?(?:[\w-]+\s+)?(?:notes?|projects?|organisations?|services?)\s+)?"
    r"(?:say|says|said|tell us|learned|learnt|found|show|shows|showed|are doing|did|being done|is being done|done|"
    r"comes up in the notes|come up in the notes)\s+(?:about|on|around|regarding|for|to)\s+",
    re.IGNORECASE,
)
# A clause break before the question proper ("I'm writing a note for finance colleagues — what comes up ...").
_CLAUSES = re.compile(r"(?<=[?!.])\s+|\s+[—–-]\s+(?=(?:what|how|which|who|where|when|are|is|has|have)\b)", re.I)
# Words that only ask for a briefing ("Can you brief me, with sources?", "Examples from specific projects please").
_REQUEST_WORDS = frozenset(
    "please can could would you me us i we need want draft write prepare give make produce summarise summarize "
    "brief briefing note summary overview short quick one page sources citations references examples example "
    "specific projects project with from a an the for my our thanks thank cheers it this that of".split()
)
NOT_COVERED = "The notes don't cover this."
# A word the notes never use weighs in proportion to its rank among the embedder's words (most frequent
# first) up to this rank, and at least this share of the rarest word's weight.
_EVERYDAY_RANKS = 8000
_EVERYDAY_FLOOR = 0.5


@dataclass(frozen=True)
class SupportedSentence:
    text: str  # without citation markers
    passages: tuple[int, ...]  # 1-based numbers of the supplied passages that support it


def render(sentence: SupportedSentence, citations: dict[int, int]) -> str:
    """A verified sentence with its citation markers, numbered in the order they are first shown
    (``citations`` maps a supplied passage's number to the number shown, and grows)."""
    markers = []
    for supplied in sentence.passages:
        shown = citations.setdefault(supplied, len(citations) + 1)
        markers.append(f"[{shown}]")
    text = sentence.text.rstrip()
    end = text[-1] if text[-1] in ".!?" else "."
    return f"{text.rstrip('.!?')} {''.join(markers)}{end}"


def strip_citations(sentence: str) -> tuple[str, list[int]]:
    return without_citations(sentence).strip(), cited_numbers(sentence)


def subject_of(question: str) -> str:
    """The question without request framing, for relevance and retrieval."""
    request = _REQUEST.match(question.strip())
    framed = request and (request["verb"] or request["noun"] or _BRIEFING_NOUN.search(request.group()))
    asked = question.strip()[request.end() :] if request and framed else question
    subject = _TELL_ME.sub("", asked.strip(), count=1)
    return re.sub(r"\s+", " ", subject).strip(" ,.?") or question


def briefing_subject(request: str) -> str:
    """What a briefing request is about, sentence by sentence: each one's subject (``subject_of``) without who
    it is for or how it is to be written (", for a team meeting", "with sources please"), who asked for it
    ("Head teachers have asked what ..."), a label before a colon ("Short briefing for our board, please:")
    or a leading "Summarise"; sentences that only ask for the briefing ("Draft a short brief.") or say what
    the asker is doing ("I'm putting together an induction pack.") are dropped while another says more.
    Only for briefings: in a chat question "for a kinship carers group" is what it asks about."""
    subjects: list[str] = []
    about_asker: list[str] = []
    clauses = (part for sentence in split_sentences(" ".join(request.split())) for part in _CLAUSES.split(sentence))
    for sentence in clauses:
        sentence = _ASKED_BY.sub("", _LABELLED_REQUEST.sub("", sentence, count=1), count=1)
        subject = _AUDIENCE.sub("", subject_of(sentence), count=1).strip(" ,.?:—–-")
        subject = _NOTES_SAY.sub("", _LEADING_VERB.sub("", subject, count=1), count=1).strip(" ,.?:—–-")
        if not subject or set(re.findall(r"[a-z]+", subject.lower())) <= _REQUEST_WORDS:
            continue
        (about_asker if ABOUT_ASKER.match(subject) else subjects).append(subject)
    chosen = " — ".join(subjects or about_asker)
    return chosen or subject_of(request)


def _squashed(text: str) -> str:
    """Lower case, one kind of dash with no spaces around it: "Plan 21 - 24" is "plan 21-24"."""
    return re.sub(r"\s*[-–—]\s*", "-", " ".join(text.lower().split()))


def evidence(passage: Passage) -> str:
    """What a passage says: its text (without lines that talk to an AI), and its fields from the notes (date,
    place, the contact they give)."""
    meta = passage.metadata
    return "\n".join(part for part in (passage.said, spelled_date(meta.date), meta.place, meta.contact) if part)


def _used(name: str, text: str) -> bool:
    """``text`` uses the name, or names run together in it ("Participation Officer Love Inc" is "participation
    officer" and "love inc"): it splits into parts of two words or more that the text uses, the last part
    possibly one word."""
    words = name.split()
    if not words:
        return True
    for end in range(len(words), 0, -1):
        part = " ".join(words[:end])
        if (end >= 2 or end == len(words)) and re.search(rf"(?<!\w){re.escape(part)}(?!\w)", text):
            return end == len(words) or _used(" ".join(words[end:]), text)
    return False


def _numbers(text: str) -> set[str]:
    """The figures of a text, a number written as a word among them ("the two-house tool" holds 2)."""
    spelled = {NUMBER_WORDS[word.lower()] for word in _NUMBER_WORD.findall(text)}
    return {n.rstrip("%").replace(",", "") for n in _NUMBER.findall(text)} | spelled


def _names(text: str) -> set[str]:
    """The names of a passage: capitalised runs, the first word of a sentence included."""
    return {name.lower().replace("’", "'") for name in _NAME.findall(text)}


class Grounding:
    """Scores how well passages cover a question and whether a sentence is supported by a passage.

    ``idf`` comes from the BM25 index: rare words weigh more. Words the notes never use weigh as much
    as the rarest word (everyday English words less), so a question about something absent scores low
    however common its other words.
    """

    def __init__(
        self,
        idf: Mapping[str, float],
        relevance_threshold: float,
        support_threshold: float,
        language: Language,
        vocabulary: Mapping[str, int] = {},
        generic_share: float = 0.15,
    ) -> None:
        self._idf = idf
        self.language = language
        # Okapi idf is log((N - n + 0.5) / (n + 0.5)): a word in more than ``generic_share`` of the passages
        # has an idf below this.
        self._generic_idf = math.log((1 - generic_share) / generic_share)
        self._unknown_weight = max(idf.values(), default=1.0)
        self.relevance_threshold = relevance_threshold
        self.support_threshold = support_threshold
        # Real words (the embedder's tokenizer knows them whole), by their stems as questions are tokenized,
        # with the rank of their most frequent form; other unknown tokens are shorthand or typos.
        self._word_ranks: dict[str, int] = {}
        for word, rank in vocabulary.items():
            for form in (word, stem(word)):
                self._word_ranks[form] = min(rank, self._word_ranks.get(form, rank))

    def is_noise(self, token: str) -> bool:
        """Shorthand or a typo ("any1", "smth", "ppl"): it says nothing about the subject either way."""
        return token not in self._idf and (len(token) < 2 or (bool(self._word_ranks) and token not in self._word_ranks))

    def specific(self, token: str) -> bool:
        """The word picks out a subject: the notes never use it, or use it in few passages (see
        ``generic_share``)."""
        return token not in self._idf or self._idf[token] >= self._generic_idf

    def everyday(self, token: str) -> bool:
        """An everyday English word ("circle", "kids"): among the embedder's most frequent words."""
        rank = self._word_ranks.get(token)
        return rank is not None and rank < _EVERYDAY_RANKS

    def unfamiliar(self, token: str) -> bool:
        """Neither a word of the notes nor an everyday English word ("cranachan", "ofsted")."""
        if token in self._idf or not self._word_ranks:
            return False
        rank = self._word_ranks.get(token)
        return rank is None or rank >= _EVERYDAY_RANKS

    def content_tokens(self, question: str) -> list[str]:
        """The words a question is about: its framing ("I'm a ... has anyone") and shorthand removed."""
        subject = framing_removed(subject_of(question)) or question
        return [token for token in tokenize(subject) if not self.is_noise(token)]

    def _known(self, token: str) -> bool:
        """The notes use the word, or a longer or shorter form of it ("Africa" for "African")."""
        if token in self._idf or len(token) < 4 or token in _CALENDAR:
            return True
        return any(token + ending in self._idf for ending in _WORD_FORMS) or any(
            token.endswith(ending) and token[: -len(ending)] in self._idf for ending in _WORD_FORMS
        )

    def unknown_names(self, question: str) -> list[str]:
        """Names in the question (capitalised, not opening a sentence) with a word the notes never use.

        "Kinship Care Allowance", "Ofsted", "Republic of Ireland": a question about something the notes
        never name is about something else, however close its other words.
        """
        unknown = []
        for match in _QUESTION_NAME.finditer(question.strip()):
            if match.group().isupper():
                continue  # an acronym may be the asker's own shorthand ("CEYP")
            tokens = [token for token in tokenize(match.group()) if len(token) >= 3]
            if any(not self._known(token) for token in tokens):
                unknown.append(match.group())
        return unknown

    @staticmethod
    def names_not_used(question: str, passages: Sequence[Passage], also: str = "") -> tuple[list[str], list[str]]:
        """The names of two words or more the question gives ("Kinship Learning Forum"), and those of them
        the passages (or ``also``, text that speaks for them) do not use as such."""
        text = " ".join([*(evidence(passage) for passage in passages), also]).lower().replace("’", "'")
        names = [
            POSSESSIVE.sub("", name)
            for match in _QUESTION_NAME.finditer(question.strip())
            if not match.group().isupper()  # "WHEN WAS IT HELD" is shouting
            # A possessive ends a name: "the Linnhe Trust's Bridges Fund" names the Linnhe Trust and its fund.
            for name in _AFTER_POSSESSIVE.split(match.group())
            if len(name.split()) >= 2
        ]
        return names, [name for name in names if not _used(name.lower().replace("’", "'"), text)]

    def uses_names_given(self, question: str, passages: Sequence[Passage]) -> bool:
        """The question gives names of two words or more, and the passages use every one of them as such."""
        names, unused = self.names_not_used(question, passages)
        return bool(names) and not unused

    def _weight(self, token: str) -> float:
        """A word's idf; a word the notes never use weighs as much as their rarest, less if it is an everyday
        word ("kids", "stuff"): its absence says less about the subject."""
        if token in self._idf:
            return max(self._idf[token], 0.05)
        rank = self._word_ranks.get(token)
        share = 1.0 if rank is None else min(1.0, max(_EVERYDAY_FLOOR, rank / _EVERYDAY_RANKS))
        return max(self._unknown_weight * share, 0.05)

    def coverage(self, question: str, text: str) -> float:
        """Share of the question's (idf-weighted) words that ``text`` contains."""
        wanted = {token for token in tokenize(question) if not self.is_noise(token)}
        if not wanted:
            return 0.0
        present = set(tokenize(text))
        total = sum(self._weight(token) for token in wanted)
        return sum(self._weight(token) for token in wanted if token in present) / total

    def relevance(
        self, question: str, results: Sequence[SearchResult], sentence_similarity: float | None = None
    ) -> float:
        """How well the notes match: mean of the best similarity by meaning and the best word coverage.

        The similarity is the best sentence's (``sentence_similarity``) when known, else the best
        passage's. Coverage counts the question's content words only (see ``content_tokens``), so a
        long first-person question is judged on what it asks about; a word the notes never use weighs
        as much as the rarest word they do, or less if it is an everyday word (see ``_weight``).
        """
        subject = " ".join(self.content_tokens(question))
        dense = max((max(result.dense_similarity or 0.0, 0.0) for result in results), default=0.0)
        similarity = dense if sentence_similarity is None else max(sentence_similarity, 0.0)
        coverage = max((self.coverage(subject, evidence(result.passage)) for result in results), default=0.0)
        return (similarity + coverage) / 2

    def support(self, sentence: str, passage: Passage) -> float:
        """Share of the sentence's content words found in the passage; 0 if a number or name is not there.

        The passage's fields from the notes (its date, place and the contact the notes give) count as
        part of it: a sentence may state them.
        """
        text = evidence(passage)
        if not _numbers(sentence) <= _numbers(text):
            return 0.0
        if self.names_not_in(sentence, text):
            return 0.0
        words = set(tokenize(sentence))
        if not words:
            return 0.0
        present = set(tokenize(text))
        total = sum(math.sqrt(self._weight(token)) for token in words)
        return sum(math.sqrt(self._weight(token)) for token in words if token in present) / total

    def names_not_in(self, sentence: str, text: str) -> list[str]:
        """The names ``sentence`` gives that ``text`` never uses, wherever they stand in it: a capitalised
        word opening the sentence counts when the parse reads it as a name ("Barnardo's created ..."), not
        when it is only the sentence's capital ("The", "Participants")."""
        known = fold(text)
        missing = []
        for match in _NAME.finditer(sentence):
            name = match.group()
            if fold(name) in known:
                continue
            if _SENTENCE_START.search(sentence[: match.start()]):
                rest = name.split(maxsplit=1)[1:]  # the first word may be the sentence's capital alone
                if not self.language.opens_with_name(sentence[match.start() :]):
                    if not rest or fold(rest[0]) in known:
                        continue
                    name = rest[0]
            missing.append(name)
        return missing

    def holds(self, sentence: str, passage: Passage) -> bool:
        """The sentence says nothing the passage does not, by meaning (``meaning.departures``): no noun,
        negation or quantity of its own. Words of the passage's label (its event, organisation, project) count
        as the passage's: the model reads them beside it."""
        meta = passage.metadata
        label = " ".join(part for part in (meta.event, meta.organisation, meta.project, meta.who) if part)
        reading = read(self.language.parse(evidence(passage)))
        label_words = set(re.findall(r"[a-z]+", label.lower()))  # "Children's", "Care-Experienced" in parts
        label_words |= {word.removesuffix("s") for word in label_words}
        return not departures(self.language.parse(sentence), reading, label_words)

    def verify(
        self,
        draft: str,
        passages: Sequence[Passage],
        by_line: bool = False,
        dropped: list[str] | None = None,
    ) -> list[SupportedSentence]:
        """Keep each sentence only with passages that support it; re-attribute a wrong citation to the best one.

        ``by_line``: each line of the draft is one quote from the notes (a list joined to its head, or a
        sentence after its project's name, which may end in "?" as "Why Not? Trust" does), checked whole.
        Otherwise the draft is a model's, and each sentence must also hold by meaning (``holds``) with a
        passage that supports it. ``dropped`` collects the sentences no passage supports.
        """
        kept: list[SupportedSentence] = []
        pieces = [line.strip() for line in draft.splitlines() if line.strip()] if by_line else sentences_of(draft)
        for raw in pieces:
            sentence, cited = strip_citations(raw)
            if len(tokenize(sentence)) < 2 or sentence.rstrip(".").lower() in NOT_COVERED.lower():
                continue
            while not sentence.rstrip().endswith((".", "!", "?", '"', "”")) and _BROKEN_OFF.search(sentence):
                # Broken off (in the notes, or at a chunk's end): shown without the words left hanging.
                sentence = _BROKEN_OFF.sub("", sentence.rstrip()).rstrip(" ,;:-–")
            if len(tokenize(sentence)) < 2:
                continue
            bare = sentence.rstrip(" .")
            if _DANGLING_END.search(bare) and (bare.endswith(":") or len(sentence.split()) <= _CUT_HEAD_WORDS):
                continue  # a list head cut from its list says nothing
            scores = {n: self.support(sentence, passages[n - 1]) for n in range(1, len(passages) + 1)}

            def supports(n: int, sentence: str = sentence, scores: dict[int, float] = scores) -> bool:
                return scores[n] >= self.support_threshold and (by_line or self.holds(sentence, passages[n - 1]))

            valid = [n for n in dict.fromkeys(cited) if n in scores and supports(n)]
            if not valid:
                best = next((n for n in sorted(scores, key=lambda n: -scores[n]) if supports(n)), None)
                if best is None:
                    if dropped is not None:
                        dropped.append(sentence)
                    continue  # no passage says this: the sentence goes
                valid = [best]
            kept.append(SupportedSentence(sentence, tuple(valid)))
        return kept

    def answers_question(
        self,
        question: str,
        sentences: Sequence[SupportedSentence],
        passages: Sequence[Passage],
        document: Callable[[str], str] = lambda source: "",
    ) -> bool:
        """Something is kept, and the question's own numbers (a year, a figure) are in the cited passages:
        a question about 2023 is not answered by notes of 2024. Figures in what the asker says of
        themselves ("we work with 16 to 25 year olds") are their situation, not what they ask about. A
        figure of a name ("Plan 21-24") may be in the cited passages' notes (``document``: a source's text)
        instead: a passage under the plan's heading need not repeat the plan's name."""
        if not sentences:
            return False
        cited = [passages[n - 1] for s in sentences for n in s.passages]
        asked = asked_part(question)
        missing = _numbers(asked) - _numbers(" ".join(evidence(passage) for passage in cited))
        if not missing:
            return True
        notes = _squashed(" ".join(document(source) for source in dict.fromkeys(p.metadata.source for p in cited)))
        named = {
            figure
            for match in _NAMED_FIGURES.finditer(asked)
            if match.group(1).lower() not in _NOT_NAMING and _squashed(match.group()) in notes  # the whole name
            for figure in _numbers(match.group(2))
        }
        return missing <= named
