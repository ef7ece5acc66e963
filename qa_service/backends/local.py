"""The local backend: FAISS (dense) and bm25s (sparse) files in the build folder, made current by a symlink.

This is the index as it was before backends existed, moved here unchanged: the same files, the same
searches, the same filters (``LoadedIndex.filter_passages``, evaluated in numpy).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..domain import AskOptions
from ..errors import IndexCorruptError
from ..settings import Settings
from .base import NOTHING, BuildInput, WrittenSearch

if TYPE_CHECKING:
    from ..index_store import LoadedIndex, Manifest


def _bm25s():
    """bm25s, imported late (slow) and with the DEBUG logging it switches on at import turned back off."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def choose_faiss_index(vectors: np.ndarray, exact_limit: int):
    """Exact inner product up to ``exact_limit`` passages, HNSW above it; returns the index and its manifest label.

    HNSW with M=24 and efConstruction=40 builds about 3x faster on two cores than M=32/80 did
    (100k passages: 13 s against 45 s) at the same recall@10 (0.996 at efSearch=128, measured by
    `qa bench`; see docs/performance.md). HNSW rather than IVF, which built about as fast, because
    an IVF index refuses the plain ``faiss.SearchParameters`` that filtered retrieval passes.
    """
    import faiss

    n, dim = vectors.shape
    if n <= exact_limit:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index, "IndexFlatIP"
    index = faiss.IndexHNSWFlat(dim, 24, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 40
    index.hnsw.efSearch = 128
    index.add(vectors)
    return index, "IndexHNSWFlat(M=24,efConstruction=40,efSearch=128)"


def _mmap_flag() -> int:
    """FAISS reads its index in place from the page cache where this build of FAISS can (zero-copy mmap)."""
    import faiss

    return getattr(faiss, "IO_FLAG_MMAP_IFC", faiss.IO_FLAG_MMAP)


class LocalSearcher:
    """FAISS and bm25s over one build's files; filters are passage-id arrays (``LoadedIndex.filter_passages``)."""

    def __init__(self, index: LoadedIndex, dense, bm25, exact_limit: int) -> None:
        self.faiss = dense  # faiss.Index
        self.bm25 = bm25  # bm25s.BM25
        self.passage_vectors = index.passage_vectors
        self.exact_limit = exact_limit  # filters that keep at most this many passages are searched exactly
        self._filter = index.filter_passages

    def restrict(self, options: AskOptions) -> np.ndarray | object | None:
        allowed = self._filter(options)
        return NOTHING if allowed is not None and len(allowed) == 0 else allowed

    def dense(self, qvec: np.ndarray, n: int, allowed: np.ndarray | None = None) -> dict[int, float]:
        """The ``n`` passages nearest ``qvec`` (id -> inner product), among ``allowed`` ids when given.

        A filter that keeps at most ``exact_limit`` passages is searched exactly over those passages'
        vectors: a graph (HNSW) search under a narrow filter loses recall, and a scan of a few thousand
        vectors is cheap. A wider filter goes to FAISS with an id selector (HNSW with its own efSearch).
        """
        import faiss

        query = np.ascontiguousarray(qvec, dtype=np.float32).reshape(1, -1)
        if allowed is not None and len(allowed) <= self.exact_limit:
            # FAISS's own scan, not numpy's `@`: numpy's multi-threaded BLAS took 8.7 ms for 1,200 rows
            # on two shared cores, against 0.16 ms here.
            scores, rows = faiss.knn(query, self.passage_vectors[allowed], n, metric=faiss.METRIC_INNER_PRODUCT)
            return {int(allowed[r]): float(s) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0}
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(allowed)
            hnsw = getattr(self.faiss, "hnsw", None)
            if hnsw is not None:
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(hnsw.efSearch, n))
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self.faiss.search(query, n, params=params)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}

    def sparse(self, qterms: Sequence[str], n: int, allowed: np.ndarray | None = None) -> dict[int, float]:
        known = [t for t in qterms if t in self.bm25.vocab_dict]
        if not known:
            return {}
        scores = self.bm25.get_scores(known)
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[allowed] = True
            scores = np.where(mask, scores, 0.0)
        matching = np.flatnonzero(scores)  # usually a small share of a large corpus
        if len(matching) > n:
            matching = matching[np.argpartition(-scores[matching], n - 1)[:n]]
        return {int(i): float(scores[i]) for i in matching}

    def check(self) -> None:
        """Files on this machine: nothing to reach."""

    def retire(self) -> None:
        """Nothing to drop: the next build prunes old build folders (a process still mapping them keeps them)."""


class LocalBackend:
    name = "local"

    def write(self, build: BuildInput) -> WrittenSearch:
        import faiss

        bm25s = _bm25s()
        dense, label = choose_faiss_index(build.passage_vectors, build.settings.exact_index_limit)
        build.stage("faiss")
        faiss.write_index(dense, str(build.folder / "dense.faiss"))
        del dense
        retriever = bm25s.BM25()
        retriever.index(build.passage_terms, show_progress=False)
        retriever.save(str(build.folder / "bm25"), show_progress=False)
        build.stage("bm25")
        return WrittenSearch(label)

    def publish(self, manifest: Manifest, folder: Path, settings: Settings) -> str | None:
        from ..index_store import point_current

        point_current(settings.index_dir, folder)
        return None

    def discard(self, written: WrittenSearch, settings: Settings) -> None:
        """The files went with the temporary folder."""

    def drop(self, replaced: str, settings: Settings) -> None:
        """Old build folders are pruned by the build itself."""

    def locate(self, settings: Settings) -> tuple[Path, Manifest]:
        from ..index_store import current_build, read_manifest

        build = current_build(settings)
        return build, read_manifest(build)

    def open(self, index: LoadedIndex, settings: Settings) -> LocalSearcher:
        import faiss

        from ..index_store import reading

        build, manifest = index.path, index.manifest
        with reading(build, "dense.faiss"):
            dense = faiss.read_index(str(build / "dense.faiss"), _mmap_flag())
        with reading(build, "bm25"):
            bm25 = _bm25s().BM25.load(str(build / "bm25"), show_progress=False, verbosity=0, mmap=True)
        if (dense.ntotal, dense.d) != (manifest.passages, manifest.dimension):
            raise IndexCorruptError("index files disagree with the manifest", hint=_hint())
        return LocalSearcher(index, dense, bm25, settings.filter_exact_limit)


def _hint() -> str:
    from ..index_store import REBUILD_HINT

    return REBUILD_HINT
