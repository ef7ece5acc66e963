"""Question analysis: a question and its conversation become one frozen Query, read by every later stage.

Nothing downstream parses the question again: retrieval takes the Query's vector and terms, the
evidence checks its constraints and expected answer type, answering its type and terms, the chat its
time direction. The data path is straight: question -> Query -> hits -> answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from .conversation import Turn, resolve_turns, time_direction
from .lexicon import Lexicon, load_lexicon
from .terms import terms
from .textfacts import Figure, dates_in, figures, words_in

WORD = re.compile(r"[A-Za-z][\w.'’-]*|\d[\d.,]*")


@dataclass(frozen=True)
class Query:
    """What a question asks, worked out once."""

    text: str  # as the user wrote it
    resolved: str  # made self-contained with the conversation; what is searched
    terms: tuple[str, ...]  # stemmed content terms of `resolved` (BM25, coverage, highlights)
    answer_type: str  # person | place | date | figure | count | reason | quote | yes_no | other
    required: tuple[str, ...] = ()  # lower-cased names, numbers and months the question pins down
    figures: tuple[Figure, ...] = ()  # figures the question quotes
    speaker: str | None = None  # "what did X say": X must be quoted as speaking
    given: frozenset[str] = frozenset()  # number, ratio and date words the question states itself
    time_direction: int = 0  # +1 "what came later", -1 "what came before", 0 neither
    follow_up: bool = False
    vector: np.ndarray | None = None  # unit vector of `resolved`, set by whoever owns the model

    def with_vector(self, vector: np.ndarray) -> Query:
        return replace(self, vector=vector)

    def cache_key(self) -> str:
        return " ".join(self.resolved.split()).casefold()


def answer_type(question: str, lexicon: Lexicon | None = None) -> str:
    """The kind of answer a question asks for, from how it begins (and "what percentage ...")."""
    lexicon = lexicon or load_lexicon()
    low = " ".join(question.lower().split())
    for opening, kind in lexicon.answer_openings:
        if low == opening or low.startswith(opening + " "):
            if kind == "quote" and not any(f" {verb}" in low for verb in lexicon.speech_asks):
                continue  # "what did the data show" asks for a fact, not a quote
            return _refine(low, kind, lexicon)
    return _refine(low, "other", lexicon)


def _refine(low: str, kind: str, lexicon: Lexicon) -> str:
    """ "What is the tariff rate?" asks for a figure though it opens like any other question."""
    if kind in ("other", "quote", "yes_no") and low.startswith(("what", "which")):
        head = low.split("?")[0].split()[:6]
        if any(word.rstrip("s") in lexicon.figure_nouns for word in head[1:]):
            return "figure"
    return kind


def _speaker(question: str, lexicon: Lexicon) -> str | None:
    """ "What did Kato say ...": the surname that must be quoted as speaking."""
    asks = "|".join(sorted(lexicon.speech_asks))
    match = re.search(rf"\b(?i:what did) ((?:[A-Z][\w.'’-]*\s+)*[A-Z][\w.'’-]*) (?:{asks})\b", question)
    if not match:
        return None
    return re.sub(r"['’]s$", "", match.group(1).split()[-1])


def _required(question: str, lexicon: Lexicon) -> tuple[str, ...]:
    """Names, numbers and months the question pins down (capitalised past the first word)."""
    found = []
    for i, word in enumerate(WORD.findall(question)):
        bare = re.sub(r"['’]s$", "", word).strip(".,")
        low = bare.lower()
        if low in lexicon.question_words:
            continue
        if bare[:1].isdigit() or low in lexicon.months or (i > 0 and bare[:1].isupper()):
            found.append(low)
    return tuple(dict.fromkeys(found))


def _uncached(function):
    """The function without its cache: textfacts caches are for passage texts (bounded by the index);
    a question's text is seen once, and caching it would grow with every new question."""
    return getattr(function, "__wrapped__", function)


def analyse(question: str, history: Sequence[Turn] = (), lexicon: Lexicon | None = None) -> Query:
    """The Query for ``question`` asked after ``history`` (oldest first). Its vector is left unset."""
    lexicon = lexicon or load_lexicon()
    resolution = resolve_turns(question, list(history), lexicon)
    own = resolution.question  # constraints come from the question itself, not from its context
    kind = answer_type(question, lexicon)
    return Query(
        text=question,
        resolved=resolution.text,
        terms=tuple(terms(resolution.text)),
        answer_type=kind,
        required=_required(own, lexicon),
        figures=_uncached(figures)(own),
        speaker=_speaker(own, lexicon) if kind == "quote" else None,
        given=_uncached(words_in)(own, tuple(lexicon.count_words | lexicon.ratio_words)) | _uncached(dates_in)(own),
        time_direction=time_direction(question, lexicon) if history else 0,
        follow_up=bool(resolution.context),
    )
