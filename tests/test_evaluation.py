"""The evaluation harness on the project's two sets, gated on floors the project meets now.

Raise the floors as quality improves; never lower them. The second set was written after the
scoring had been tuned on the first, in other words, to show how the rules carry to new wording.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_service.evaluation import Evaluation, calibrate, format_report

EVAL_SET = Path(__file__).parent / "eval" / "qa_pairs.jsonl"
SECOND_SET = Path(__file__).parent / "eval" / "second_set.jsonl"


@pytest.fixture(scope="module")
def report(seed_service):
    return Evaluation.from_files(seed_service, EVAL_SET).run()


def test_set_is_large_and_varied(report):
    counts = report["questions"]
    assert counts["answerable"] >= 40 and counts["unanswerable"] >= 10 and counts["multi_turn"] >= 8


def test_retrieval_floors(report):
    hybrid = report["modes"]["hybrid"]
    assert hybrid["hit@1"] >= 0.85
    assert hybrid["hit@3"] >= 0.95
    assert hybrid["mrr@5"] >= 0.90


def test_hybrid_beats_the_naive_baseline_on_every_metric(report):
    for metric, value in report["baseline"].items():
        assert report["modes"]["hybrid"][metric] > value, metric


def test_answer_citation_and_abstention_floors(report):
    answers = report["hybrid"]
    assert answers["answer_sentence_accuracy"] >= 0.9
    assert answers["answer_holds_key_phrase"] >= 0.92
    assert answers["citation_completeness"] == 1.0
    assert answers["abstention_precision"] >= 0.9
    assert answers["abstention_recall"] >= 0.9
    assert answers["boilerplate_leaks"] == []
    assert answers["dangling_citation_markers"] == 0


def test_multi_turn_floor(report):
    assert report["multi_turn"]["hit@3"] >= 0.9


def test_floors_on_the_second_set(seed_service):
    second = Evaluation.from_files(seed_service, SECOND_SET).run()
    assert second["questions"]["answerable"] >= 25 and second["questions"]["unanswerable"] >= 10
    assert second["modes"]["hybrid"]["hit@1"] >= 0.85
    assert second["modes"]["hybrid"]["hit@3"] >= 0.95
    answers = second["hybrid"]
    assert answers["answer_sentence_accuracy"] >= 0.89
    assert answers["answer_holds_key_phrase"] >= 0.89
    assert answers["citation_completeness"] == 1.0
    assert answers["abstention_precision"] >= 0.9
    # Half of these near-topic questions still get an answer: telling "the sources mention X"
    # from "the sources answer this about X" needs a reading model (docs/quality.md).
    assert answers["abstention_recall"] >= 0.5
    assert answers["boilerplate_leaks"] == []


def test_report_prints_every_metric(report):
    text = format_report(report)
    for name in (
        "hit@1",
        "mrr@5",
        "naive",
        "hybrid-rrf",
        "abstention_recall",
        "calibrated_threshold",
        "multi_turn hit@3",
        "boilerplate_leaks",
    ):
        assert name in text


def test_calibration_separates_the_two_kinds():
    assert 0.4 < calibrate([0.7, 0.8, 0.9], [0.1, 0.2, 0.3]) < 0.7
    assert calibrate([0.6, 0.65, 0.7], [0.2, 0.62]) == pytest.approx(0.635, abs=0.001)
