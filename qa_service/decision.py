"""Answer, doubt or refuse: a calibrated decision over a few features of the best passages.

One fused score cannot tell "the sources answer this" from "the sources mention this": both put a
passage on the subject first. A logistic regression over several signals of the top passages
separates them better: how close the best passage and its best sentence come to the question, how
much of the question's wording they cover, whether they hold the kind of answer asked for, how many
checks they fail, and how far the first passage stands ahead of the second. Its weights and the two
cut points are fit by stratified cross-validation (`qa eval --cv 5`) and kept in Scoring, so serving
needs only a dot product.

The outcomes: at or above `answer_above` the service answers (confidence "high"); below `refuse_below`
it refuses (confidence "none", abstained); between, it shows the nearest passages and their closest
sentences and says that no passage states this directly (confidence "low").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .domain import Hit
from .settings import Scoring

FEATURES = (
    "relevance",
    "sentence",
    "coverage",
    "dense",
    "margin",
    "holds_type",
    "unmet",
    "sentence_coverage",
    "absent",
)


def features(hits: Sequence[Hit], sentence_coverage: float = 0.0, absent: float = 0.0) -> np.ndarray:
    """The decision's inputs for a ranked list of distinct passages (best first).

    ``sentence_coverage`` is the share of the question's wording in the top passage's best sentence;
    ``absent`` the share (IDF-weighted) of it that the corpus never uses.
    """
    if not hits:
        return np.zeros(len(FEATURES))
    top = hits[0]
    second = hits[1].relevance if len(hits) > 1 else 0.0
    holds = 0.5 if top.holds_type is None else float(top.holds_type)
    return np.array(
        [
            top.relevance,
            top.sentence,
            top.coverage,
            top.dense,
            top.relevance - second,
            holds,
            float(top.unmet),
            sentence_coverage,
            absent,
        ]
    )


def probability(values: np.ndarray, scoring: Scoring) -> float:
    """The estimate that the sources answer the question."""
    if len(scoring.decision_weights) != len(FEATURES):
        raise ValueError(f"scoring has {len(scoring.decision_weights)} decision weights for {len(FEATURES)} features")
    z = (values - np.asarray(scoring.feature_means)) / np.asarray(scoring.feature_scales)
    logit = float(z @ np.asarray(scoring.decision_weights)) + scoring.decision_bias
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))


def confidence(p: float, scoring: Scoring) -> str:
    if p >= scoring.answer_above:
        return "high"
    if p < scoring.refuse_below:
        return "none"
    return "low"
