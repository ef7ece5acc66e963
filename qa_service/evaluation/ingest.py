"""Ingestion measured on annotated pages: dates, titles, outlets, kept body text and leaked chrome.

A split is a folder of pages with an `annotations.json` beside them: for each page the expected
title, date, publisher and wire `source` (each may be null), body fragments that must survive and
chrome fragments that must not. Every page goes through the same loading and cleaning as `qa index`.
A date is right when it equals the expected one (no date where none is expected is right too), wrong
when it differs (a date where none is expected is wrong), and missing when none was found for a page
that states one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..cleaning import clean_document
from ..domain import Document
from ..lexicon import load_lexicon
from ..loading import Skipped, read_sources

QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
ANNOTATIONS = "annotations.json"
MAX_FILE_BYTES = 5_000_000


def normalised(text: str | None) -> str:
    """For comparing fragments and facts: straight quotes, one space, no case."""
    return re.sub(r"\s+", " ", (text or "").translate(QUOTES)).strip().casefold()


def _same(found: str | None, expected: str | None) -> bool:
    """Equal after normalising; a wire agency's names are one ("AP" is "Associated Press")."""
    if expected is None or found is None:
        return expected is None and found is None
    lexicon = load_lexicon()
    found, expected = (lexicon.wire_name(name) or name for name in (found, expected))
    return normalised(found).strip(" .") == normalised(expected).strip(" .")


@dataclass
class PageResult:
    file: str
    date: str  # right | wrong | missing
    title_right: bool
    publisher_right: bool
    source_right: bool
    body_kept: int
    body_total: int
    chrome_leaked: int
    chrome_total: int
    found: dict = field(default_factory=dict)
    expected: dict = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)


def score_page(doc: Document | None, note: dict) -> PageResult:
    text = normalised(doc.text if doc else "")
    found = {k: getattr(doc, k) if doc else None for k in ("title", "date", "publisher", "source", "url")}
    expected_date = note.get("date")
    if found["date"] == expected_date:
        date = "right"
    elif found["date"] is None:
        date = "missing"
    else:
        date = "wrong"
    lost = [f for f in note["body"] if normalised(f) not in text]
    leaked = [f for f in note["chrome"] if normalised(f) in text]
    return PageResult(
        file=note["file"],
        date=date,
        title_right=_same(found["title"], note.get("title")),
        publisher_right=_same(found["publisher"], note.get("publisher")),
        source_right=_same(found["source"], note.get("source")),
        body_kept=len(note["body"]) - len(lost),
        body_total=len(note["body"]),
        chrome_leaked=len(leaked),
        chrome_total=len(note["chrome"]),
        found=found,
        expected={k: note.get(k) for k in found},
        lost=lost,
        leaked=leaked,
    )


def evaluate_split(folder: Path) -> list[PageResult]:
    """Clean every annotated page of ``folder`` and score it."""
    notes = json.loads((folder / ANNOTATIONS).read_text("utf-8"))
    docs: dict[str, Document] = {}
    for item in read_sources(folder, MAX_FILE_BYTES):
        if not isinstance(item, Skipped):
            docs[item.path.name] = clean_document(item)
    return [score_page(docs.get(note["file"]), note) for note in notes]


def summarise(results: list[PageResult]) -> dict:
    stated = [r for r in results if r.expected["date"] is not None]
    right = sum(r.date == "right" for r in results)
    return {
        "pages": len(results),
        "dates_right": right,
        "dates_wrong": sum(r.date == "wrong" for r in results),
        "dates_missing": sum(r.date == "missing" for r in results),
        "dates_found_of_stated": sum(r.date == "right" for r in stated) / max(1, len(stated)),
        "titles_right": sum(r.title_right for r in results) / max(1, len(results)),
        "publishers_right": sum(r.publisher_right for r in results) / max(1, len(results)),
        "sources_right": sum(r.source_right for r in results) / max(1, len(results)),
        "body_kept": sum(r.body_kept for r in results) / max(1, sum(r.body_total for r in results)),
        "chrome_leaked": sum(r.chrome_leaked for r in results) / max(1, sum(r.chrome_total for r in results)),
    }


HELD_OUT = ("heldout", "final")  # splits no rule was tuned on: their misses are never listed


def is_held_out(split: Path) -> bool:
    return split.name.startswith(HELD_OUT)


def splits(root: Path) -> list[Path]:
    """The annotated folders under ``root`` (or ``root`` itself), tuning splits first."""
    if (root / ANNOTATIONS).is_file():
        return [root]
    return sorted((p.parent for p in root.glob(f"*/{ANNOTATIONS}")), key=lambda p: (is_held_out(p), p.name))


def format_summary(name: str, summary: dict) -> str:
    return (
        f"{name}: {summary['pages']} pages | dates right {summary['dates_right']}, wrong {summary['dates_wrong']}, "
        f"missing {summary['dates_missing']} (found {summary['dates_found_of_stated']:.1%} of stated) | "
        f"titles {summary['titles_right']:.1%} | publishers {summary['publishers_right']:.1%} | "
        f"wire sources {summary['sources_right']:.1%} | body kept {summary['body_kept']:.1%} | "
        f"chrome leaked {summary['chrome_leaked']:.1%}"
    )


def format_details(results: list[PageResult]) -> str:
    lines = []
    for r in results:
        wrong = [
            f"{key}: {r.found[key]!r} (expected {r.expected[key]!r})"
            for key, ok in (
                ("date", r.date == "right"),
                ("title", r.title_right),
                ("publisher", r.publisher_right),
                ("source", r.source_right),
            )
            if not ok
        ]
        wrong += [f"lost: {f!r}" for f in r.lost] + [f"leaked: {f!r}" for f in r.leaked]
        if wrong:
            lines.append(f"{r.file}\n    " + "\n    ".join(wrong))
    return "\n".join(lines) or "every page as annotated"
