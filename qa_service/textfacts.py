"""Facts read off a text by their shape: figures with their units, people's names, places, dates.

Questions and passages are both read with these, so "how much" can be matched with "$1.13 trillion"
and "who" with "Finance Minister Katsunobu Kato". No tagger is installed offline, so names and places
are recognised by capitalisation and position, with the titles and institution words of the lexicon
telling a name from a title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cache, lru_cache

from .lexicon import Lexicon, load_lexicon

FIGURE = re.compile(
    r"(?<![\w.,])(\d+(?:,\d{3})*(?:\.\d+)?)(?:\s*(%|per\s?cent\b|thousand\b|million\b|billion\b|trillion\b))?", re.I
)
NAME_RUN = re.compile(r"\b([A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?(?:\s+[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?)+)\b")
CAPITALISED = re.compile(r"[A-Z][\w'’-]*")
CACHE = 65536


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


@lru_cache(maxsize=CACHE)
def _same_value(one: str, other: str) -> bool:
    coarse, fine = sorted((Decimal(one), Decimal(other)), key=lambda d: -int(d.as_tuple().exponent))
    step = Decimal(1).scaleb(int(coarse.as_tuple().exponent))
    return coarse in (fine.quantize(step, ROUND_HALF_UP), fine.quantize(step, ROUND_DOWN))


@lru_cache(maxsize=CACHE)  # passage texts recur across questions
def figures(text: str) -> tuple[Figure, ...]:
    """Every figure in a text except years, which dates deal with."""
    found = []
    for match in FIGURE.finditer(text):
        unit = (match.group(2) or "").lower()
        figure = Figure(match.group(1).replace(",", ""), "percent" if unit == "%" or "cent" in unit else unit)
        if not figure.is_year:
            found.append(figure)
    return tuple(found)


def restated(figure: Figure, among: tuple[Figure, ...]) -> bool:
    return any(figure.restates(other) for other in among)


@cache
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b", re.I)


@lru_cache(maxsize=CACHE)
def words_in(text: str, words: tuple[str, ...]) -> frozenset[str]:
    """Which of ``words`` (phrases allowed) occur in ``text``, lower-cased."""
    return frozenset(m.group(0).lower() for m in _word_pattern(words).finditer(text))


def date_words(lexicon: Lexicon) -> tuple[str, ...]:
    return (*lexicon.months, *lexicon.weekdays, *lexicon.time_words)


@lru_cache(maxsize=CACHE)
def dates_in(text: str) -> frozenset[str]:
    """Month and weekday names, years and relative time words in ``text``."""
    lexicon = load_lexicon()
    years = frozenset(re.findall(r"\b(?:19|20)\d\d\b", text))
    named = frozenset(m.group(0).lower() for m in _word_pattern(date_words(lexicon)).finditer(text))
    return named | years


@lru_cache(maxsize=CACHE)
def people(text: str) -> tuple[str, ...]:
    """People named in a text, titles stripped: "Finance Minister Katsunobu Kato" gives "Katsunobu Kato".

    A run of two or more capitalised words is a name once the title and institution words of the
    lexicon are taken off its ends and the function words that start sentences are dropped.
    """
    lexicon = load_lexicon()
    function = lexicon.stopwords | lexicon.question_words | lexicon.pronouns
    found = []
    for run in NAME_RUN.findall(text):
        tokens = [t for t in run.split() if t.lower() not in function]
        titles = [i for i, t in enumerate(tokens) if t.lower() in lexicon.not_names]
        name = tokens[titles[-1] + 1 :] if titles else tokens  # "Treasury Secretary Scott Bessent"
        if len(name) >= 2:
            found.append(" ".join(name[-3:]))
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=CACHE)
def names_a_place(text: str) -> bool:
    """ "in Milan", "at the White House": a capitalised word after a place preposition, not a date."""
    lexicon = load_lexicon()
    calendar = set(lexicon.months) | set(lexicon.weekdays)
    prepositions = _word_pattern(lexicon.place_prepositions)
    for match in prepositions.finditer(text):
        rest = text[match.end() :].lstrip()
        rest = rest[4:] if rest.lower().startswith("the ") else rest
        word = CAPITALISED.match(rest)
        if word and word.group(0).lower() not in calendar:
            return True
    return False


@lru_cache(maxsize=CACHE)
def gives_a_reason(text: str) -> bool:
    return bool(words_in(text, load_lexicon().reason_words))
