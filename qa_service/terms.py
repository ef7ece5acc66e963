"""Word analysis shared by BM25, lexical coverage and highlighting: one tokenizer everywhere."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache

from .lexicon import load_lexicon

TOKEN = re.compile(r"[a-z0-9]+(?:[.'’][a-z0-9]+)*")


@cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(text: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed terms of a text; spellings that mean the same share one term."""
    lexicon = load_lexicon()
    text = text.lower().replace("per cent", "percent").replace("%", " percent")
    raw = [t.replace("’", "'").split("'")[0] for t in TOKEN.findall(text)]
    kept = [lexicon.spellings.get(t, t) for t in raw if t and t not in lexicon.stopwords]
    return _stemmer().stemWords(kept) if kept else []


def idf_table(documents: Iterable[Sequence[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of each term over a set of term lists."""
    df: Counter[str] = Counter()
    n = 0
    for doc in documents:
        n += 1
        df.update(set(doc))
    return {term: math.log(1 + (n - count + 0.5) / (count + 0.5)) for term, count in df.items()}


def coverage(query_terms: Sequence[str], text_terms: Iterable[str], idf: dict[str, float], default_idf: float) -> float:
    """IDF-weighted share of the query's terms that occur in a text (0..1).

    Terms never seen in the corpus weigh the most: a question about something the sources
    never mention cannot be covered.
    """
    unique = set(query_terms)
    if not unique:
        return 0.0
    present = set(text_terms)
    weights = {t: idf.get(t, default_idf) for t in unique}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in present) / total if total else 0.0
