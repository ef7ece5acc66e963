"""Ingestion on the page-shape development set (tests/fixtures/pages/), gated on the floors it meets.

The tuning splits are what the rules were written from; the held-out splits (`heldout/`, `final/` ...
`final14/`) were written by helpers who never saw the code, and no rule was tuned on their misses. The
later ones were each read once, after the round they measure (`final8/` and `final9/` after the ninth,
`final10/` and `final11/` after the tenth, `final12/` after the eleventh, `final13/` after the twelfth,
`final14/` after the thirteenth);
`final12/`'s and `final13/`'s one wrong date each was then looked at and fixed
(tests/fixtures/pages/README.md). Their floors
are what they measured (docs/quality.md has the history); raise them, never lower them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_service.evaluation.ingest import evaluate_split, splits, summarise

PAGES = Path(__file__).parent / "fixtures" / "pages"
# split -> the floors it meets: dates found of those stated, titles, publishers, body kept, chrome leaked (at most)
FLOORS = {
    "tune": (1.0, 1.0, 1.0, 1.0, 0.0),
    "tune2": (1.0, 1.0, 1.0, 1.0, 0.0),
    "tune3": (1.0, 1.0, 0.95, 1.0, 0.0),
    "tune4": (1.0, 1.0, 0.9, 1.0, 0.0),
    "tune5": (1.0, 1.0, 0.85, 1.0, 0.0),
    "tune6": (1.0, 0.95, 0.85, 1.0, 0.01),
    "tune7": (1.0, 1.0, 0.8, 0.98, 0.026),
    "tune8": (1.0, 0.95, 0.9, 1.0, 0.011),
    "tune9": (1.0, 0.95, 0.9, 0.96, 0.031),
    "tune10": (0.94, 0.9, 0.95, 0.98, 0.011),
    "tune11": (1.0, 0.95, 0.75, 1.0, 0.0),
    "tune12": (0.94, 1.0, 0.95, 1.0, 0.011),
    "tune13": (1.0, 0.95, 0.8, 1.0, 0.0),
    "tune14": (0.88, 0.95, 0.9, 1.0, 0.011),
    "heldout": (0.85, 0.75, 1.0, 1.0, 0.016),
    "final": (1.0, 0.81, 0.875, 1.0, 0.033),
    "final2": (0.93, 0.83, 0.88, 1.0, 0.0),
    "final3": (1.0, 0.87, 0.81, 0.979, 0.035),
    "final4": (1.0, 0.93, 0.81, 1.0, 0.065),
    "final5": (0.85, 0.81, 0.81, 1.0, 0.031),
    "final6": (1.0, 0.75, 0.87, 1.0, 0.062),
    "final7": (0.94, 0.85, 0.75, 1.0, 0.045),
    "final8": (0.94, 0.75, 0.8, 1.0, 0.096),
    "final9": (0.94, 0.85, 1.0, 0.983, 0.123),
    "final10": (0.88, 0.8, 0.8, 1.0, 0.064),
    "final11": (0.94, 0.85, 0.95, 1.0, 0.065),
    "final12": (0.82, 0.85, 0.9, 1.0, 0.109),
    "final13": (1.0, 0.85, 0.85, 1.0, 0.061),
    "final14": (1.0, 0.7, 0.85, 0.983, 0.065),
}


@pytest.fixture(scope="module")
def summaries() -> dict[str, dict]:
    return {split.name: summarise(evaluate_split(split)) for split in splits(PAGES)}


def test_the_set_has_forty_pages_and_a_third_held_out(summaries):
    pages = {name: s["pages"] for name, s in summaries.items()}
    assert sum(pages.values()) >= 40
    held_out = sum(n for name, n in pages.items() if name.startswith(("heldout", "final")))
    assert held_out * 3 >= sum(pages.values()) * 0.9


@pytest.mark.parametrize("split", list(FLOORS))
def test_no_date_is_ever_wrong(summaries, split):
    assert summaries[split]["dates_wrong"] == 0


@pytest.mark.parametrize("split", list(FLOORS))
def test_floors(summaries, split):
    dates, titles, publishers, body, chrome = FLOORS[split]
    found = summaries[split]
    assert found["dates_found_of_stated"] >= dates
    assert found["titles_right"] >= titles
    assert found["publishers_right"] >= publishers
    assert found["body_kept"] >= body
    assert found["chrome_leaked"] <= chrome
