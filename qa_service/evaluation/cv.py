"""Fitting the tuned numbers by stratified k-fold cross-validation, and reporting held-out figures only.

The pool (the project's question sets) is split into k folds that keep the mix of kinds (answerable,
near-topic, off-topic, follow-up). For each fold, every fitted value is fit on the other folds:
  - the relevance weights and the penalty, by a grid search that maximises MRR@5 (then Hit@1) of the
    answerable questions over candidates retrieved once per question;
  - the decision (a logistic regression over decision.FEATURES of the top passages) and its two cut
    points: `refuse_below` refuses at most 2 % of answerable training questions, `answer_above`
    answers at most 10 % of unanswerable ones; between them the service says no passage states it.
The fold's questions are then asked through the whole service with those values, and only these
held-out answers are scored. A final line fits on the whole pool and scores the untouched split,
which no fitting ever reads; the values fit on the whole pool are what `--write` stores.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..analysis import Query, analyse
from ..answering import collapse, decision_inputs, score_sentences
from ..decision import FEATURES
from ..domain import AskOptions, Hit
from ..retrieval import Retriever, relevance
from ..service import QAService
from ..settings import SCORING_FILE, Scoring
from .qa import QAPair, ask, counts, is_correct, outcome_metrics

WEIGHT_STEP = 0.1
PENALTIES = (0.4, 0.5, 0.6, 0.7, 0.8)
NEAR_BEST = 0.01  # MRR@5 (and Hit@1) within this of the best count as equally good
MAX_WRONG_REFUSALS = 0.02  # share of answerable training questions refused (out of fold): under the 3 % target
MAX_ANSWERED_UNANSWERABLE = 0.10  # share of unanswerable training questions answered with confidence
INNER_REPEATS = 5  # shuffles of the inner cross-validation that sets the cut points


@dataclass
class Sample:
    """One single-turn question with its candidates, retrieved once: what fitting needs."""

    pair: QAPair
    query: Query
    hits: list[Hit]
    correct: np.ndarray  # per candidate: does it answer the question
    raw: np.ndarray  # per candidate: dense, sentence, coverage, unmet


def collect(service: QAService, pairs: list[QAPair], k: int = 5) -> list[Sample]:
    retriever = Retriever(service.index, service.settings.scoring)
    samples = []
    for pair in pairs:
        query = analyse(pair.question)
        query = query.with_vector(service.embedder.encode([query.resolved])[0])
        hits = retriever.retrieve(query, AskOptions(k=k))
        correct = np.array([pair.answerable and _answers(h, pair, service) for h in hits], dtype=bool)
        raw = np.array([[h.dense, h.sentence, h.coverage, h.unmet] for h in hits], dtype=float).reshape(-1, 4)
        samples.append(Sample(pair, query, hits, correct, raw))
    return samples


def _answers(hit: Hit, pair: QAPair, service: QAService) -> bool:
    doc = service.index.documents[hit.passage.doc_id]
    return doc.doc_id in pair.doc_ids and pair.holds_key(hit.passage.text)


def _ranked(sample: Sample, scoring: Scoring) -> list[Hit]:
    from dataclasses import replace

    rescored = [replace(h, relevance=relevance(scoring, h.dense, h.sentence, h.coverage, h.unmet)) for h in sample.hits]
    return sorted(rescored, key=lambda h: (-h.relevance, h.passage.passage_id))


def _mrr_hit1(samples: list[Sample], w: tuple[float, float, float], penalty: float) -> tuple[float, float]:
    mrr = hit1 = 0.0
    for s in samples:
        if not s.correct.any():
            continue
        dense, sentence, cover, unmet = s.raw.T
        score = (w[0] * dense + w[1] * sentence + w[2] * cover) * penalty ** np.minimum(unmet, 3)
        order = np.argsort(-score, kind="stable")
        rank = int(np.flatnonzero(s.correct[order])[0]) + 1
        mrr += 1 / rank if rank <= 5 else 0.0
        hit1 += rank == 1
    n = max(1, sum(s.correct.any() for s in samples))
    return mrr / n, hit1 / n


def fit_weights(samples: list[Sample]) -> dict:
    """Relevance weights (on a simplex grid) and penalty: the most even weighting among those within
    NEAR_BEST of the best MRR@5 (then the best Hit@1).

    The optimum is flat on a small pool: many weightings rank the training questions equally well, and
    the arg-max alone swings between folds, down to a weight of 0 for a signal that new wording needs.
    Preferring the most even of the near-best weightings keeps every signal in play.
    """
    answerable = [s for s in samples if s.pair.answerable]
    steps = round(1 / WEIGHT_STEP)
    grid = [(a / steps, b / steps, (steps - a - b) / steps) for a in range(steps + 1) for b in range(steps + 1 - a)]
    scored = {(w, p): _mrr_hit1(answerable, w, p) for w in grid for p in PENALTIES}
    best_mrr = max(mrr for mrr, _ in scored.values())
    near = {wp: v for wp, v in scored.items() if v[0] >= best_mrr - NEAR_BEST}
    best_hit1 = max(hit1 for _, hit1 in near.values())

    def evenness(w: tuple[float, float, float]) -> float:
        return -sum(x * np.log(x) for x in w if x > 0)  # entropy: highest when the weights are equal

    (w_dense, w_sentence, w_coverage), penalty = max(
        (wp for wp, v in near.items() if v[1] >= best_hit1 - NEAR_BEST),
        key=lambda wp: (evenness(wp[0]), -abs(wp[1] - 0.6)),
    )
    return {"w_dense": w_dense, "w_sentence": w_sentence, "w_coverage": w_coverage, "penalty": penalty}


def decision_rows(samples: list[Sample], scoring: Scoring, service: QAService) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    index = service.index
    for s in samples:
        tops = [rep for rep, _ in collapse(_ranked(s, scoring), 5, index, scoring.same_text)]
        scored = score_sentences(index, tops[0].passage, s.query, 1, scoring) if tops else []
        rows.append(decision_inputs(s.query, tops, scored, index))
        labels.append(s.pair.answerable)
    return np.array(rows).reshape(-1, len(FEATURES)), np.array(labels, dtype=bool)


def _model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)


def fit_decision(x: np.ndarray, y: np.ndarray) -> dict:
    """A class-balanced logistic regression on standardised features, and its two cut points.

    The cut points are set on out-of-fold probabilities of the training questions (an inner
    cross-validation, averaged over INNER_REPEATS shuffles), not on the probabilities of questions the
    model was fit on, which are optimistic and would refuse more answerable questions than intended.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales == 0] = 1.0
    z = (x - means) / scales
    model = _model().fit(z, y)
    splits = min(5, int(min(y.sum(), (~y).sum())))
    refuse, answer = [], []
    for seed in range(INNER_REPEATS):  # a 2 % quantile rests on a few questions: average over shuffles
        inner = StratifiedKFold(n_splits=splits, shuffle=True, random_state=seed + 1)
        p = cross_val_predict(_model(), z, y, cv=inner, method="predict_proba")[:, 1]
        refuse.append(float(np.quantile(p[y], MAX_WRONG_REFUSALS)))
        answer.append(float(np.quantile(p[~y], 1 - MAX_ANSWERED_UNANSWERABLE)))
    refuse_below = float(np.mean(refuse))
    answer_above = max(float(np.mean(answer)), refuse_below)
    return {
        "decision_weights": [round(float(v), 6) for v in model.coef_[0]],
        "decision_bias": round(float(model.intercept_[0]), 6),
        "feature_means": [round(float(v), 6) for v in means],
        "feature_scales": [round(float(v), 6) for v in scales],
        "answer_above": round(answer_above, 6),
        "refuse_below": round(refuse_below, 6),
    }


