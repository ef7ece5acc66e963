"""A deterministic synthetic news corpus at any size, and the scale run over it.

``python -m benchmarks.synthetic --size 100000`` generates the corpus, builds the real index
(``index_store.write_index``: FAISS chosen by size, BM25, manifest), loads it, and measures build
time, size on disk, memory, query latency through ``QAService.ask``, BM25 and dense search alone,
and recall@10 of the chosen FAISS index against exact search. It prints one JSON object.

Vectors: up to ``--embed-limit`` passages every passage and sentence is embedded with the real
model (``vectors: "model"``). Above it embedding alone would take longer than the run allows on two
cores, so vectors are *composed* (``vectors: "composed"``): the normalised sum of real model
embeddings of the passage's topic, people, organisation and place, plus Gaussian noise. That keeps
the clustered, low-dimensional shape of text embeddings, which is what decides ANN recall; uniform
random unit vectors (``--vectors random``) are the worst case for any ANN index and are labelled so.
At the embed limit the run also measures recall on composed vectors, to show the proxy is fair.

Filtered search: questions restricted to a date range that keeps about 1 % of the passages are
searched through ``LoadedIndex.search_dense`` (what retrieval does) and, for comparison, through
FAISS with an id selector alone; both are scored by recall@10 against exact search over the
allowed passages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa_service.domain import AskOptions, Document, Passage

from .stats import alternated, timed

SEED = 20250504
PASSAGES_PER_DOC = 10
NOISE = 0.35  # norm of the Gaussian noise added to a composed vector, relative to its components

FIRST = (
    "Akira",
    "Maria",
    "James",
    "Li",
    "Fatima",
    "Carlos",
    "Ingrid",
    "Rahul",
    "Chen",
    "Olga",
    "Kwame",
    "Sofia",
    "Hiro",
    "Amara",
    "Pierre",
    "Yuki",
    "Daniel",
    "Aisha",
    "Marco",
    "Elena",
)
LAST = (
    "Tanaka",
    "Silva",
    "Okafor",
    "Novak",
    "Haddad",
    "Lindqvist",
    "Mehta",
    "Wang",
    "Moreau",
    "Kowalski",
    "Osei",
    "Rossi",
    "Suzuki",
    "Petrov",
    "Garcia",
    "Keller",
    "Nakamura",
    "Adeyemi",
    "Larsen",
    "Costa",
)
ROLES = (
    "finance minister",
    "chief executive",
    "central bank governor",
    "trade representative",
    "chief economist",
    "spokesperson",
    "energy minister",
    "head of research",
)
ORGS = (
    "the Finance Ministry",
    "Northwind Bank",
    "the Trade Council",
    "Helios Motors",
    "the Central Bank",
    "Atlas Shipping",
    "the Treasury",
    "Orion Steel",
    "Meridian Capital",
    "the Energy Agency",
    "Vega Semiconductors",
    "the Statistics Office",
    "Cobalt Mining",
    "Harbor Insurance",
    "the Labour Union",
)
PLACES = (
    "Japan",
    "Brazil",
    "Nigeria",
    "Germany",
    "India",
    "Canada",
    "Mexico",
    "Korea",
    "France",
    "Kenya",
    "Australia",
    "Poland",
    "Chile",
    "Egypt",
    "Vietnam",
    "Norway",
    "Turkey",
    "Spain",
    "Indonesia",
    "Peru",
)
TOPICS = (
    "tariffs on steel imports",
    "interest rates",
    "electric vehicle sales",
    "government bond holdings",
    "crude oil output",
    "semiconductor exports",
    "housing prices",
    "wheat harvests",
    "consumer inflation",
    "shipping costs",
    "copper demand",
    "factory orders",
    "unemployment benefits",
    "currency intervention",
    "corporate tax rates",
    "natural gas storage",
    "airline capacity",
    "retail spending",
    "public debt",
    "rare earth supplies",
    "pension reform",
    "bank lending",
    "coal imports",
    "tourism revenue",
    "minimum wages",
    "solar panel installations",
    "fertiliser prices",
    "container traffic",
    "mortgage approvals",
    "defence spending",
)
CHANGES = ("rise", "fall", "stabilise", "recover", "slow", "double", "shrink", "climb")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
EVENTS = (
    "a surprise policy change",
    "weeks of talks",
    "a sharp drop in demand",
    "new trade rules",
    "a court ruling",
    "an election",
    "a strike at major ports",
    "record quarterly results",
)
TEMPLATES = (
    "What did {person} say about {topic} in {place}?",
    "How will {topic} in {place} change this year?",
    "Why did {org} comment on {topic}?",
    "When did {person} discuss {topic}?",
    "What do analysts expect for {topic} in {place}?",
    "Did {org} warn about {topic}?",
)


@dataclass(frozen=True)
class Synthetic:
    """A generated corpus: documents, passages (3 sentences each) and the parts each sentence was made of."""

    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]
    parts: tuple[tuple[tuple[str, ...], ...], ...]  # per passage, per sentence: the phrases it names


def _passage(rng: random.Random) -> tuple[list[str], list[tuple[str, ...]]]:
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    org, org2 = rng.sample(ORGS, 2)
    place, place2 = rng.sample(PLACES, 2)
    topic, topic2 = rng.sample(TOPICS, 2)
    pct = rng.randint(1, 40)
    year = rng.randint(2015, 2025)
    sentences = [
        f"{person}, the {rng.choice(ROLES)} at {org}, said on {rng.choice(DAYS)} that {topic} in {place} "
        f"would {rng.choice(CHANGES)} by {pct} percent this year.",
        f"{org2[0].upper() + org2[1:]} reviewed {topic} after {rng.choice(EVENTS)} in {rng.choice(MONTHS)} {year}, "
        f"according to people familiar with the matter.",
        f"Analysts expect {topic2} in {place2} to {rng.choice(CHANGES)} while {person.split()[1]} "
        f"meets officials from {place} next month.",
    ]
    parts = [(person, org, topic, place), (org2, topic), (topic2, place2, person)]
    return sentences, parts


def generate(size: int, seed: int = SEED) -> Synthetic:
    """``size`` passages in documents of ten, the same for the same ``size`` and ``seed``."""
    rng = random.Random(seed)
    documents, passages, parts = [], [], []
    sentence_row = 0
    for d in range((size + PASSAGES_PER_DOC - 1) // PASSAGES_PER_DOC):
        doc_id = f"syn{d:07d}"
        texts, offsets = [], 0
        for _ in range(min(PASSAGES_PER_DOC, size - len(passages))):
            sentences, named = _passage(rng)
            text = " ".join(sentences)
            spans, pos = [], 0
            for s in sentences:
                spans.append((pos, pos + len(s)))
                pos += len(s) + 1
            pid = len(passages)
            passages.append(
                Passage(pid, doc_id, len(texts), offsets, offsets + len(text), text, tuple(spans), sentence_row, pid)
            )
            parts.append(tuple(named))
            sentence_row += len(spans)
            texts.append(text)
            offsets += len(text) + 2
        day = 1 + d % 28
        documents.append(
            Document(
                doc_id=doc_id,
                title=f"Synthetic report {d}",
                text="\n\n".join(texts),
                publisher=f"Wire {d % 7}",
                date=f"2025-{1 + d % 12:02d}-{day:02d}",
                source_path=f"synthetic/{doc_id}.txt",
            )
        )
    return Synthetic(tuple(documents), tuple(passages), tuple(parts))


def questions(n: int, seed: int = SEED + 1) -> list[str]:
    """``n`` distinct questions about the synthetic corpus's people, topics and places."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < n:
        template = rng.choice(TEMPLATES)
        seen[
            template.format(
                person=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                topic=rng.choice(TOPICS),
                place=rng.choice(PLACES),
                org=rng.choice(ORGS),
            )
        ] = None
    return list(seen)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def composed_vectors(
    corpus: Synthetic, encode: Callable[[list[str]], np.ndarray], seed: int = SEED, chunk: int = 200_000
):
    """Passage and sentence vectors made of real embeddings of the phrases they name, plus noise."""
    phrases = sorted({p for passage in corpus.parts for sentence in passage for p in sentence})
    position = {p: i for i, p in enumerate(phrases)}
    table = np.asarray(encode(phrases), dtype=np.float32)
    dim = table.shape[1]
    table = np.vstack([table, np.zeros((1, dim), np.float32)])  # the last row pads short sentences
    width = max(len(named) for passage in corpus.parts for named in passage)
    pad = [len(phrases)] * width
    ids = np.array(
        [([position[p] for p in named] + pad)[:width] for passage in corpus.parts for named in passage],
        dtype=np.int32,
    )
    rng = np.random.default_rng(seed)
    scale = NOISE / np.sqrt(dim)
    sentences = np.empty((len(ids), dim), dtype=np.float32)
    for lo in range(0, len(ids), chunk):
        rows = ids[lo : lo + chunk]
        part = table[rows[:, 0]]
        for column in range(1, width):
            part += table[rows[:, column]]
        sentences[lo : lo + chunk] = _unit(part)
    counts = np.array([len(p) for p in corpus.parts])
    passages = _unit(np.add.reduceat(sentences, np.concatenate([[0], np.cumsum(counts)[:-1]]), axis=0))
    passages += rng.standard_normal(passages.shape, dtype=np.float32) * scale
    passages = _unit(passages)
    for lo in range(0, len(sentences), chunk):
        block = sentences[lo : lo + chunk]
        block += rng.standard_normal(block.shape, dtype=np.float32) * scale
        sentences[lo : lo + chunk] = _unit(block)
    return passages, sentences


