"""The English word lists the service uses, loaded once from data/lexicon.toml into a frozen Lexicon.

Lists are data, not code: they hold general English (question words, labels of dates, spellings,
cues of the kind of answer a question wants), never the names or topic of a corpus. Stop words come
from bm25s's English list, extended by the file. The file's bytes are part of the corpus fingerprint,
so an edit rebuilds every index.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

LEXICON_FILE = "lexicon.toml"
ANSWER_TYPES = ("person", "place", "date", "figure", "count", "reason", "quote", "yes_no")


def lexicon_bytes() -> bytes:
    return resources.files("qa_service.data").joinpath(LEXICON_FILE).read_bytes()


@dataclass(frozen=True)
class Lexicon:
    # dates
    date_labels: dict[str, tuple[str, ...]]  # meaning (first_published, published, updated, crawled) -> phrases
    day_first_spellings: frozenset[str]
    month_first_spellings: frozenset[str]
    day_first_currencies: tuple[str, ...]
    day_first_domains: frozenset[str]
    months: tuple[str, ...]
    weekdays: tuple[str, ...]
    # sources
    wires: dict[str, str]  # as written -> name to show
    # words of questions and passages
    stopwords: frozenset[str]
    spellings: dict[str, str]
    aliases: dict[str, tuple[str, ...]]
    not_names: frozenset[str]
    speech_verbs: frozenset[str]
    speech_asks: frozenset[str]
    question_words: frozenset[str]
    answer_openings: tuple[tuple[str, str], ...]  # (opening, answer type), longest first
    figure_nouns: frozenset[str]
    count_words: frozenset[str]
    ratio_words: frozenset[str]
    time_words: tuple[str, ...]
    reason_words: tuple[str, ...]
    place_prepositions: tuple[str, ...]
    # conversation
    pronouns: frozenset[str]
    person_pronouns: frozenset[str]
    statement_references: frozenset[str]
    ellipsis: tuple[str, ...]
    later: tuple[str, ...]
    earlier: tuple[str, ...]

    def wire_name(self, written: str) -> str | None:
        """The agency's display name for ``written`` ("AP" -> "Associated Press"), or None."""
        written = written.strip()
        return self.wires.get(written) or next(
            (name for key, name in self.wires.items() if key.casefold() == written.casefold() and len(key) > 3),
            None,
        )


def _bm25s_stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@cache
def load_lexicon() -> Lexicon:
    raw = tomllib.loads(lexicon_bytes().decode("utf-8"))
    dates, answers, talk = raw["dates"], raw["answer_types"], raw["conversation"]
    openings = [(phrase, kind) for kind in ANSWER_TYPES for phrase in answers[kind]]
    return Lexicon(
        date_labels={
            meaning: tuple(sorted(dates[meaning], key=len, reverse=True))
            for meaning in ("first_published", "published", "updated", "crawled")
        },
        day_first_spellings=frozenset(dates["day_first_spellings"]),
        month_first_spellings=frozenset(dates["month_first_spellings"]),
        day_first_currencies=tuple(dates["day_first_currencies"]),
        day_first_domains=frozenset(dates["day_first_domains"]),
        months=tuple(raw["calendar"]["months"]),
        weekdays=tuple(raw["calendar"]["weekdays"]),
        wires=dict(raw["wires"]),
        stopwords=_bm25s_stopwords() | frozenset(raw["terms"]["stopwords"]),
        spellings=dict(raw["terms"]["spellings"]),
        aliases={key: tuple(value) for key, value in raw["names"]["aliases"].items()},
        not_names=frozenset(raw["names"]["not_names"]["words"]),
        speech_verbs=frozenset(raw["speech"]["verbs"]),
        speech_asks=frozenset(raw["speech"]["asks"]),
        question_words=frozenset(raw["question"]["words"]),
        answer_openings=tuple(sorted(openings, key=lambda pair: -len(pair[0]))),
        figure_nouns=frozenset(answers["figure_nouns"]),
        count_words=frozenset(answers["count_words"]),
        ratio_words=frozenset(answers["ratio_words"]),
        time_words=tuple(answers["time_words"]),
        reason_words=tuple(answers["reason_words"]),
        place_prepositions=tuple(answers["place_prepositions"]),
        pronouns=frozenset(talk["pronouns"]),
        person_pronouns=frozenset(talk["person_pronouns"]),
        statement_references=frozenset(talk["statement_references"]),
        ellipsis=tuple(sorted(talk["ellipsis"], key=len, reverse=True)),
        later=tuple(talk["later"]),
        earlier=tuple(talk["earlier"]),
    )
