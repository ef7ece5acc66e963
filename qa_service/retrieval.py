"""Question to ranked passages: dense (FAISS), BM25, and their fusion, with metadata filters."""

from __future__ import annotations

import numpy as np

from .domain import AskOptions, Hit
from .evidence import evidence_factor, parse_question, unknown_terms
from .index_store import LoadedIndex
from .terms import coverage, terms

MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("score", "rrf")
RRF_K = 60
# Weights of the relevance estimate: whole-passage meaning, best single sentence, word coverage.
# Chosen by `qa eval` over a small grid (see docs/quality.md); the best single sentence and the
# question's words found in the passage carry more than the passage's overall meaning.
W_DENSE, W_SENTENCE, W_COVERAGE = 0.2, 0.4, 0.4


def relevance(dense: float, sentence: float, cover: float, evidence: float = 1.0) -> float:
    """A 0..1 estimate that a passage answers the question, comparable across questions."""
    return min(1.0, max(0.0, (W_DENSE * dense + W_SENTENCE * sentence + W_COVERAGE * cover) * evidence))


def allowed_ids(index: LoadedIndex, options: AskOptions) -> np.ndarray | None:
    """Passage ids that pass the date, publisher and document filters (None: no filter)."""
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
    def __init__(self, index: LoadedIndex, candidates: int = 50, fusion: str = "score") -> None:
        self.index = index
        self.candidates = candidates
        self.fusion = fusion

    def _dense(self, qvec: np.ndarray, n: int, allowed: np.ndarray | None) -> dict[int, float]:
        return self.index.search_dense(qvec, n, allowed)

    def _bm25(self, qterms: list[str], n: int, allowed: np.ndarray | None) -> dict[int, float]:
        known = [t for t in qterms if t in self.index.bm25.vocab_dict]
        if not known:
            return {}
        scores = self.index.bm25.get_scores(known)
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[allowed] = True
            scores = np.where(mask, scores, 0.0)
        matching = np.flatnonzero(scores)  # usually a small share of a large corpus
        if len(matching) > n:
            matching = matching[np.argpartition(-scores[matching], n - 1)[:n]]
        return {int(i): float(scores[i]) for i in matching}

    def retrieve(self, qvec: np.ndarray, question: str, options: AskOptions) -> list[Hit]:
        """Candidates from the mode's retrievers, scored on every signal, in the mode's order."""
        allowed = allowed_ids(self.index, options)
        if allowed is not None and len(allowed) == 0:
            return []
        n = min(max(self.candidates, options.k * 4), len(self.index.passages))
        qterms = terms(question)
        constraints = parse_question(question)
        unknown = unknown_terms(constraints, self.index.idf)
        dense = self._dense(qvec, n, allowed) if options.mode != "bm25" else {}
        bm25 = self._bm25(qterms, n, allowed) if options.mode != "dense" else {}
        ids = list(dict.fromkeys([*dense, *bm25]))
        if not ids:
            return []
        vectors = self.index.passage_vectors[ids] @ qvec
        hits = []
        for pid, dense_score in zip(ids, vectors, strict=True):
            passage = self.index.passages[pid]
            rows = slice(passage.first_sentence, passage.first_sentence + len(passage.sentences))
            sentence = float(np.max(self.index.sentence_vectors[rows] @ qvec)) if passage.sentences else 0.0
            cover = coverage(qterms, self.index.passage_terms(pid), self.index.idf, self.index.default_idf)
            rel = relevance(float(dense_score), sentence, cover, evidence_factor(constraints, passage.text, unknown))
            hits.append(Hit(passage, 0.0, rel, float(dense_score), sentence, bm25.get(pid, 0.0), cover))
        return self._rank(hits, options.mode)

    def _rank(self, hits: list[Hit], mode: str) -> list[Hit]:
        from dataclasses import replace

        if mode == "dense":
            keyed = [(h.dense, h) for h in hits]
        elif mode == "bm25":
            keyed = [(h.bm25, h) for h in hits]
        elif self.fusion == "rrf":
            by_dense = {h.passage.passage_id: r for r, h in enumerate(sorted(hits, key=lambda h: -h.dense))}
            by_bm25 = {h.passage.passage_id: r for r, h in enumerate(sorted(hits, key=lambda h: -h.bm25))}
            keyed = [
                (1 / (RRF_K + by_dense[h.passage.passage_id]) + 1 / (RRF_K + by_bm25[h.passage.passage_id]), h)
                for h in hits
            ]
        else:
            keyed = [(h.relevance, h) for h in hits]
        keyed.sort(key=lambda pair: (-pair[0], pair[1].passage.passage_id))
        return [replace(h, fused=float(score)) for score, h in keyed]
