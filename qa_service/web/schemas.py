"""The responses only the web edge makes (health, re-index, problems), as contract dataclasses.

Each response is made from one of these and serialised by serialize.to_json; openapi.py derives its
schema from the same type, like the answer and document types in domain.py and serialize.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, with_config
from pydantic.json_schema import SkipJsonSchema

from ..domain import CONTRACT
from ..index_store import Manifest


def summary(manifest: Manifest) -> dict:
    """What health and a re-index say about an index: the fields below, from its manifest."""
    return {
        "model": manifest.model,
        "dimension": manifest.dimension,
        "documents": manifest.documents,
        "passages": manifest.passages,
        "built_at": manifest.built_at,
        "fingerprint": manifest.fingerprint,
        "faiss_index": manifest.faiss_index,
        "backend": manifest.backend,
    }


@with_config(CONTRACT)
@dataclass(frozen=True)
class Health:
    """The loaded index's manifest summary."""

    status: Literal["ok"]
    model: Annotated[str, Field(description="The embedding model the index was built with.")]
    dimension: Annotated[int, Field(ge=1, description="Length of its vectors.")]
    documents: Annotated[int, Field(ge=0)]
    passages: Annotated[int, Field(ge=0)]
    built_at: Annotated[str, Field(description="When the index was built (ISO 8601, UTC).")]
    fingerprint: Annotated[
        str, Field(description="Digest of the sources, catalog and pipeline the index was built from.")
    ]
    faiss_index: Annotated[
        str, Field(description="The dense index: the FAISS index type (local backend), or the Qdrant collection.")
    ]
    backend: Annotated[
        Literal["local", "qdrant"],
        Field(description="Where passages are searched: local FAISS + BM25 files, or a Qdrant collection."),
    ]


@with_config(CONTRACT)
@dataclass(frozen=True)
class Reindexed(Health):
    """The index a re-index built and swapped in, and the one it replaced."""

    status: Literal["reindexed"]
    previous_built_at: Annotated[str, Field(description="When the index it replaced was built.")]
    previous_fingerprint: str
    seconds: Annotated[float, Field(ge=0, description="How long building and swapping took.")]


def _absent(value: object) -> bool:
    return value is None


@with_config(CONTRACT)
@dataclass(frozen=True)
class Problem:
    """Every error (RFC 9457 problem details)."""

    type: Annotated[str, Field(description="A URI naming the kind of problem; about:blank for plain HTTP errors.")]
    title: str
    status: Annotated[int, Field(ge=400, le=599)]
    detail: Annotated[str, Field(description="What went wrong, naming each bad field.")]
    hint: Annotated[
        str | SkipJsonSchema[None], Field(exclude_if=_absent, description="What to do about it, when known.")
    ] = None
