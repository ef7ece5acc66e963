"""Cheap checks that a passage can answer a Query at all, as classic QA systems make them.

Similarity alone rates "How much did holdings fall in March?" close to a passage about February's
rise. These checks look for what the question pins down: its names, numbers and months must occur
in the passage, a figure it quotes must be restated there (rounding allowed: "$1 trillion-plus"
restates "$1.13 trillion"), the kind of answer it expects must be there and be new (factoid QA
systems drop answer candidates found in the question: "How much of the $1.13 trillion is held
privately?" is not answered by a passage whose only figure is the $1.13 trillion), and "what did X
say" needs X as a speaker. Each unmet check lowers the passage's relevance (Scoring.penalty).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from .analysis import Query
from .lexicon import load_lexicon
from .terms import terms
from .textfacts import dates_in, figures, gives_a_reason, names_a_place, people, restated, words_in

MAX_MISSING = 2  # missing names and figures count at most this many checks


@dataclass(frozen=True)
class Evidence:
    unmet: int  # checks the passage fails
    holds_type: bool | None  # holds the kind of answer asked for; None when the question asks for no kind


def unknown_terms(query: Query, vocabulary: dict) -> tuple[str, ...]:
    """Pinned-down terms the corpus never mentions: those rule a passage out, not the ones it knows."""
    return tuple(t for t in query.required if not any(s in vocabulary for s in terms(t)))


@lru_cache(maxsize=4096)
def _whole_word(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w]){re.escape(term)}(?![\w])")


def _present(term: str, text_lower: str) -> bool:
    if _whole_word(term).search(text_lower):
        return True
    return any(alias in text_lower for alias in load_lexicon().aliases.get(term, ()))


@cache
def _speech() -> str:
    return "(?:" + "|".join(sorted(load_lexicon().speech_verbs, key=len, reverse=True)) + ")"


@lru_cache(maxsize=65536)
def speaks(surname: str, text: str) -> bool:
    """``surname`` is quoted as speaking: "Kato said", "said Kato", "according to Kato"."""
    name, verbs = re.escape(surname), _speech()
    return bool(
        re.search(rf"\b{name}\b(?:\W+\w+){{0,3}}?\W+{verbs}\b", text)
        or re.search(rf"\b(?:{verbs}|according to)\W+(?:\w+\W+){{0,2}}?{name}\b", text)
    )


def _new_quantity(query: Query, text: str, counts: bool) -> bool:
    lexicon = load_lexicon()
    if any(not restated(f, query.figures) for f in figures(text)):
        return True
    if words_in(text, tuple(lexicon.ratio_words)) - query.given:
        return True
    return counts and bool(words_in(text, tuple(lexicon.count_words)) - query.given)


def holds_answer_type(query: Query, text: str) -> bool | None:
    """Whether ``text`` holds an answer of the kind ``query`` asks for (None: it asks for no kind)."""
    kind = query.answer_type
    if kind in ("figure", "count"):
        return _new_quantity(query, text, counts=kind == "count")
    if kind == "date":
        return bool(dates_in(text) - query.given)
    if kind == "place":
        return names_a_place(text)
    if kind == "person":
        asked = query.resolved.lower()
        return any(name.split()[-1].lower() not in asked for name in people(text)) or bool(
            re.search(rf"\b{_speech()}\b", text)
        )
    if kind == "reason":
        return gives_a_reason(text)
    if kind == "quote" and query.speaker:
        return speaks(query.speaker, text)
    return None


def check(query: Query, text: str, unknown: tuple[str, ...] = ()) -> Evidence:
    """The checks ``text`` fails for ``query``. Person and reason types inform the decision, not the rank."""
    lower = text.lower()
    stated = figures(text) if query.figures else ()
    missing = {term for term in unknown if not _present(term, lower)}
    missing |= {f.digits for f in query.figures if not restated(f, stated)}
    unmet = min(MAX_MISSING, len(missing))
    holds = holds_answer_type(query, text)
    if holds is False and query.answer_type in ("figure", "count", "date", "place", "quote"):
        unmet += 1
    return Evidence(unmet, holds)
