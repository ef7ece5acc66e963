"""Response models mirroring the public JSON contract; they generate the OpenAPI schemas, never the responses.

serialize.py makes the responses; tests check every response validates against these models, so the
two cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Citation(Contract):
    """Where a passage comes from: the document, its facts, and the passage's span in its clean text."""

    doc_id: str = Field(..., description="The document's id; GET /api/documents/{doc_id} returns its text.")
    title: str | None = Field(..., description="The headline; null when the page shows none that can be trusted.")
    publisher: str | None
    source: str | None = Field(..., description="The wire agency (Reuters, AP, ...) when the story is wire copy.")
    author: str | None
    date: str | None = Field(..., description="Publication day, YYYY-MM-DD (never a page-visit date).")
    url: str | None
    start: int = Field(..., ge=0, description="Start of the passage in the document's clean text (characters).")
    end: int = Field(..., ge=0, description="End of the passage (exclusive).")


class AnswerPassage(Contract):
    """One cited passage, ranked, with the sentences that answer the question."""

    rank: int = Field(..., ge=1, description="1-based; the answer's [n] markers refer to it.")
    text: str
    score: float = Field(..., description="0..1 estimate that the passage answers the question.")
    highlights: list[tuple[int, int]] = Field(
        ..., description="[start, end) character spans of the answering sentences, relative to `text`."
    )
    citation: Citation
    also_reported_by: list[Citation] = Field(..., description="Other outlets that carry the same text.")


class Answer(Contract):
    """The answer to one question: composed text with [n] markers, or an abstention, and the passages."""

    question: str
    abstained: bool = Field(..., description="True when the sources do not answer; `answer` is then null.")
    confidence: Literal["high", "low", "none"] = Field(
        ...,
        description="high: answered. low: no passage states this directly; `answer` holds the nearest passages' "
        "closest sentences. none: refused (`abstained` is true).",
    )
    answer: str | None = Field(..., description="Sentences from the sources, each ending with its [n] marker.")
    passages: list[AnswerPassage] = Field(..., description="Best first; the nearest passages when abstained.")


class ChatAnswer(Answer):
    """An answer to the last message of a conversation."""

    resolved_question: str = Field(
        ..., description="The last question made self-contained with the conversation; what was searched."
    )


class DocumentSummary(Contract):
    """One indexed document's metadata."""

    doc_id: str
    title: str | None
    publisher: str | None
    source: str | None
    author: str | None
    date: str | None = Field(..., description="Publication day, YYYY-MM-DD.")
    url: str | None
    passages: int = Field(..., ge=0, description="How many passages the document was cut into.")
    warnings: list[str] = Field(..., description="What ingestion could not find (a date, a publisher).")


class DocumentDetail(DocumentSummary):
    """A document's metadata and its clean text (citation spans index into it)."""

    text: str


class Health(Contract):
    """The loaded index's manifest summary."""

    status: Literal["ok"]
    model: str
    dimension: int
    documents: int
    passages: int
    built_at: str
    fingerprint: str = Field(..., description="Digest of the sources, catalog and pipeline the index was built from.")
    faiss_index: str


class Reindexed(Contract):
    """The index a re-index built and swapped in, and the one it replaced."""

    status: Literal["reindexed"]
    model: str
    dimension: int
    documents: int
    passages: int
    built_at: str
    fingerprint: str
    faiss_index: str
    previous_built_at: str = Field(..., description="When the index it replaced was built.")
    previous_fingerprint: str
    seconds: float = Field(..., ge=0, description="How long building and swapping took.")


class Problem(BaseModel):
    """Every error (RFC 9457 problem details)."""

    type: str = Field(..., description="A URI naming the kind of problem; about:blank for plain HTTP errors.")
    title: str
    status: int
    detail: str = Field(..., description="What went wrong, naming each bad field.")
    hint: str | None = Field(None, description="What to do about it, when known.")
