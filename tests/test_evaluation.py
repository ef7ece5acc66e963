"""The evaluation harness, gated on floors the project meets now (raised as quality improves; lowered only
when the pool itself changed, with the old floor written beside the new one).

The figures that count are the cross-validated ones: each pooled question (qa_pairs, second_set,
third_set) is answered with values fit on the other folds, and the untouched split (untouched.jsonl, written by a
helper who saw neither the code nor the other questions) is answered with values fit on the pool, and
read by no fitting. The plain `qa eval` report on qa_pairs uses the shipped values, which were fit on a
pool that includes it, so its floors check the plumbing more than the quality.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_service.evaluation import Evaluation, format_report, load_pairs
from qa_service.evaluation.cv import cross_validate, folds_of, format_cv
from qa_service.evaluation.qa import QAPair

EVAL = Path(__file__).parent / "eval"
POOL = [EVAL / "qa_pairs.jsonl", EVAL / "second_set.jsonl", EVAL / "third_set.jsonl"]
UNTOUCHED = EVAL / "untouched.jsonl"
UNTOUCHED2 = EVAL / "untouched2.jsonl"  # a second final split, written later by another helper, read once


@pytest.fixture(scope="module")
def report(seed_service):
    return Evaluation.from_files(seed_service, EVAL / "qa_pairs.jsonl").run()


@pytest.fixture(scope="module")
def cv(seed_service):
    pool = [pair for path in POOL for pair in load_pairs(path)]
    return cross_validate(seed_service, pool, load_pairs(UNTOUCHED), 5)


@pytest.fixture(scope="module")
def cv2(seed_service):
    pool = [pair for path in POOL for pair in load_pairs(path)]
    return cross_validate(seed_service, pool, load_pairs(UNTOUCHED2), 5)


def test_the_pool_and_the_untouched_splits_are_large_and_varied():
    pool = [pair for path in POOL for pair in load_pairs(path)]
    untouched, untouched2 = load_pairs(UNTOUCHED), load_pairs(UNTOUCHED2)
    assert len(pool) + len(untouched) >= 150
    assert len(untouched2) >= 59
    for pairs in (pool, untouched, untouched2):
        kinds = {p.kind for p in pairs}
        assert kinds == {"answerable", "near_topic", "off_topic", "follow_up"}
    assert not {p.question for p in pool} & {p.question for p in untouched}
    assert not {_asked(p) for p in pool + untouched} & {_asked(p) for p in untouched2}


def _asked(pair: QAPair) -> tuple[str, ...]:
    """A question with the turns before it: a follow-up's last words ("where was he?") may recur."""
    return (*(turn.content for turn in pair.history), pair.question)


def test_folds_keep_the_mix_of_kinds():
    pool = [pair for path in POOL for pair in load_pairs(path)]
    fold = folds_of(pool, 5)
    for kind in ("answerable", "near_topic", "off_topic", "follow_up"):
        sizes = [sum(1 for p, f in zip(pool, fold, strict=True) if p.kind == kind and f == k) for k in range(5)]
        assert max(sizes) - min(sizes) <= 1, kind


def test_retrieval_floors(report):
    hybrid = report["modes"]["hybrid"]
    assert hybrid["hit@1"] >= 0.85
    assert hybrid["hit@3"] >= 0.95
    assert hybrid["mrr@5"] >= 0.90


def test_hybrid_beats_the_naive_baseline_on_every_metric(report):
    for metric, value in report["baseline"].items():
        assert report["modes"]["hybrid"][metric] > value, metric


def test_citations_and_chrome(report):
    answers = report["hybrid"]
    assert answers["citation_completeness"] == 1.0
    assert answers["boilerplate_leaks"] == []
    assert answers["dangling_citation_markers"] == 0
    assert answers["answer_sentence_accuracy"] >= 0.9


def test_held_out_fold_floors(cv):
    """Measured on the pool of three sets (third_set joined it on 2026-11-29; the floors of the smaller,
    easier pool were 0.9 / 0.95 / 0.85 / 0.9 for hit@1, hit@3, facts and follow-ups)."""
    held = cv["held_out_folds"]
    assert held["hit@1"] >= 0.8
    assert held["hit@3"] >= 0.92
    assert held["answer_holds_fact"] >= 0.82
    assert held["wrong_refusals"] <= 0.03
    assert held["refusal_recall_off_topic"] >= 0.9
    assert held["not_answered_near_topic"] >= 0.75  # refused, or told no passage states it
    assert held["refusal_precision"] >= 0.9
    assert held["follow_up_hit@3"] >= 0.8


def test_untouched_split_floors(cv):
    """What the untouched split measures with values fit on the pool of three sets (see docs/quality.md:
    hit@3 was 0.90 with values fit on the first two sets)."""
    final = cv["untouched_split"]
    assert final["hit@1"] >= 0.75
    assert final["hit@3"] >= 0.85
    assert final["follow_up_hit@3"] >= 0.75
    assert final["wrong_refusals"] <= 0.05
    assert final["refusal_recall_off_topic"] >= 0.9


def test_second_untouched_split_floors(cv2):
    """untouched2.jsonl, read once (2026-11-29) with the values fit on the pool; its floors are that reading
    (after dropping one question that was word for word a pool question: 0.939 / 1.0 / 0.909 / 0.030)."""
    final = cv2["untouched_split"]
    assert final["hit@1"] >= 0.93
    assert final["hit@3"] >= 1.0
    assert final["answer_holds_fact"] >= 0.9
    assert final["wrong_refusals"] <= 0.031
    assert final["refusal_recall_off_topic"] >= 1.0
    assert final["not_answered_near_topic"] >= 0.5
    assert final["follow_up_hit@3"] >= 0.8


def test_every_fitted_value_is_reported_with_its_spread_over_folds(cv):
    text = format_cv(cv)
    for name in ("w_dense", "w_coverage", "penalty", "decision_weights", "answer_above", "refuse_below"):
        assert name in text
    assert "held-out folds" in text and "untouched split" in text
    assert set(cv["fold_spread"]) >= {"w_dense", "answer_above", "refuse_below"}


def test_report_prints_every_metric_and_the_scoring(report):
    text = format_report(report)
    for name in (
        "hit@1",
        "mrr@5",
        "naive",
        "hybrid-rrf",
        "wrong_refusals",
        "refusal_recall_near_topic",
        "follow_up_hit@3",
        "boilerplate_leaks",
        "decision_weights",
        "w_dense",
    ):
        assert name in text