def fit(samples: list[Sample], service: QAService) -> dict:
    """Every fitted value, from these samples only."""
    weights = fit_weights(samples)
    scoring = service.settings.scoring.model_copy(update=weights)
    x, y = decision_rows(samples, scoring, service)
    return {**weights, **fit_decision(x, y)}


def with_scoring(service: QAService, values: dict) -> QAService:
    """The same model and index, answering with other fitted values (no cache, no batching)."""
    settings = service.settings.model_copy(
        update={"scoring": service.settings.scoring.model_copy(update=values), "cache_size": 0, "max_batch": 1}
    )
    return QAService(settings, service.embedder, service.index)


def folds_of(pairs: list[QAPair], k: int, seed: int = 0) -> list[int]:
    """Each question's fold, stratified by kind."""
    from sklearn.model_selection import StratifiedKFold

    labels = [p.kind for p in pairs]
    fold = [0] * len(pairs)
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for number, (_, test) in enumerate(splitter.split(np.zeros(len(pairs)), labels)):
        for i in test:
            fold[i] = number
    return fold


def cross_validate(service: QAService, pool: list[QAPair], untouched: list[QAPair], k: int = 5) -> dict:
    """Held-out-fold figures for the pool, the untouched split's figures, and the values fit on the pool."""
    single = [p for p in pool if not p.history]
    samples = {s.pair.id: s for s in collect(service, single)}
    fold = dict(zip((p.id for p in pool), folds_of(pool, k), strict=True))
    held_out: dict = {}
    per_fold = []
    for number in range(k):
        train = [samples[p.id] for p in single if fold[p.id] != number]
        values = fit(train, service)
        per_fold.append(values)
        fold_service = with_scoring(service, values)
        held_out.update({p.id: ask(fold_service, p) for p in pool if fold[p.id] == number})
    values = fit(list(samples.values()), service)
    final_service = with_scoring(service, values)
    final = {p.id: ask(final_service, p) for p in untouched}
    return {
        "folds": k,
        "pool": counts(pool),
        "untouched": counts(untouched),
        "held_out_folds": outcome_metrics(pool, held_out),
        "untouched_split": outcome_metrics(untouched, final) if untouched else {},
        "fitted": values,
        "fold_spread": {
            name: [min(v[name] for v in per_fold), max(v[name] for v in per_fold)]
            for name in ("w_dense", "w_sentence", "w_coverage", "penalty", "answer_above", "refuse_below")
        },
        "misses": _misses(pool, held_out),
    }


