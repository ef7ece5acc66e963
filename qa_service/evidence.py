"""Cheap checks that a passage can answer a question at all, as classic QA systems make them.

Similarity alone rates "How much did China's holdings fall in March?" close to a passage about
February's rise. These checks look for what the question pins down: its names, numbers and
months must occur in the passage, the kind of answer it expects (a number, a date, a place)
must be there, and "what did X say" needs X as a speaker. Each unmet check lowers the relevance.

Figures get two rules of their own. A figure the question quotes must occur in the passage
(a figure, unlike a name, has no other way to be referred to), though possibly rounded: "$1
trillion-plus" restates "$1.13 trillion". And an expected number or date must be one the
question does not already state, as factoid QA systems discard answer candidates found in the
question: "How much of the $1.13 trillion is held privately?" is not answered by a passage whose
only figure is the $1.13 trillion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
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
    r"^\s*(?:how (?:much|many|big|large|old)|by how much"
    r"|what(?: is| was| are| were)?(?: the)?(?: [\w-]+){0,3}?"
    r" (?:percentage|share|proportion|amount|rate|price|yield|cost)s?)\b",
    re.I,
)
COUNT_QUESTION = re.compile(r"^\s*how many\b", re.I)
DATE_QUESTION = re.compile(r"^\s*(when\b|on what (exact )?(date|day)|what (date|day|year|month)\b)", re.I)
PLACE_QUESTION = re.compile(r"^\s*(?:where|(?:in|at) (?:what|which) (?:city|country|place|venue))\b", re.I)
SPEAKER_QUESTION = re.compile(
    r"\b(?i:what did) (?P<who>[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)*) (say|tell|claim|argue|respond|reply)\b"
)
FIGURE = re.compile(
    r"(?<![\w.,])(\d+(?:,\d{3})*(?:\.\d+)?)(?:\s*(%|per\s?cent\b|thousand\b|million\b|billion\b|trillion\b))?", re.I
)
COUNT_WORD = re.compile(
    r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundreds"
    r"|thousands|millions|billions|dozens?)\b",
    re.I,
)
RATIO_WORD = re.compile(r"\b(?:half|quarter|double[ds]?|tripled?|halved)\b", re.I)
DATE_IN_TEXT = re.compile(
    r"\b(?:" + "|".join(MONTHS + WEEKDAYS) + r"|(?:19|20)\d\d|yesterday|today|last (?:week|month|year)|ago|earlier)\b",
    re.I,
)
# "in Milan", "at the White House": a capitalised place after a locative preposition, not a month.
PLACE_IN_TEXT = re.compile(r"\b(?i:in|at) (?:the )?(?!(?i:" + "|".join(MONTHS + WEEKDAYS) + r")\b)[A-Z][\w'’-]+")
PENALTY = 0.6


@dataclass(frozen=True)
class Figure:
    """A number as written ("1.13") with its scale or unit ("trillion", "percent", or "")."""

    digits: str
    unit: str

    @property
    def is_year(self) -> bool:
        return not self.unit and len(self.digits) == 4 and self.digits[:2] in ("19", "20")

    def restates(self, other: Figure) -> bool:
        """Whether both write one figure, the less precise one rounded or cut from the other."""
        return self.unit == other.unit and _same_value(self.digits, other.digits)


@lru_cache(maxsize=65536)
def _same_value(one: str, other: str) -> bool:
    coarse, fine = sorted((Decimal(one), Decimal(other)), key=lambda d: -int(d.as_tuple().exponent))
    step = Decimal(1).scaleb(int(coarse.as_tuple().exponent))
    return coarse in (fine.quantize(step, ROUND_HALF_UP), fine.quantize(step, ROUND_DOWN))


@lru_cache(maxsize=65536)  # passage texts recur across questions
def figures(text: str) -> tuple[Figure, ...]:
    """Every figure in a text except years, which dates and filters deal with."""
    found = []
    for match in FIGURE.finditer(text):
        unit = (match.group(2) or "").lower()
        figure = Figure(match.group(1).replace(",", ""), "percent" if unit == "%" or "cent" in unit else unit)
        if not figure.is_year:
            found.append(figure)
    return tuple(found)


def _restated(figure: Figure, among: tuple[Figure, ...]) -> bool:
    return any(figure.restates(other) for other in among)


@lru_cache(maxsize=65536)
def _names_a_place(text: str) -> bool:
    return bool(PLACE_IN_TEXT.search(text))


@lru_cache(maxsize=65536)
def _words(pattern: re.Pattern[str], text: str) -> frozenset[str]:
    return frozenset(match.group(0).lower() for match in pattern.finditer(text))


@dataclass(frozen=True)
class Constraints:
    """What a question pins down, parsed once per question."""

    required: tuple[str, ...]  # lower-cased names, numbers and months that must occur
    wants_number: bool
    wants_date: bool
    speaker: str | None  # surname that must be quoted as speaking
    figures: tuple[Figure, ...] = ()  # figures the question quotes
    wants_place: bool = False
    counts: bool = False  # "how many": a count word ("two") answers it as well as a figure
    given: frozenset[str] = frozenset()  # number and date words the question states itself


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
        figures=figures(question),
        counts=bool(COUNT_QUESTION.search(question)),
        wants_place=bool(PLACE_QUESTION.search(question)),
        given=_words(COUNT_WORD, question) | _words(RATIO_WORD, question) | _words(DATE_IN_TEXT, question),
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


def _new_quantity(constraints: Constraints, text: str, stated: tuple[Figure, ...]) -> bool:
    if any(not _restated(f, constraints.figures) for f in stated):
        return True
    if _words(RATIO_WORD, text) - constraints.given:
        return True
    return constraints.counts and bool(_words(COUNT_WORD, text) - constraints.given)


def evidence_factor(constraints: Constraints, text: str, unknown: tuple[str, ...] = ()) -> float:
    """1.0 when the passage meets every check; PENALTY per unmet check otherwise (three at most)."""
    lower = text.lower()
    stated = figures(text) if constraints.figures or constraints.wants_number else ()
    missing = {term for term in unknown if not _present(term, lower)}
    missing |= {f.digits for f in constraints.figures if not _restated(f, stated)}
    unmet = min(2, len(missing))
    if constraints.wants_number and not _new_quantity(constraints, text, stated):
        unmet += 1
    if constraints.wants_date and not _words(DATE_IN_TEXT, text) - constraints.given:
        unmet += 1
    if constraints.wants_place and not _names_a_place(text):
        unmet += 1
    if constraints.speaker and not _speaks(constraints.speaker, text):
        unmet += 1
    return PENALTY ** min(unmet, 3)
