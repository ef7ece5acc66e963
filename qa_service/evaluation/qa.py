"""Evaluation on fixed question/answer pairs: a library object returning named metrics."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..conversation import Turn
from ..domain import Answer, AnswerPassage, AskOptions
from ..loading import read_sources
from ..retrieval import MODES
from ..service import QAService

KS = (1, 3, 5)
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

    def holds_key(self, text: str) -> bool:
        body = normalise(text)
        return any(normalise(k) in body for k in self.key_phrases)


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


def calibrate(answerable: list[float], unanswerable: list[float]) -> float:
    """The abstention threshold that best separates top scores of the two kinds of question.

    Maximises the sum of abstention F1 and answer F1; among tied cut points, the median.
    """
    scores = sorted(set(answerable) | set(unanswerable))
    if not scores:
        return 0.5
    cuts = [scores[0] - 1e-3] + [(a + b) / 2 for a, b in itertools.pairwise(scores)] + [scores[-1] + 1e-3]

    def quality(t: float) -> float:
        tp = sum(s < t for s in unanswerable)
        fp = sum(s < t for s in answerable)
        fn = len(unanswerable) - tp
        abstain_f1 = 2 * tp / max(1, 2 * tp + fp + fn)
        kept = len(answerable) - fp
        answer_f1 = 2 * kept / max(1, 2 * kept + fp + (len(unanswerable) - tp))
        return abstain_f1 + answer_f1

    best = max(quality(t) for t in cuts)
    winners = [t for t in cuts if quality(t) == best]
    return round(float(np.median(winners)), 4)


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

    def _ask(self, pair: QAPair, mode: str) -> Answer:
        options = AskOptions(k=self.k, mode=mode)
        if pair.history:
            return self.service.chat([*pair.history, Turn("user", pair.question)], options)
        return self.service.ask(pair.question, options)

    def _rrf_ranks(self, answerable: list[QAPair]) -> list[int | None]:
        """Hybrid with reciprocal rank fusion instead of score fusion, for comparison."""
        from ..answering import answer
        from ..retrieval import Retriever

        service, ranks = self.service, []
        retriever = Retriever(service.index, service.settings.candidates, "rrf")
        for pair in answerable:
            qvec = service.embedder.encode([pair.question])[0]
            options = AskOptions(k=self.k)
            hits = retriever.retrieve(qvec, pair.question, options)
            result = answer(pair.question, hits, service.index, qvec, options, service.settings.abstain_threshold)
            ranks.append(first_correct([is_correct(x, pair) for x in result.passages]))
        return ranks

    def run(self) -> dict:
        single = [p for p in self.pairs if not p.history]
        answerable = [p for p in single if p.answerable]
        unanswerable = [p for p in single if not p.answerable]
        report: dict = {
            "questions": {
                "answerable": len(answerable),
                "unanswerable": len(unanswerable),
                "multi_turn": len(self.pairs) - len(single),
            },
            "modes": {},
        }
        hybrid_answers: dict[str, Answer] = {}
        for mode in MODES:
            answers = {p.id: self._ask(p, mode) for p in single}
            if mode == "hybrid":
                hybrid_answers = answers
            ranks = [first_correct([is_correct(x, p) for x in answers[p.id].passages]) for p in answerable]
            report["modes"][mode] = ranking_metrics(ranks)
        report["modes"]["hybrid-rrf"] = ranking_metrics(self._rrf_ranks(answerable))
        report["hybrid"] = self._answer_metrics(hybrid_answers, answerable, unanswerable)
        turns = [p for p in self.pairs if p.history]
        if turns:
            ranks = [first_correct([is_correct(x, p) for x in self._ask(p, "hybrid").passages]) for p in turns]
            report["multi_turn"] = {"hit@3": ranking_metrics(ranks)["hit@3"], "cases": len(turns)}
        report["baseline"] = self.naive_baseline(answerable)
        return report

    def _answer_metrics(self, answers: dict[str, Answer], answerable: list[QAPair], unanswerable: list[QAPair]) -> dict:
        top = {pid: max((x.score for x in a.passages), default=0.0) for pid, a in answers.items()}
        threshold = calibrate([top[p.id] for p in answerable], [top[p.id] for p in unanswerable])
        abstained = {pid for pid, a in answers.items() if a.abstained}
        tp = sum(p.id in abstained for p in unanswerable)
        sentence_ok, answer_ok = 0, 0
        for p in answerable:
            result = answers[p.id]
            correct = next((x for x in result.passages if is_correct(x, p)), None)
            if correct and any(p.holds_key(correct.text[s:e]) for s, e in correct.highlights):
                sentence_ok += 1
            if result.answer and p.holds_key(result.answer):
                answer_ok += 1
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
            "answer_holds_key_phrase": answer_ok / max(1, len(answerable)),
            "citation_completeness": len(complete) / max(1, len(citations)),
            "abstention_precision": tp / max(1, len(abstained)),
            "abstention_recall": tp / max(1, len(unanswerable)),
            "boilerplate_leaks": leaks,
            "dangling_citation_markers": bad_markers,
            "calibrated_threshold": threshold,
            "configured_threshold": self.service.settings.abstain_threshold,
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


def format_report(report: dict) -> str:
    columns = list(report["modes"])
    lines = [
        f"questions: {report['questions']}",
        "",
        f"{'metric':<10}" + "".join(f"{m:>12}" for m in [*columns, "naive"]),
    ]
    for metric in ("hit@1", "hit@3", "hit@5", "mrr@5"):
        row = [report["modes"][m][metric] for m in columns] + [report["baseline"][metric]]
        lines.append(f"{metric:<10}" + "".join(f"{v:>12.3f}" for v in row))
    lines.append("")
    for name, value in report["hybrid"].items():
        lines.append(f"{name:<28} {value:.3f}" if isinstance(value, float) else f"{name:<28} {value}")
    if "multi_turn" in report:
        lines.append(
            f"{'multi_turn hit@3':<28} {report['multi_turn']['hit@3']:.3f} ({report['multi_turn']['cases']} cases)"
        )
    return "\n".join(lines)
