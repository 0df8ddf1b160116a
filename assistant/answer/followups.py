"""Follow-ups: a question that leans on the conversation ("can I contact them?") made standalone, from
the organisations, projects, events and acronyms the previous answer named; a model may rewrite it first."""

import re
from collections.abc import Sequence

from spacy.tokens import Token

from assistant.answer.framing import CARRIED
from assistant.answer.gate import Gate
from assistant.answer.generation import ModelText
from assistant.answer.grounding import Grounding, strip_citations, subject_of
from assistant.answer.language import DEMONSTRATIVES, Language
from assistant.answer.lexicon import DETAIL_NOUNS
from assistant.prompts import Prompts
from assistant.retrieval import HybridRetriever
from assistant.settings import Settings
from assistant.text import CITATION, POSSESSIVE, tokenize

PRONOUN = re.compile(r"\b(it|its|they|them|their|this|that|these|those|he|she|there|else)\b", re.IGNORECASE)
# A name in an answer: capitalised words, possibly joined by "of", "and", "for" ("Plan 21-24", "Bright Spots").
_NAME_IN_ANSWER = re.compile(r"\b[A-Z][\w'’#-]*(?:\s+(?:of\s+|and\s+|for\s+)?[A-Z0-9][\w'’#-]*)*")
# An acronym the previous answer used ("CARM", "SPRAG"): a follow-up may ask what it stands for.
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,7}\b")
# "The second one", "the latter", "the other project": one of the projects the previous answer named.
_ORDINAL = re.compile(
    r"\bthe (first|second|third|fourth|former|latter|last|other)"
    r"(?=\s+(?:one|project|organisation|organization|group|team|council|charity|example|table|poster)s?\b|\s*[?.!]?\s*$"
    r"|\s*[-–,])",
    re.IGNORECASE,
)
# The pointing words of an ordinal reference, with the noun they point with ("the second one", "the latter").
_POINTER = re.compile(_ORDINAL.pattern + r"(?:\s+\w+)?", re.IGNORECASE)
# Where a sentence listing points after its colon joins them ("...: Love Inc recruiting a Participation Officer
# [1], and the Bright Spots pilot [1]", with the markers taken out): a semicolon, or a comma before "and" ("A and B"
# alone may be one point: "Families Outside and Project Change" hosted one table).
_LIST_JOINS = re.compile(r"\s*;\s+|,\s+and\s+")
_LEADING_AND = re.compile(r"^\s*and\s+")
# A carried name mentioned in more passages than this (an event's name) says too little to read them first.
_MOST_MENTIONS = 12
_REWRITE_TOKENS = 60
_SHORTHAND_LETTERS = 4
_TURNS_SHOWN = 4
_TURN_CHARACTERS = 400


