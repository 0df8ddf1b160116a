"""What a question says besides what it asks: the asker's own situation ("I'm a depute head in Fife ..."), the
politeness and framing around the request, and the names a follow-up carried over from the conversation."""

import re

from assistant.text import split_sentences, tokenize

# Framing: the asker's situation and the politeness around the request, not what is asked about.
_FIRST_PERSON = re.compile(
    r"\b(i|i'm|im|i've|ive|i'd|id|me|my|we|we're|were|we've|our|us|anyone|anybody|someone|somebody|"
    r"wondering|looking|want|wanted|need|needs|love|like|please|thanks|thank|tbh|honestly|really|just|"
    r"hi|hello|hey|dear|morning|afternoon|cheers|"
    r"actually|know|tell|give|show|point|help|idea|ideas|example|examples|something|anything|stuff|thing|things|"
    r"kind|sort|"
    r"has|have|had|got|get|getting|been|doing|done|does|did|could|would|should|can|may|might|must|"
    r"is|are|was|were|there|any|whats|what's|hows|how's|whos|who's|"
    r"contact|contacts|email|e-mail|touch|name|date|year|month|week|day|time|"
    r"stand|stands|acronym|acronyms|abbreviation|abbreviations|initials|short|full|mean|means|"
    # What the asker wants done about the problem ("has anyone fixed that?"), not what it is about.
    r"fix|fixed|fixing|solve|solved|solving|tackle|tackled|tackling|crack|cracked|sort|sorted)\b",
    re.IGNORECASE,
)


# A statement about the asker ("I'm a depute head in Fife ...", "We run a programme for 16 to 25 year olds."):
# its places and figures are the asker's situation, not what the notes must name.
ABOUT_ASKER = re.compile(
    r"^\W*(i|i'm|im|i've|ive|i'd|we|we're|we've|our|my)\b(?!.*\b(has|have|does|do|is|are) (anyone|anybody|someone)\b)",
    re.IGNORECASE,
)


# What a follow-up carried over from the conversation, appended to it: "(Midlothian Council; CP)".
CARRIED = re.compile(r"\s*\(([^()]*)\)\s*$")


def without_carried(question: str) -> str:
    """A standalone follow-up without the names it carried over from the conversation."""
    return CARRIED.sub("", question) or question


def asked_part(question: str) -> str:
    """The question without its statements about the asker: the sentences that ask, and any that do not
    start with "I", "we", "our" or "my"; the whole question when what is left asks about nothing ("Hi
    there.")."""
    sentences = split_sentences(" ".join(question.split()))
    kept = " ".join(s for s in sentences if s.rstrip().endswith("?") or not ABOUT_ASKER.match(s))
    # "Hi there. I need to know what Ofsted said ...": what is left must still ask about something.
    return kept if tokenize(framing_removed(kept)) else question


# The words that ask for a kind of fact are not what the question is about.
_ASKING = re.compile(r"\bhow (many|much|long|often|likely)\b|\bwhat (share|proportion|percentage)\b", re.IGNORECASE)


def framing_removed(question: str) -> str:
    """The question's words without the asker's framing, for word-overlap scores (the embedder sees it all)."""
    return re.sub(r"\s+", " ", _FIRST_PERSON.sub(" ", _ASKING.sub(" ", question))).strip()
