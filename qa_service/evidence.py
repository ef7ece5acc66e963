"""Cheap checks that a passage can answer a question at all, as classic QA systems make them.

Similarity alone rates "How much did China's holdings fall in March?" close to a passage about
February's rise. These checks look for what the question pins down: its names, numbers and
months must occur in the passage, the kind of answer it expects (a number, a date) must be
there, and "what did X say" needs X as a speaker. Each unmet check lowers the relevance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .terms import MONTHS, WEEKDAYS, terms

SPEECH = (
    r"(?:said|says|told|tells|added|adds|stated|warned|explained|noted|argued|replied|responded|repeated"
    r"|asked|insisted|indicated|suggested)"
)
# Words a capitalised question word may stand for in the text.
ALIASES = {
    "tv": ("television",),
    "eu": ("european union",),
    "ft": ("financial times",),
    "us": ("u.s", "united states", "america", "washington"),
    "usa": ("u.s", "united states"),
    "uk": ("britain", "united kingdom"),
    "boj": ("bank of japan",),
    "fed": ("federal reserve",),
}
QUESTION_WORDS = {
    "what",
    "who",
    "whom",
    "when",
    "where",
    "why",
    "how",
    "which",
    "did",
    "does",
    "do",
    "is",
    "was",
    "were",
    "are",
    "has",
    "have",
    "had",
    "can",
    "could",
    "would",
    "will",
    "should",
    "the",
    "a",
    "an",
    "and",
    "but",
    "or",
    "in",
    "on",
    "of",
    "i",
    "according",
    "tell",
    "give",
    "show",
    "list",
}
NUMBER_QUESTION = re.compile(
    r"^\s*(how (much|many|big|large|old)|by how much|what (percentage|share|proportion|amount|rate))\b", re.I
)
DATE_QUESTION = re.compile(r"^\s*(when\b|on what (exact )?(date|day)|what (date|day|year|month)\b)", re.I)
SPEAKER_QUESTION = re.compile(
    r"\b(?i:what did) (?P<who>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)*) (say|tell|claim|argue|respond|reply)\b"
)
NUMBER_IN_TEXT = re.compile(r"\d|\b(million|billion|trillion|percent|per cent|half|dozen|hundred|thousand)\b", re.I)
DATE_IN_TEXT = re.compile(
    r"\b(" + "|".join(MONTHS + WEEKDAYS) + r"|(19|20)\d\d|yesterday|today|last (week|month|year)|ago|earlier)\b", re.I
)
PENALTY = 0.6


@dataclass(frozen=True)
class Constraints:
    """What a question pins down, parsed once per question."""

    required: tuple[str, ...]  # lower-cased names, numbers and months that must occur
    wants_number: bool
    wants_date: bool
    speaker: str | None  # surname that must be quoted as speaking


def parse_question(question: str) -> Constraints:
    words = re.findall(r"[A-Za-z][\w.'’-]*|\d[\d.,]*", question)
    required = []
    for i, word in enumerate(words):
        bare = re.sub(r"['’]s$", "", word).strip(".,")
        low = bare.lower()
        if low in QUESTION_WORDS:
            continue
        if bare[:1].isdigit() or low in MONTHS or (i > 0 and bare[:1].isupper()):
            required.append(low)
    speaker = SPEAKER_QUESTION.search(question)
    return Constraints(
        required=tuple(dict.fromkeys(required)),
        wants_number=bool(NUMBER_QUESTION.search(question)),
        wants_date=bool(DATE_QUESTION.search(question)),
        speaker=re.sub(r"['’]s$", "", speaker.group("who").split()[-1]) if speaker else None,
    )


@lru_cache(maxsize=4096)
def _whole_word(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(term)}(?![\w])")


def _present(term: str, text_lower: str) -> bool:
    if _whole_word(term).search(text_lower):
        return True
    return any(alias in text_lower for alias in ALIASES.get(term, ()))


def _speaks(surname: str, text: str) -> bool:
    name = re.escape(surname)
    return bool(
        re.search(rf"\b{name}\b(?:\W+\w+){{0,3}}?\W+{SPEECH}\b", text)
        or re.search(rf"\b(?:{SPEECH}|according to)\W+(?:\w+\W+){{0,2}}?{name}\b", text)
    )


def unknown_terms(constraints: Constraints, vocabulary: dict) -> tuple[str, ...]:
    """Pinned-down terms the corpus never mentions: those rule a passage out, not the ones it knows."""
    return tuple(t for t in constraints.required if not any(s in vocabulary for s in terms(t)))


def evidence_factor(constraints: Constraints, text: str, unknown: tuple[str, ...] = ()) -> float:
    """1.0 when the passage meets every check; PENALTY per unmet check otherwise (three at most)."""
    lower = text.lower()
    unmet = min(2, sum(1 for term in unknown if not _present(term, lower)))
    if constraints.wants_number and not NUMBER_IN_TEXT.search(text):
        unmet += 1
    if constraints.wants_date and not DATE_IN_TEXT.search(text):
        unmet += 1
    if constraints.speaker and not _speaks(constraints.speaker, text):
        unmet += 1
    return PENALTY ** min(unmet, 3)
