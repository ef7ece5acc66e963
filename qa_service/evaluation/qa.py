"""Evaluation on fixed question/answer pairs: a library object returning named metrics.

Each question has a kind: answerable, near_topic (unanswerable, about what the sources discuss),
off_topic (unanswerable, about something else) or follow_up (answerable only with its history).
Refusals are counted both ways, since a wrong refusal of an answerable question costs as much as an
answer to an unanswerable one: `wrong_refusals` (answerable questions refused) and `refusal_recall`
(unanswerable ones refused), with the uncertain middle reported beside them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..analysis import analyse
from ..answering import answer
from ..conversation import Turn
from ..domain import Answer, AnswerPassage, AskOptions
from ..loading import read_sources
from ..retrieval import MODES, Retriever
from ..service import QAService

KS = (1, 3, 5)
KINDS = ("answerable", "near_topic", "off_topic", "follow_up")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", LINK.sub(r"\1", text).translate(QUOTES)).strip().lower()


@dataclass(frozen=True)
class QAPair:
    id: str
    question: str
    answerable: bool
    key_phrases: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    history: tuple[Turn, ...] = ()
    kind: str = "answerable"

    def holds_key(self, text: str) -> bool:
        body = normalise(text)
        return any(normalise(k) in body for k in self.key_phrases)


def _kind(data: dict) -> str:
    if data.get("kind") in KINDS:
        return data["kind"]
    if data.get("history"):
        return "follow_up"
    return "answerable" if data["answerable"] else "near_topic"


def load_pairs(path: Path) -> list[QAPair]:
    pairs = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            pairs.append(
                QAPair(
                    id=data["id"],
                    question=data["question"],
                    answerable=bool(data["answerable"]),
                    key_phrases=tuple(data.get("key_phrases", ())),
                    doc_ids=tuple(data.get("doc_ids", ())),
                    history=tuple(Turn(t["role"], t["content"]) for t in data.get("history", ())),
                    kind=_kind(data),
                )
            )
    return pairs


def is_correct(passage: AnswerPassage, pair: QAPair) -> bool:
    docs = {passage.citation.doc_id} | {c.doc_id for c in passage.also_reported_by}
    return bool(docs & set(pair.doc_ids)) and pair.holds_key(passage.text)


def first_correct(texts_ok: list[bool]) -> int | None:
    return next((i + 1 for i, ok in enumerate(texts_ok) if ok), None)


def ranking_metrics(ranks: list[int | None]) -> dict[str, float]:
    n = max(1, len(ranks))
    metrics = {f"hit@{k}": sum(1 for r in ranks if r and r <= k) / n for k in KS}
    metrics["mrr@5"] = sum(1 / r for r in ranks if r and r <= 5) / n
    return metrics


def ask(service: QAService, pair: QAPair, k: int = 5, mode: str = "hybrid") -> Answer:
    options = AskOptions(k=k, mode=mode)
    if pair.history:
        return service.chat([*pair.history, Turn("user", pair.question)], options)
    return service.ask(pair.question, options)


def outcome_metrics(pairs: list[QAPair], answers: dict[str, Answer]) -> dict[str, float]:
    """Retrieval, answer and decision figures for answered ``pairs`` (any mix of kinds)."""

    def share(selected: list[QAPair], test) -> float:
        return sum(test(answers[p.id]) for p in selected) / max(1, len(selected))

    answerable = [p for p in pairs if p.kind == "answerable"]
    follow = [p for p in pairs if p.kind == "follow_up" and p.answerable]
    near = [p for p in pairs if p.kind == "near_topic" or (p.kind == "follow_up" and not p.answerable)]
    off = [p for p in pairs if p.kind == "off_topic"]
    unanswerable = near + off
    ranks = [first_correct([is_correct(x, p) for x in answers[p.id].passages]) for p in answerable]
    refused = [p for p in pairs if answers[p.id].confidence == "none"]
    return {
        **ranking_metrics(ranks),
        "answer_holds_fact": sum(bool(answers[p.id].answer) and p.holds_key(answers[p.id].answer) for p in answerable)
        / max(1, len(answerable)),
        "wrong_refusals": share(answerable, lambda a: a.confidence == "none"),
        "uncertain_answerable": share(answerable, lambda a: a.confidence == "low"),
        "refusal_recall": share(unanswerable, lambda a: a.confidence == "none"),
        "refusal_recall_near_topic": share(near, lambda a: a.confidence == "none"),
        "refusal_recall_off_topic": share(off, lambda a: a.confidence == "none"),
        "not_answered_near_topic": share(near, lambda a: a.confidence != "high"),
        "not_answered_off_topic": share(off, lambda a: a.confidence != "high"),
        "refusal_precision": sum(not p.answerable for p in refused) / max(1, len(refused)),
        "follow_up_hit@3": ranking_metrics(
            [first_correct([is_correct(x, p) for x in answers[p.id].passages]) for p in follow]
        )["hit@3"],
    }


COUNTS = {"answerable": "answerable", "near_topic": "near-topic", "off_topic": "off-topic", "follow_up": "follow-ups"}


def counts(pairs: list[QAPair]) -> dict[str, int]:
    return {kind: sum(p.kind == kind for p in pairs) for kind in KINDS}


@dataclass
class Evaluation:
    """Runs a QA set against a service and reports named metrics (see `qa eval`)."""

    service: QAService
    pairs: list[QAPair]
    k: int = 5
    chrome_markers: list[str] = field(default_factory=list)
    expected_dates: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_files(cls, service: QAService, set_path: Path, k: int = 5) -> Evaluation:
        folder = set_path.parent
        markers_file = folder / "chrome_markers.txt"
        markers = (
            [m for m in markers_file.read_text("utf-8").splitlines() if m.strip() and not m.startswith("#")]
            if markers_file.is_file()
            else []
        )
        dates_file = folder / "expected_dates.json"
        dates = json.loads(dates_file.read_text("utf-8")) if dates_file.is_file() else {}
        return cls(service, load_pairs(set_path), k, markers, dates)

    def _rrf_ranks(self, answerable: list[QAPair]) -> list[int | None]:
        """Hybrid with reciprocal rank fusion instead of score fusion, for comparison."""
        service, ranks = self.service, []
        scoring = service.settings.scoring
        retriever = Retriever(service.index, scoring, "rrf")
        for pair in answerable:
            query = analyse(pair.question)
            query = query.with_vector(service.embedder.encode([query.resolved])[0])
            options = AskOptions(k=self.k)
            result = answer(query, retriever.retrieve(query, options), service.index, options, scoring)
            ranks.append(first_correct([is_correct(x, pair) for x in result.passages]))
        return ranks

    def run(self) -> dict:
        single = [p for p in self.pairs if not p.history]
        answerable = [p for p in single if p.answerable]
        report: dict = {"questions": counts(self.pairs), "modes": {}}
        hybrid: dict[str, Answer] = {}
        for mode in MODES:
            answers = {p.id: ask(self.service, p, self.k, mode) for p in single}
            if mode == "hybrid":
                hybrid = answers
            ranks = [first_correct([is_correct(x, p) for x in answers[p.id].passages]) for p in answerable]
            report["modes"][mode] = ranking_metrics(ranks)
        report["modes"]["hybrid-rrf"] = ranking_metrics(self._rrf_ranks(answerable))
        hybrid.update({p.id: ask(self.service, p, self.k) for p in self.pairs if p.history})
        report["hybrid"] = {**outcome_metrics(self.pairs, hybrid), **self._answer_checks(hybrid, answerable)}
        report["baseline"] = self.naive_baseline(answerable)
        report["scoring"] = self.service.settings.scoring.model_dump()
        return report

    def _answer_checks(self, answers: dict[str, Answer], answerable: list[QAPair]) -> dict:
        sentence_ok = 0
        for p in answerable:
            correct = next((x for x in answers[p.id].passages if is_correct(x, p)), None)
            if correct and any(p.holds_key(correct.text[s:e]) for s, e in correct.highlights):
                sentence_ok += 1
        citations = [c for a in answers.values() for x in a.passages for c in (x.citation, *x.also_reported_by)]
        complete = [
            c
            for c in citations
            if c.doc_id
            and c.title
            and c.publisher
            and c.date
            and (c.doc_id not in self.expected_dates or self.expected_dates[c.doc_id] == c.date)
        ]
        leaks = sorted({m for a in answers.values() for x in a.passages for m in self.chrome_markers if m in x.text})
        bad_markers = sum(
            1
            for a in answers.values()
            if a.answer
            for n in re.findall(r"\[(\d+)\]", a.answer)
            if not 1 <= int(n) <= len(a.passages)
        )
        return {
            "answer_sentence_accuracy": sentence_ok / max(1, len(answerable)),
            "citation_completeness": len(complete) / max(1, len(citations)),
            "boilerplate_leaks": leaks,
            "dangling_citation_markers": bad_markers,
        }

    def naive_baseline(self, answerable: list[QAPair]) -> dict[str, float]:
        """Raw paragraphs of the uncleaned files, dense search only: what cleaning and fusion buy."""
        paragraphs: list[tuple[str, str]] = []
        for raw in read_sources(self.service.settings.source_dir, self.service.settings.max_file_bytes):
            if hasattr(raw, "text"):
                paragraphs += [(raw.doc_id, p.strip()) for p in re.split(r"\n\s*\n", raw.text) if p.strip()]
        vectors = self.service.embedder.encode([text for _, text in paragraphs])
        ranks = []
        for pair in answerable:
            qvec = self.service.embedder.encode([pair.question])[0]
            order = np.argsort(-(vectors @ qvec))[: self.k]
            ok = [paragraphs[i][0] in pair.doc_ids and pair.holds_key(paragraphs[i][1]) for i in order]
            ranks.append(first_correct(ok))
        return ranking_metrics(ranks)


def format_metrics(metrics: dict) -> list[str]:
    return [
        f"{name:<28} {value:.3f}" if isinstance(value, float) else f"{name:<28} {value}"
        for name, value in metrics.items()
    ]


def format_scoring(scoring: dict) -> list[str]:
    lines = ["scoring (settings.Scoring; fitted values from data/scoring.toml):"]
    for name, value in scoring.items():
        shown = "[" + ", ".join(f"{v:.4g}" for v in value) + "]" if isinstance(value, list | tuple) else value
        lines.append(f"  {name:<22} {shown}")
    return lines


def format_report(report: dict) -> str:
    columns = list(report["modes"])
    lines = [
        "questions: " + ", ".join(f"{n} {COUNTS[k]}" for k, n in report["questions"].items()),
        "",
        f"{'metric':<10}" + "".join(f"{m:>12}" for m in [*columns, "naive"]),
    ]
    for metric in ("hit@1", "hit@3", "hit@5", "mrr@5"):
        row = [report["modes"][m][metric] for m in columns] + [report["baseline"][metric]]
        lines.append(f"{metric:<10}" + "".join(f"{v:>12.3f}" for v in row))
    lines.append("")
    lines += format_metrics({k: v for k, v in report["hybrid"].items() if not k.startswith(("hit@", "mrr@"))})
    lines.append("")
    lines += format_scoring(report["scoring"])
    return "\n".join(lines)
