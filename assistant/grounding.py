"""Grounding checks, enforced in code: relevance, answerability, and support for every sentence."""

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant.models import Passage, SearchResult
from assistant.retrieval import tokenize

_CITATION = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*%?")
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z’'-]{2,}(?:\s+[A-Z][a-zA-Z’'-]{2,})*")
# Questions asking for an amount: the answer must state a number the notes give.
_QUANTITY = re.compile(
    r"\b(how (many|much|often|long)|number of|population|percentage|proportion|budget|cost|spend|spent|"
    r"money|funding amount|salary|rate of|statistics? on)\b",
    re.IGNORECASE,
)
# The framing of a request ("Prepare a short briefing, with sources, on ..."), not its subject.
_REQUEST = re.compile(
    r"^\s*(?:please\s+)?(?:(?:prepare|write|draft|produce|give|make|create)\s+(?:me\s+|us\s+)?)?"
    r"(?:an?\s+)?(?:short\s+|brief\s+|quick\s+|one-page\s+)?"
    r"(?:briefing|summary|overview|note|report|brief)?(?:\s*,?\s*with\s+(?:sources|citations|references)\s*,?)?"
    r"\s*(?:on|about|of|regarding)\s+",
    re.IGNORECASE,
)
_TELL_ME = re.compile(r"^\s*(?:please\s+)?(?:tell me|what do the notes say)\s+about\s+", re.IGNORECASE)
NOT_COVERED = "The notes don't cover this."


@dataclass(frozen=True)
class SupportedSentence:
    text: str  # without citation markers
    passages: tuple[int, ...]  # 1-based numbers of the supplied passages that support it


def split_sentences(text: str) -> list[str]:
    pieces: list[str] = []
    for line in text.splitlines():
        line = line.strip().lstrip("-*• ").strip()
        if line:
            pieces.extend(part.strip() for part in _SENTENCE_END.split(line) if part.strip())
    return pieces


def strip_citations(sentence: str) -> tuple[str, list[int]]:
    numbers = [int(n) for group in _CITATION.findall(sentence) for n in re.split(r"[,;]", group)]
    return _CITATION.sub("", sentence).strip(), numbers


def subject_of(question: str) -> str:
    """The question without request framing, for relevance and retrieval."""
    subject = _TELL_ME.sub("", _REQUEST.sub("", question, count=1), count=1)
    return re.sub(r"\s+", " ", subject).strip(" ,.?") or question


def _numbers(text: str) -> set[str]:
    return {n.rstrip("%").replace(",", "") for n in _NUMBER.findall(text)}


def _names(text: str) -> set[str]:
    return {name.lower().replace("’", "'") for name in _NAME.findall(text)}


class Grounding:
    """Scores how well passages cover a question and whether a sentence is supported by a passage.

    ``idf`` comes from the BM25 index: rare words weigh more. Words the notes never use weigh as much
    as the rarest word, so a question about something absent scores low however common its other words.
    """

    def __init__(self, idf: Mapping[str, float], relevance_threshold: float, support_threshold: float) -> None:
        self._idf = idf
        self._unknown_weight = max(idf.values(), default=1.0)
        self.relevance_threshold = relevance_threshold
        self.support_threshold = support_threshold

    def uses_only_known_words(self, text: str) -> bool:
        """Every content word of ``text`` occurs somewhere in the notes."""
        return all(token in self._idf for token in tokenize(text))

    def _weight(self, token: str) -> float:
        return max(self._idf.get(token, self._unknown_weight), 0.05)

    def coverage(self, question: str, text: str) -> float:
        """Share of the question's (idf-weighted) words that ``text`` contains."""
        wanted = set(tokenize(question))
        if not wanted:
            return 0.0
        present = set(tokenize(text))
        total = sum(self._weight(token) for token in wanted)
        return sum(self._weight(token) for token in wanted if token in present) / total

    def relevance(self, question: str, results: Sequence[SearchResult]) -> float:
        """How well the best passage matches: mean of dense similarity and word coverage."""
        subject = subject_of(question)
        best = 0.0
        for result in results:
            dense = max(result.dense_similarity or 0.0, 0.0)
            best = max(best, (dense + self.coverage(subject, result.passage.text)) / 2)
        return best

    def support(self, sentence: str, passage: Passage) -> float:
        """Share of the sentence's content words found in the passage; 0 if a number or name is not there."""
        text = passage.text
        if not _numbers(sentence) <= _numbers(text):
            return 0.0
        passage_names = " ".join(_names(text)) + " " + text.lower().replace("’", "'")
        if any(name not in passage_names for name in _names(sentence)):
            return 0.0
        words = set(tokenize(sentence))
        if not words:
            return 0.0
        present = set(tokenize(text))
        total = sum(math.sqrt(self._weight(token)) for token in words)
        return sum(math.sqrt(self._weight(token)) for token in words if token in present) / total

    def verify(self, draft: str, passages: Sequence[Passage]) -> list[SupportedSentence]:
        """Keep each sentence only with passages that support it; re-attribute a wrong citation to the best one."""
        kept: list[SupportedSentence] = []
        for raw in split_sentences(draft):
            sentence, cited = strip_citations(raw)
            if len(tokenize(sentence)) < 2 or sentence.rstrip(".").lower() in NOT_COVERED.lower():
                continue
            scores = {n: self.support(sentence, passages[n - 1]) for n in range(1, len(passages) + 1)}
            valid = [n for n in dict.fromkeys(cited) if n in scores and scores[n] >= self.support_threshold]
            if not valid:
                best = max(scores, key=lambda n: scores[n], default=None)
                if best is None or scores[best] < self.support_threshold:
                    continue  # no passage says this: the sentence goes
                valid = [best]
            kept.append(SupportedSentence(sentence, tuple(valid)))
        return kept

    def answers_question(
        self, question: str, sentences: Sequence[SupportedSentence], passages: Sequence[Passage]
    ) -> bool:
        """A question's own numbers must be in the cited passages; a question of amount needs a number."""
        if not sentences:
            return False
        cited_text = " ".join(passages[n - 1].body for s in sentences for n in s.passages)
        if not _numbers(question) <= _numbers(cited_text):
            return False
        if _QUANTITY.search(question):
            return any(_numbers(s.text) - _numbers(question) for s in sentences)
        return True
