"""The local backend (FAISS + bm25s) beside Qdrant's embedded local mode on one synthetic corpus.

``python -m benchmarks.backends --size 10000`` generates the synthetic corpus (benchmarks/synthetic.py,
composed vectors: embedding 10k passages with the model takes ~11 min here and changes no figure
below), writes it with ``index_store.write_index`` on each backend, loads it, and times the searches
retrieval calls (dense, BM25, dense under a 1 % date filter) and ``QAService.ask``. It prints one JSON
object and a table.

Qdrant here is qdrant-client's *local mode*: pure Python and numpy in this process, exact search, no
HNSW, no payload indexes, no network. Its figures say what the tests and a laptop pay, not how fast a
Qdrant server is (docs/performance.md, "Qdrant").
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from .stats import timed


def run_backend(backend: str, size: int, queries: int, tmp: Path) -> dict:
    """Build, load and query the ``size``-passage corpus on ``backend``; the figures as a dict."""
    from qa_service import index_store
    from qa_service.corpus import Corpus
    from qa_service.embedding import Embedder
    from qa_service.service import QAService
    from qa_service.settings import load_settings
    from qa_service.terms import terms

    from .synthetic import SEED, composed_vectors, generate, one_percent_filter, questions

    settings = load_settings(index_dir=tmp / backend / "index", source_dir=tmp / "none", cache_size=0, backend=backend)
    embedder = Embedder.from_settings(settings)
    corpus = generate(size)
    pv, sv = composed_vectors(corpus, embedder.encode)
    start = time.perf_counter()
    written = index_store.write_index(
        Corpus(corpus.documents, corpus.passages, ()), pv, sv, settings, embedder.name, f"synthetic-{size}-{SEED}"
    )
    build_s = time.perf_counter() - start
    narrow = one_percent_filter(corpus.documents, size)
    start = time.perf_counter()
    loaded = index_store.load_index(settings, check_sources=False)
    load_s = time.perf_counter() - start
    service = QAService(settings, embedder=embedder, index=loaded)
    asked = questions(queries + 5)
    for question in asked[:5]:
        service.ask(question)
    qvecs = list(embedder.encode(asked[5:]))
    n = settings.scoring.candidates
    restriction = loaded.restrict(narrow)
    result = {
        "backend": backend,
        "index": loaded.manifest.faiss_index,
        "passages": size,
        "build_s": round(build_s, 2),
        "backend_write_s": {k: v for k, v in written.timings.items() if k.startswith(("faiss", "bm25", "qdrant"))},
        "load_s": round(load_s, 2),
        "dense": timed(lambda v: loaded.search_dense(v, n), qvecs),
        "bm25": timed(lambda q: loaded.search_sparse(tuple(terms(q)), n), asked[5:]),
        "filtered_dense": timed(lambda v: loaded.search_dense(v, n, restriction), qvecs),
        "ask": timed(service.ask, asked[5:]),
    }
    service.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000, help="Passages to generate.")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        results = [run_backend(b, args.size, args.queries, Path(tmp)) for b in ("local", "qdrant")]
    print(json.dumps(results))
    print(f"\n{args.size} passages, composed vectors; qdrant = qdrant-client local mode (not a server)")
    heads = ("build s", "load s", "dense p50", "bm25 p50", "1% filter", "ask p50")
    print(f"{'backend':<8} " + " ".join(f"{h:>9}" for h in heads) + "   (p50 in ms)")
    for r in results:
        ms = [r[k]["p50_ms"] for k in ("dense", "bm25", "filtered_dense", "ask")]
        print(f"{r['backend']:<8} {r['build_s']:>9} {r['load_s']:>9} " + " ".join(f"{m:>9.2f}" for m in ms))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