def random_vectors(passages: int, sentences: int, dim: int, seed: int = SEED):
    """Uniform random unit vectors: the worst case for approximate search."""
    rng = np.random.default_rng(seed)
    return (
        _unit(rng.standard_normal((passages, dim), dtype=np.float32)),
        _unit(rng.standard_normal((sentences, dim), dtype=np.float32)),
    )


def recall_at_10(index, vectors: np.ndarray, queries: np.ndarray) -> float:
    """Share of the exact top 10 (brute-force inner product) that ``index`` also returns in its top 10."""
    import faiss

    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    _, found = index.search(queries, 10)
    return round(float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])), 4)


def one_percent_filter(documents: tuple[Document, ...], passages: int, share: float = 0.01) -> AskOptions:
    """A date range (from the earliest date on) that keeps about ``share`` of the passages."""
    per_date: dict[str, int] = {}
    for doc in documents:
        per_date[doc.date] = per_date.get(doc.date, 0) + PASSAGES_PER_DOC
    kept, until = 0, None
    for date in sorted(per_date):
        if kept and kept + per_date[date] > share * passages:
            break
        kept, until = kept + per_date[date], date
    return AskOptions(k=10, since=min(per_date), until=until)


def filtered_recall(loaded, allowed: np.ndarray, queries: np.ndarray) -> tuple[float, float]:
    """Recall@10 under a filter: ``search_dense`` (what retrieval does) and FAISS's id selector alone."""
    import faiss

    truth = [set(allowed[np.argsort(-(loaded.passage_vectors[allowed] @ q))[:10]].tolist()) for q in queries]
    ours = [set(loaded.search_dense(q, 10, allowed)) for q in queries]
    dense = loaded.searcher.faiss
    params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
    if hasattr(dense, "hnsw"):
        params = faiss.SearchParametersHNSW(sel=faiss.IDSelectorBatch(allowed), efSearch=dense.hnsw.efSearch)
    _, found = dense.search(queries, 10, params=params)
    plain = [set(f[f >= 0].tolist()) for f in found]

    def recall(got: list[set]) -> float:
        return round(float(np.mean([len(t & g) / max(1, len(t)) for t, g in zip(truth, got, strict=True)])), 4)

    return recall(ours), recall(plain)


