"""The English word lists the service uses, loaded once from data/lexicon.toml into a frozen Lexicon.

Lists are data, not code: they hold general English (question words, labels of dates, spellings),
never the names or topic of a corpus. The file's bytes are part of the corpus fingerprint, so an edit
rebuilds every index.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

LEXICON_FILE = "lexicon.toml"


def lexicon_bytes() -> bytes:
    return resources.files("qa_service.data").joinpath(LEXICON_FILE).read_bytes()


@dataclass(frozen=True)
class Lexicon:
    date_labels: dict[str, tuple[str, ...]]  # meaning (first_published, published, updated, crawled) -> phrases
    day_first_spellings: frozenset[str]
    month_first_spellings: frozenset[str]
    day_first_currencies: tuple[str, ...]
    day_first_domains: frozenset[str]
    wires: dict[str, str]  # as written -> name to show

    def wire_name(self, written: str) -> str | None:
        """The agency's display name for ``written`` ("AP" -> "Associated Press"), or None."""
        written = written.strip()
        return self.wires.get(written) or next(
            (name for key, name in self.wires.items() if key.casefold() == written.casefold() and len(key) > 3),
            None,
        )


@cache
def load_lexicon() -> Lexicon:
    raw = tomllib.loads(lexicon_bytes().decode("utf-8"))
    dates = raw["dates"]
    return Lexicon(
        date_labels={
            meaning: tuple(sorted(dates[meaning], key=len, reverse=True))
            for meaning in ("first_published", "published", "updated", "crawled")
        },
        day_first_spellings=frozenset(dates["day_first_spellings"]),
        month_first_spellings=frozenset(dates["month_first_spellings"]),
        day_first_currencies=tuple(dates["day_first_currencies"]),
        day_first_domains=frozenset(dates["day_first_domains"]),
        wires=dict(raw["wires"]),
    )
