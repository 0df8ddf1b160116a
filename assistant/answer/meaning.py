"""Whether a sentence a model wrote says what its passage says, by meaning rather than shared words.

Counting shared words passes a sentence that keeps the passage's words and changes what they say: "did not
create" for "created", "the nursing workforce" for "the education workforce", "less than a tenth" for "more
than half". From spaCy's parse of both, a sentence departs from its passage when it has

- a noun, or a word qualifying one ("the nursing workforce", "foster carers"), that the passage never uses
  in any form (lemmas compared);
- a negation the passage does not make of the same word, or none where the passage only negates a word
  ("Concerns were raised" for "No concerns were raised");
- a quantity phrase ("less than a tenth", "over 50%") with words the passage's quantities do not have.

Names and figures are checked by the caller (``Grounding.support``); this adds what words alone cannot see.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from spacy.tokens import Doc, Token

from assistant.answer.lexicon import FRACTIONS, NEGATIVE_PRONOUNS, SOURCE_NOUNS
from assistant.text import NUMBER_WORD_VALUES

# The recogniser's labels for how many or how much ("more than half", "29", "over 50%", "£9 million"); it
# labels some ("Less than a quarter" opening a sentence) a DATE, so a phrase holding a number counts too.
_QUANTITY_ENTITIES = frozenset({"CARDINAL", "PERCENT", "QUANTITY", "MONEY"})
# Words of a noun phrase that say what it is, beside its nouns: "nursing" and "foster" in "the nursing
# workforce", "foster carers" (tagged adjective or verb as often as noun).
_QUALIFYING = frozenset({"amod", "compound"})
# Words whose plain use says the opposite of the passage's negation of them ("Concerns were raised" for "No
# concerns were raised"); not "be", "have" or "do" (tagged AUX), which a sentence uses whatever it says.
_AFFIRMABLE = frozenset({"VERB", "NOUN", "PROPN", "ADJ"})
# Inside a quantity phrase every number word is a number ("One in five" is 1 in 5, "Twenty" is 20), and a share
# is one form however written ("per cent" is "%").
_AMOUNT_WORDS = NUMBER_WORD_VALUES | {"percent": "%", "per": "", "cent": "%"}
# Words of a quantity phrase that say how it compares ("more", "less", "fewest"; "than", "over", "nearly").
_COMPARING_TAGS = frozenset({"JJR", "RBR", "JJS", "RBS"})


@dataclass(frozen=True)
class Reading:
    """What a text states, as far as the meaning check needs: its words, what it negates, its quantities."""

    words: frozenset[str]  # every word's lower-case form and lemma
    negated: frozenset[str]  # lemmas of the words a negation bears on ("create" in "did not create")
    affirmed: frozenset[str]  # lemmas of the words said with no negation on them
    quantities: frozenset[str]  # the words of its quantity phrases, numbers as digits


def read(doc: Doc) -> Reading:
    return Reading(
        words=frozenset(form for token in doc for form in (token.lower_, token.lemma_.lower())),
        negated=frozenset(_negated(token).lemma_.lower() for token in doc if _negates(token)),
        affirmed=frozenset(token.lemma_.lower() for token in doc if not _is_negated(token)),
        quantities=frozenset(word for phrase in _quantity_phrases(doc) for word in phrase),
    )


def departures(sentence: Doc, passage: Reading, also_known: Iterable[str] = ()) -> list[str]:
    """How ``sentence`` departs from what the passage says, each as a short reason; none when it holds.
    ``also_known``: words the passage's label gives (its event, organisation, project)."""
    known = passage.words | {word.lower() for word in also_known}
    reasons = [
        f"the word '{token.text}'"
        for token in sentence
        if _says_what_a_thing_is(token)
        and token.lower_ not in known
        and token.lemma_.lower() not in known
        and token.lemma_.lower() not in SOURCE_NOUNS
    ]
    for token in sentence:
        lemma = token.lemma_.lower()
        if _negates(token):
            if _negated(token).lemma_.lower() not in passage.negated:
                reasons.append(f"a negation of '{_negated(token).text}'")
        elif (
            token.pos_ in _AFFIRMABLE
            and not _is_negated(token)
            and lemma in passage.negated
            and lemma not in passage.affirmed
        ):
            reasons.append(f"'{token.text}', which the passage negates")
    for phrase in _quantity_phrases(sentence):
        if not set(phrase) <= passage.quantities | _digits(known):
            reasons.append(f"the quantity '{' '.join(phrase)}'")
    return reasons


def _says_what_a_thing_is(token: Token) -> bool:
    """A noun, or a word qualifying one ("nursing" in "the nursing workforce"); not an amount ("half", "per
    cent"), which the quantity check reads."""
    if not token.is_alpha or token.is_stop or _is_amount(token):
        return False
    return token.pos_ in ("NOUN", "PROPN") or (token.dep_ in _QUALIFYING and token.head.pos_ in ("NOUN", "PROPN"))


def _is_negated(token: Token) -> bool:
    return any(_negates(child) for child in token.children)


def _is_amount(token: Token) -> bool:
    return token.like_num or token.lemma_.lower() in FRACTIONS or token.lower_ in ("%", "percent", "per", "cent")


def _compares(token: Token) -> bool:
    return token.tag_ in _COMPARING_TAGS or token.dep_ == "quantmod"


def _quantity_phrases(doc: Doc) -> list[list[str]]:
    """The words of each phrase saying how many or how much ("less than a quarter" is less, than, quarter):
    its numbers (as digits) and fractions by lemma, and the words comparing them; what is counted is not
    part of it ("of participants")."""
    phrases = []
    for span in (*doc.ents, *doc.noun_chunks):
        if span.label_ not in _QUANTITY_ENTITIES and not any(_is_amount(token) for token in span):
            continue
        words = [
            _AMOUNT_WORDS.get(token.lower_, token.lemma_.lower().replace(",", ""))
            for token in span
            if _is_amount(token) or (token.pos_ != "DET" and _compares(token))
        ]
        words = [word for word in words if word]
        if words:
            phrases.append(words)
    return phrases


def _negates(token: Token) -> bool:
    """The parse's negation ("not", "n't", "never"), "no" before a noun, or a negative pronoun ("nothing")."""
    return (
        token.dep_ == "neg"
        or (token.lower_ == "no" and token.dep_ == "det")
        or token.lemma_.lower() in NEGATIVE_PRONOUNS
    )


def _negated(token: Token) -> Token:
    """The word a negation bears on: its head, or a negative pronoun's own verb ("nothing had changed")."""
    return token.head if token.head is not token else token


def _digits(words: Iterable[str]) -> set[str]:
    """Numbers the passage holds as figures, however written: a quantity of figures alone is checked as figures."""
    return {
        _AMOUNT_WORDS.get(word, word.replace(",", ""))
        for word in words
        if word in _AMOUNT_WORDS or word.replace(",", "").isdigit()
    }