def _misses(pairs: list[QAPair], answers: dict) -> list[str]:
    """Which pooled questions the held-out folds got wrong (never the untouched split's)."""
    out = []
    for p in pairs:
        a = answers[p.id]
        if p.kind == "answerable":
            rank = next((i + 1 for i, x in enumerate(a.passages) if is_correct(x, p)), None)
            if a.confidence != "high" or rank != 1:
                out.append(f"{p.id} {a.confidence} rank={rank}: {p.question}")
        elif p.kind in ("near_topic", "off_topic") and a.confidence != "none":
            out.append(f"{p.id} {a.confidence} ({p.kind}): {p.question}")
    return out


def write_fitted(values: dict, path: Path | None = None) -> Path:
    """Store the values fit on the whole pool as the Scoring defaults (data/scoring.toml)."""
    path = path or Path(str(resources.files("qa_service.data").joinpath(SCORING_FILE)))
    text = path.read_text("utf-8")
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    body = "\n".join(f"{name} = {_toml(value)}" for name, value in values.items())
    path.write_text(f"{header}\n\n{body}\n", "utf-8")
    tomllib.loads(path.read_text("utf-8"))  # what was written must load
    return path


def _toml(value) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(round(value, 6)) if isinstance(value, float) else str(value)


def format_cv(report: dict) -> str:
    lines = [
        f"{report['folds']}-fold cross-validation, stratified by kind; pool {report['pool']}",
        "held-out folds (each question scored with values fit on the other folds):",
    ]
    lines += [f"  {name:<28} {value:.3f}" for name, value in report["held_out_folds"].items()]
    if report["untouched_split"]:
        lines.append(f"untouched split {report['untouched']} (values fit on the whole pool):")
        lines += [f"  {name:<28} {value:.3f}" for name, value in report["untouched_split"].items()]
    lines.append("fitted on the whole pool:")
    for name, value in report["fitted"].items():
        shown = "[" + ", ".join(f"{v:.4g}" for v in value) + "]" if isinstance(value, list) else f"{value:.4g}"
        lines.append(f"  {name:<22} {shown}")
    lines.append(
        "range over the folds: " + ", ".join(f"{k} {v[0]:.3g}-{v[1]:.3g}" for k, v in report["fold_spread"].items())
    )
    return "\n".join(lines)