def _rss_mb() -> float:
    try:
        import psutil

        return round(psutil.Process().memory_info().rss / 2**20, 1)
    except ImportError:
        return float("nan")


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _disk(build: Path) -> dict:
    sizes = {p.relative_to(build).as_posix(): p.stat().st_size for p in build.rglob("*") if p.is_file()}
    groups: dict[str, int] = {}
    for name, size in sizes.items():
        key = name.split("/")[0].split(".")[0]
        groups[key] = groups.get(key, 0) + size
    return {
        "total_mb": round(sum(sizes.values()) / 2**20, 1),
        "by_part_mb": {k: round(v / 2**20, 1) for k, v in sorted(groups.items())},
    }


def run_scale(
    size: int,
    vectors: str = "auto",
    embed_limit: int = 10_000,
    queries: int = 100,
    workdir: Path | None = None,
    threads: int = 0,
    exact_limit: int | None = None,
) -> dict:
    """Build, load and query a ``size``-passage synthetic index; return the figures as a dict.

    The build uses the libraries' default threads; queries use ``threads`` (0: the default too).
    ``exact_limit`` overrides ``Settings.exact_index_limit`` (the size above which HNSW is built).
    """
    import faiss

    from qa_service import index_store
    from qa_service.backends.local import choose_faiss_index
    from qa_service.corpus import Corpus
    from qa_service.embedding import Embedder
    from qa_service.retrieval import allowed_ids
    from qa_service.service import QAService
    from qa_service.settings import load_settings
    from qa_service.terms import terms

    timings: dict[str, float] = {}
    start = time.perf_counter()
    corpus = generate(size)
    timings["generate_s"] = time.perf_counter() - start
    n_sentences = sum(len(p.sentences) for p in corpus.passages)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        settings = load_settings(
            index_dir=Path(tmp) / "index", source_dir=Path(tmp) / "none", cache_size=0, exact_index_limit=exact_limit
        )
        embedder = Embedder.from_settings(settings)
        embedder.encode(["warm-up"])
        kind = vectors if vectors != "auto" else ("model" if size <= embed_limit else "composed")
        start = time.perf_counter()
        if kind == "model":
            pv = embedder.encode([p.text for p in corpus.passages])
            sv = embedder.encode([p.text[s:e] for p in corpus.passages for s, e in p.sentences])
        elif kind == "composed":
            pv, sv = composed_vectors(corpus, embedder.encode)
        else:
            pv, sv = random_vectors(size, n_sentences, embedder.dimension)
        timings["vectors_s"] = time.perf_counter() - start

        start = time.perf_counter()
        written = index_store.write_index(
            Corpus(corpus.documents, corpus.passages, ()),
            pv,
            sv,
            settings,
            embedder.name,
            f"synthetic-{size}-{SEED}",
            embedder.identity,
        )
        timings["write_index_s"] = time.perf_counter() - start
        build = written.path
        del pv, sv
        proxy_corpus = corpus if kind == "model" else None
        narrow = one_percent_filter(corpus.documents, size)
        del corpus  # memory after load should be the service's, not the generator's
        disk = _disk(build)

        rss_before = _rss_mb()
        start = time.perf_counter()
        loaded = index_store.load_index(settings, check_sources=False)
        timings["load_s"] = time.perf_counter() - start
        rss_loaded = _rss_mb()
        service = QAService(settings, embedder=embedder, index=loaded)
        asked = questions(queries + 5)
        for q in asked[:5]:
            service.ask(q)
        qvecs = embedder.encode(asked)
        # The index's own dense and BM25 searches, the ones retrieval calls.
        search = lambda v: loaded.search_dense(v, settings.scoring.candidates, None)  # noqa: E731
        dense_default = timed(search, list(qvecs[5:]))
        if threads:
            faiss.omp_set_num_threads(threads)
            embedder = Embedder.from_settings(settings, threads=threads)
            embedder.encode(["warm-up"])
            service = QAService(settings, embedder=embedder, index=loaded)
        encode, ask = alternated([lambda q: embedder.encode([q]), service.ask], [asked[5:], asked[5:]])
        dense = timed(search, list(qvecs[5:]))
        bm25 = timed(lambda q: loaded.search_sparse(tuple(terms(q)), settings.scoring.candidates, None), asked[5:])
        recall = recall_at_10(loaded.searcher.faiss, loaded.passage_vectors, qvecs)
        allowed = allowed_ids(loaded, narrow)
        if loaded.filter_passages(narrow).tolist() != allowed.tolist():  # also builds its columns, once
            raise RuntimeError("filter_passages and allowed_ids disagree")
        filter_python = timed(lambda _: allowed_ids(loaded, narrow), range(10))
        filter_numpy = timed(lambda _: loaded.filter_passages(narrow), range(10))
        filtered_dense = timed(lambda v: loaded.search_dense(v, settings.scoring.candidates, allowed), list(qvecs[5:]))
        filtered_ask = timed(lambda q: service.ask(q, narrow), asked[5:])
        ours, selector_only = filtered_recall(loaded, allowed, qvecs)
        result = {
            "passages": size,
            "sentences": n_sentences,
            "vectors": kind,
            "faiss_index": loaded.manifest.faiss_index,
            "recall_at_10": recall,
            "filter": {"since": narrow.since, "until": narrow.until, "passages": len(allowed)},
            "filtered_recall_at_10": ours,
            "selector_recall_at_10": selector_only,
            "overhead_ms": round(ask["p50_ms"] - encode["p50_ms"], 3),
            "embed_backend": embedder.variant,
            "query_threads": faiss.omp_get_max_threads(),
            "timings_s": {k: round(v, 2) for k, v in timings.items()},
            "write_timings_s": written.timings,
            "build_passages_per_s": round(size / (timings["vectors_s"] + timings["write_index_s"]), 1),
            "disk": disk,
            "rss_mb": {"before_load": rss_before, "loaded": rss_loaded, "peak": _peak_mb()},
            "latency": {
                "ask": ask,
                "encode": encode,
                "dense_search": dense,
                "dense_search_default_threads": dense_default,
                "bm25_retrieve": bm25,
                "filtered_dense": filtered_dense,
                "filtered_ask": filtered_ask,
                "filter_ids_allowed_ids": filter_python,
                "filter_ids_filter_passages": filter_numpy,
            },
        }
        if kind == "model":  # the same corpus with composed vectors: is the proxy used above the limit fair?
            cpv, _ = composed_vectors(proxy_corpus, embedder.encode)
            proxy, _ = choose_faiss_index(cpv, 0)
            exact_model, _ = choose_faiss_index(loaded.passage_vectors, 0)
            result["proxy_check"] = {
                "ann_recall_model_vectors": recall_at_10(exact_model, loaded.passage_vectors, qvecs),
                "ann_recall_composed_vectors": recall_at_10(proxy, cpv, qvecs),
            }
        service.close()
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, required=True, help="Passages to generate.")
    parser.add_argument("--vectors", choices=("auto", "model", "composed", "random"), default="auto")
    parser.add_argument("--embed-limit", type=int, default=10_000, help="Largest size embedded with the model.")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--workdir", type=Path, default=None, help="Where the temporary index is built.")
    parser.add_argument("--threads", type=int, default=0, help="torch and faiss threads for queries (0: default).")
    parser.add_argument("--exact-limit", type=int, default=None, help="Largest size searched exactly (FAISS flat).")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result = run_scale(
        args.size, args.vectors, args.embed_limit, args.queries, args.workdir, args.threads, args.exact_limit
    )
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
