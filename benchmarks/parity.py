"""`qa eval` on the local and the Qdrant backend over the same seeds, side by side, question by question.

``python -m benchmarks.parity [--set FILE ...]`` builds the seeds on both backends (Qdrant in embedded
local mode, in a temporary folder) with the real model and prints, per set, the metrics `qa eval`
reports for each backend, and each question whose outcome (rank of the first correct passage per mode,
the hybrid answer's confidence) differs. tests/test_backends.py holds the suite to the same comparison.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

SETS = tuple(Path("tests/eval") / name for name in ("qa_pairs.jsonl", "second_set.jsonl", "untouched.jsonl"))


def outcomes(service, set_path: Path, k: int = 5) -> dict[str, dict[str, object]]:
    """Each question's outcome: the rank of its first correct passage per mode (None: none in the top k;
    answerable questions only) and the hybrid answer's confidence (``none`` is a refusal)."""
    from qa_service.evaluation.qa import ask, first_correct, is_correct, load_pairs
    from qa_service.retrieval import MODES

    found = {}
    for pair in load_pairs(set_path):
        modes = MODES if pair.answerable and not pair.history else ("hybrid",)
        answers = {mode: ask(service, pair, k, mode) for mode in modes}
        outcome: dict[str, object] = {"confidence": answers["hybrid"].confidence}
        if pair.answerable:
            outcome |= {mode: first_correct([is_correct(x, pair) for x in a.passages]) for mode, a in answers.items()}
        found[pair.id] = outcome
    return found


def compare(services: dict, set_path: Path, k: int = 5) -> dict:
    """`qa eval`'s report per backend, and the questions whose outcome (``outcomes``) differs between them."""
    from qa_service.evaluation import Evaluation

    reports = {name: Evaluation.from_files(service, set_path, k).run() for name, service in services.items()}
    per_question = {name: outcomes(service, set_path, k) for name, service in services.items()}
    local, qdrant = per_question["local"], per_question["qdrant"]
    differ = {qid: {"local": local[qid], "qdrant": qdrant[qid]} for qid in local if local[qid] != qdrant[qid]}
    return {"set": str(set_path), "reports": reports, "differ": differ, "questions": len(local)}


def figures(report: dict) -> dict:
    """The figures the parity is judged on: Hit@k per mode and the refusal (confidence) outcomes."""
    keep = ("hit@1", "hit@3", "hit@5", "mrr@5")
    hybrid = report["hybrid"]
    return {
        **{f"{mode} {m}": report["modes"][mode][m] for mode in report["modes"] for m in keep},
        **{name: value for name, value in hybrid.items() if "refus" in name or "answered" in name},
        "uncertain_answerable": hybrid["uncertain_answerable"],
        "answer_holds_fact": hybrid["answer_holds_fact"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="sets", type=Path, action="append", help="question set (repeatable)")
    args = parser.parse_args(argv)
    from qa_service.embedding import Embedder
    from qa_service.index_store import build_index
    from qa_service.service import QAService
    from qa_service.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        embedder = None
        services = {}
        for backend in ("local", "qdrant"):
            settings = load_settings(index_dir=Path(tmp) / backend, cache_size=0, backend=backend)
            embedder = embedder or Embedder.from_settings(settings)
            build_index(settings, embedder)
            services[backend] = QAService.open(settings, embedder=embedder)
        for set_path in args.sets or SETS:
            result = compare(services, set_path)
            local, qdrant = (figures(result["reports"][b]) for b in ("local", "qdrant"))
            print(f"{set_path} ({result['questions']} questions)")
            for name in local:
                mark = "" if local[name] == qdrant[name] else "   <- differs"
                print(f"  {name:<32} local {local[name]:.3f}   qdrant {qdrant[name]:.3f}{mark}")
            differ = json.dumps(result["differ"]) if result["differ"] else "none"
            print(f"  questions whose outcome differs: {differ}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