class FollowUps:
    def __init__(
        self,
        retriever: HybridRetriever,
        gate: Gate,
        settings: Settings,
        prompts: Prompts,
        language: Language,
        model: ModelText | None = None,
    ) -> None:
        self.retriever = retriever
        self.language = language
        self.gate = gate
        self.settings = settings
        self.prompts = prompts
        self.model = model

    def standalone(self, question: str, history: Sequence[dict[str, str]]) -> str:
        """The question as it would be asked without the conversation; raises GeneratorFailed."""
        if not history or not self.leans_on_history(question, history):
            return question  # a new topic: nothing of the conversation is carried into it
        if self.model is not None:
            rewritten = self._rewritten(question, history)
            if rewritten:
                return rewritten
        return self.carry_entities(question, history)

    def _rewritten(self, question: str, history: Sequence[dict[str, str]]) -> str | None:
        assert self.model is not None
        conversation = "\n".join(
            f"{turn['role']}: {turn['content'][:_TURN_CHARACTERS]}" for turn in history[-_TURNS_SHOWN:]
        )
        messages = self.prompts.rewrite.format_messages(conversation=conversation, question=question)
        text = "".join(self.model.stream(messages, max_tokens=_REWRITE_TOKENS)).strip().strip('"')
        first_line = text.splitlines()[0].strip() if text else ""
        if not first_line or len(first_line) > 3 * len(question) + 200:
            return None
        return self.carry_entities(first_line, history) if PRONOUN.search(first_line) else first_line

    def carry_entities(self, question: str, history: Sequence[dict[str, str]]) -> str:
        """A question that leans on the conversation ('can I contact them?') takes its subject from it.

        The subject is what the last answer that named something was about: the organisations, projects and
        events it named and the acronyms it used; failing those, the last question's subject. "The second
        one" or "the other project" takes that one of the projects the answer named. A question that does
        not lean on the conversation (see ``leans_on_history``) is returned as it is.
        """
        previous = [turn["content"] for turn in history if turn.get("role") == "user"]
        answers = [turn["content"] for turn in history if turn.get("role") == "assistant"]
        if not (previous or answers) or not self.leans_on_history(question, history):
            return question
        answer = next((answer for answer in reversed(answers) if self.named_groups(answer)), "")
        items = _cited_items(answer)
        chosen = _ordinal(question, len(items))
        groups = self.named_groups(items[chosen] if chosen is not None else answer)
        named = [name for group in groups for name in group][: self.settings.follow_up_names]
        subject = "; ".join(named) if named else subject_of(previous[-1]) if previous else ""
        return f"{question} ({subject})" if subject else question

    def leans_on_history(self, question: str, history: Sequence[dict[str, str]]) -> bool:
        """The question leans on the conversation: it points at one of the last answer's points ("the second
        one"), refers back with a pronoun its own words leave unresolved ("who runs it?", "when was that?"),
        or names no subject the last turn did not: only details ("contact details?", "when's the deadline?"),
        what is already known ("what were the challenges?"), or the last turn's own subjects. A question
        naming a subject of its own that the last turn did not ("any projects working with dads?", "is Dundee
        far from Perth?") is a new topic, however short."""
        grounding = self.gate.grounding
        if _ORDINAL.search(question) or self.language.refers_back(question, lambda word: _shorthand(word, grounding)):
            return True
        last = [turn["content"] for turn in history if turn.get("role") in ("user", "assistant")][-2:]
        said = set(tokenize(" ".join(last)))
        for word in self.language.content_words(question):
            if word.lemma_.lower() in DETAIL_NOUNS or _known_already(word):
                continue
            stems = [stem for stem in tokenize(word.text) if word.text[:1].isupper() or not _shorthand(stem, grounding)]
            if any(grounding.specific(stem) and stem not in said for stem in stems):
                return False
        return True

    @staticmethod
    def without_pointer(question: str) -> str:
        """The question without the words pointing at one of the last answer's points ("what's the second one
        about?" asks "what's about?" of it): they choose the subject, not the sentences said of it."""
        return _POINTER.sub(" ", question)

    @staticmethod
    def carried(standalone: str) -> list[str]:
        """The names a standalone follow-up carries from the conversation ("(Workshop B; Perth)")."""
        found = CARRIED.search(standalone)
        return found.group(1).split("; ") if found else []

    def scope(self, standalone: str) -> set[str] | None:
        """The passages about what a standalone follow-up carries from the conversation ("What did they find?
        (Passion4Fusion)"), to be read first: those about the first carried name that has a few, and the rest of
        their document where it names no projects (an evaluation's recommendations are about the programme
        its title page names); else None."""
        for name in self.carried(standalone):
            about = self.retriever.about(name, _MOST_MENTIONS)
            if about:
                return self.retriever.documents_about(about)
        return None

    def named_groups(self, answer: str) -> list[list[str]]:
        """What an answer names, in its order, one group per project: an organisation and its project
        ("Midlothian Council", "Systemic Family Practice") are one; an event or another name stands alone."""
        text, _ = strip_citations(answer)
        folded = text.replace("’", "'")
        names: dict[str, int] = {}
        units: dict[str, set[str]] = {}
        for passage in self.retriever.passages:
            meta = passage.metadata
            for name in (meta.organisation, meta.project, meta.event):
                if name and len(name) > 3:
                    if name not in names:
                        position = folded.find(name.replace("’", "'"))
                        if position < 0:
                            continue
                        names[name] = position
                    if name != meta.event:
                        units.setdefault(name, set()).add(meta.unit_id)
        idf = self.retriever.idf()
        # Other names the answer gives that the notes use ("Bright Spots", "Plan 21-24"), and its acronyms.
        for match in [*_NAME_IN_ANSWER.finditer(text), *_ACRONYM.finditer(text)]:
            name = POSSESSIVE.sub("", match.group())
            words = tokenize(name)
            sentence_start = match.start() == 0 or text[: match.start()].rstrip().endswith((".", "!", "?", ":"))
            known = (len(name.split()) > 1 or name.isupper()) and bool(words) and all(word in idf for word in words)
            # At a sentence's start any word has a capital: there the phrase must be one the notes write
            # ("Plan 21-24"), not the opening of "Only 56% agreed".
            if sentence_start and known:
                known = len(name.split()) > 1 and any(
                    name in self.retriever.document_text(source) for source in self.retriever.documents
                )
            if known and name not in names:
                names[name] = match.start()
        ordered = sorted(names, key=lambda name: names[name])
        # A name inside a longer one ("Promise" in "Promise Learning Collaborative") adds nothing.
        kept = [name for name in ordered if not any(name != other and name in other for other in ordered)][:4]
        groups: list[list[str]] = []
        for name in kept:
            group = next((g for g in groups if units.get(name, set()) & units.get(g[0], set())), None)
            if group is None:
                groups.append([name])
            else:
                group.append(name)
        return groups


