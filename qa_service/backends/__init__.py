"""Index backends behind one interface (base.py): ``local`` (FAISS + bm25s files) and ``qdrant`` (a collection)."""

from __future__ import annotations

from ..settings import Settings
from .base import NOTHING, Backend, BuildInput, Searcher, WrittenSearch

BACKENDS = ("local", "qdrant")


def backend_for(settings: Settings) -> Backend:
    """The backend ``settings.backend`` names (imported late: the local one needs no qdrant-client, and back)."""
    if settings.backend == "qdrant":
        from .qdrant import QdrantBackend

        return QdrantBackend()
    from .local import LocalBackend

    return LocalBackend()


__all__ = ["BACKENDS", "NOTHING", "Backend", "BuildInput", "Searcher", "WrittenSearch", "backend_for"]
