"""Query to ranked passages: dense, BM25 and their fusion, with metadata filters (searched by the index backend)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .analysis import Query
from .backends import NOTHING
from .domain import AskOptions, Hit
from .evidence import check, unknown_terms
from .index_store import LoadedIndex
from .settings import Scoring
from .terms import coverage

MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("score", "rrf")


def relevance(scoring: Scoring, dense: float, sentence: float, cover: float, unmet: int = 0) -> float:
    """A 0..1 estimate that a passage answers the question, comparable across questions."""
    base = scoring.w_dense * dense + scoring.w_sentence * sentence + scoring.w_coverage * cover
    return min(1.0, max(0.0, base * scoring.penalty ** min(unmet, scoring.max_unmet)))


def allowed_ids(index: LoadedIndex, options: AskOptions) -> np.ndarray | None:
    """Passage ids that pass the date, publisher and document filters (None: no filter).

    The plain reference for LoadedIndex.filter_passages, which retrieval uses (it is vectorised: ~100 ms
    against a few at a million passages); the tests and the benchmark check that both keep the same ids.
    """
    if not (options.since or options.until or options.publishers or options.doc_ids):
        return None
    publishers = {p.casefold() for p in options.publishers}
    doc_ids = set(options.doc_ids)
    keep = set()
    for doc in index.documents.values():
        if doc_ids and doc.doc_id not in doc_ids:
            continue
        if publishers and (doc.publisher or "").casefold() not in publishers:
            continue
        if options.since and (not doc.date or doc.date < options.since):
            continue
        if options.until and (not doc.date or doc.date > options.until):
            continue
        keep.add(doc.doc_id)
    return np.array([p.passage_id for p in index.passages if p.doc_id in keep], dtype=np.int64)


class Retriever:
    def __init__(self, index: LoadedIndex, scoring: Scoring, fusion: str = "score") -> None:
        self.index = index
        self.scoring = scoring
        self.fusion = fusion

    def retrieve(self, query: Query, options: AskOptions) -> list[Hit]:
        """Candidates from the mode's retrievers, scored on every signal, in the mode's order."""
        qvec = query.vector
        restriction = self.index.restrict(options)  # the backend's filter: an id array, or payload conditions
        if qvec is None or restriction is NOTHING:
            return []
        n = min(max(self.scoring.candidates, options.k * 4), len(self.index.passages))
        unknown = unknown_terms(query, self.index.idf)
        dense = self.index.search_dense(qvec, n, restriction) if options.mode != "bm25" else {}
        bm25 = self.index.search_sparse(query.terms, n, restriction) if options.mode != "dense" else {}
        ids = list(dict.fromkeys([*dense, *bm25]))
        if not ids:
            return []
        vectors = self.index.passage_vectors[ids] @ qvec
        hits = []
        for pid, dense_score in zip(ids, vectors, strict=True):
            passage = self.index.passages[pid]
            rows = slice(passage.first_sentence, passage.first_sentence + len(passage.sentences))
            sentence = float(np.max(self.index.sentence_vectors[rows] @ qvec)) if passage.sentences else 0.0
            cover = coverage(query.terms, self.index.passage_terms(pid), self.index.idf, self.index.default_idf)
            evidence = check(query, passage.text, unknown)
            rel = relevance(self.scoring, float(dense_score), sentence, cover, evidence.unmet)
            hits.append(
                Hit(
                    passage,
                    0.0,
                    rel,
                    float(dense_score),
                    sentence,
                    bm25.get(pid, 0.0),
                    cover,
                    evidence.unmet,
                    evidence.holds_type,
                )
            )
        return self._rank(hits, options.mode)

    def _rank(self, hits: list[Hit], mode: str) -> list[Hit]:
        if mode == "dense":
            keyed = [(h.dense, h) for h in hits]
        elif mode == "bm25":
            keyed = [(h.bm25, h) for h in hits]
        elif self.fusion == "rrf":
            k = self.scoring.rrf_k
            by_dense = {h.passage.passage_id: r for r, h in enumerate(sorted(hits, key=lambda h: -h.dense))}
            by_bm25 = {h.passage.passage_id: r for r, h in enumerate(sorted(hits, key=lambda h: -h.bm25))}
            keyed = [
                (1 / (k + by_dense[h.passage.passage_id]) + 1 / (k + by_bm25[h.passage.passage_id]), h) for h in hits
            ]
        else:
            keyed = [(h.relevance, h) for h in hits]
        keyed.sort(key=lambda pair: (-pair[0], pair[1].passage.passage_id))
        return [replace(h, fused=float(score)) for score, h in keyed]
