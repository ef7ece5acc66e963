"""The interface every index backend implements: build, publish, locate, load, filters, dense and sparse search.

What is the same for every backend stays in ``index_store``: the build folder (documents, passages,
sentence vectors, each passage's analysis, IDF) is the passage lookup the answer path reads for its
top candidates, memory-mapped. A backend owns only where passages are *found* and how a build is
made current: FAISS + bm25s files beside that folder (``local``), or a Qdrant collection behind an
alias (``qdrant``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..domain import AskOptions
from ..settings import Settings

if TYPE_CHECKING:
    from ..corpus import Corpus
    from ..index_store import LoadedIndex, Manifest


class _Nothing:
    """A filter that keeps no passage: retrieval answers with no candidates without asking the engine."""

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING = _Nothing()


@dataclass(frozen=True)
class BuildInput:
    """What a backend's build reads: the corpus, its vectors and terms, and where the build is being written."""

    build_id: str
    folder: Path  # the build's folder while it is written (renamed into place after the backend's part)
    corpus: Corpus
    passage_vectors: np.ndarray  # float32, unit length, one row per passage
    passage_terms: Sequence[Sequence[str]]  # terms() of each passage
    vocab: dict[str, int]  # term -> id, the analysis vocabulary of this build
    settings: Settings
    stage: Callable[[str], None]  # marks the end of a named build stage (for the build's timings)


@dataclass(frozen=True)
class WrittenSearch:
    """A backend's part of a build: the label of its dense index (manifest ``faiss_index``) and its collection."""

    label: str
    collection: str | None = None


class Searcher(Protocol):
    """Finds candidate passages of one loaded build. Restrictions are the backend's own form of a filter."""

    def restrict(self, options: AskOptions) -> object | None:
        """``options``' date, publisher and document filters (None: no filter; NOTHING: keeps no passage)."""
        ...

    def dense(self, qvec: np.ndarray, n: int, restriction: object | None) -> dict[int, float]:
        """The ``n`` passages nearest ``qvec`` (passage id -> inner product) that pass ``restriction``."""
        ...

    def sparse(self, qterms: Sequence[str], n: int, restriction: object | None) -> dict[int, float]:
        """The ``n`` passages with the highest BM25 score for ``qterms`` (id -> score > 0) that pass ``restriction``."""
        ...

    def check(self) -> None:
        """Raise EngineUnavailableError when the engine cannot answer now (for /api/health)."""
        ...

    def retire(self) -> None:
        """This build was replaced and no request uses it any more: drop what only it needed."""
        ...


class Backend(Protocol):
    """Writes, publishes and opens builds of one kind."""

    name: str

    def write(self, build: BuildInput) -> WrittenSearch:
        """The backend's part of a build, before it is published (files in ``build.folder``, or a new collection)."""
        ...

    def publish(self, manifest: Manifest, folder: Path, settings: Settings) -> str | None:
        """Make a complete build current in one atomic step; returns what it replaced (a collection), if anything."""
        ...

    def discard(self, written: WrittenSearch, settings: Settings) -> None:
        """Remove the backend's part of a build that failed before it was published."""
        ...

    def drop(self, replaced: str, settings: Settings) -> None:
        """Delete what ``publish`` replaced (when no process of ours still serves it)."""
        ...

    def locate(self, settings: Settings) -> tuple[Path, Manifest]:
        """The current build's folder and manifest; IndexMissingError when there is none."""
        ...

    def open(self, index: LoadedIndex, settings: Settings) -> Searcher:
        """The searcher over ``index``'s build; IndexCorruptError when it disagrees with the manifest."""
        ...