def _shorthand(word: str, grounding: Grounding) -> bool:
    """Chat shorthand ("tbh", "hiya", "thx"): short, and neither the notes' nor the embedder's word. A longer
    word unknown to both is still a subject ("leavers"), and so is a capitalised one ("Orkney")."""
    return len(word) <= _SHORTHAND_LETTERS and grounding.is_noise(word)


def _known_already(noun: Token) -> bool:
    """A common noun the asker takes as known ("the challenges", "the steering group"): its phrase opens
    with a definite article or a demonstrative, so it is the last turn's, not a new subject."""
    head = noun
    while head.dep_ == "compound" and head.head is not head:
        head = head.head
    return noun.pos_ == "NOUN" and any(
        child.dep_ == "det" and (child.lower_ == "the" or child.lower_ in DEMONSTRATIVES) for child in head.children
    )


def _cited_items(answer: str) -> list[str]:
    """The points of an answer, as its citations divide them: the text up to each marker, consecutive
    stretches citing the same passage taken together ("A did this [1], and B that [2]" is two points)."""
    items: list[tuple[str, str]] = []
    start = 0
    for marker in CITATION.finditer(answer):
        text = answer[start : marker.start()].strip(" .,;")
        start = marker.end()
        if items and items[-1][0] == marker.group(1):
            items[-1] = (marker.group(1), f"{items[-1][1]}; {text}" if text else items[-1][1])
        elif text:
            items.append((marker.group(1), text))
    if len(items) == 1:  # one passage's points in one sentence: "Two examples came up: A [1], and B [1]."
        _, _, listed = items[0][1].partition(": ")
        parts = [_LEADING_AND.sub("", part) for part in _LIST_JOINS.split(listed) if part.strip()]
        if len(parts) >= 2:
            return parts
    return [text for _, text in items]


def _ordinal(question: str, count: int) -> int | None:
    """Which of ``count`` points "the second one", "the latter" or "the other project" points to."""
    match = _ORDINAL.search(question)
    if match is None or count < 2:
        return None
    word = match.group(1).lower()
    position = {"first": 0, "former": 0, "second": 1, "third": 2, "fourth": 3}.get(word, count - 1)
    return min(position, count - 1)
