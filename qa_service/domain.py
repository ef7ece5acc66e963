"""Frozen dataclasses passed between the stages; dicts appear only at the JSON edge."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

Span = tuple[int, int]


@dataclass(frozen=True)
class RawFile:
    """A source file read from disk, before any cleaning."""

    path: Path
    doc_id: str
    suffix: str
    text: str


@dataclass(frozen=True)
class Document:
    """A cleaned article: the body text and what is known about where it came from."""

    doc_id: str
    title: str | None  # the headline; None when the page shows none that can be told from its chrome
    text: str
    publisher: str | None = None
    author: str | None = None
    source: str | None = None  # the wire agency whose story the page carries (Reuters, AP, ...)
    date: str | None = None  # ISO YYYY-MM-DD publication date, never a page-visit date
    url: str | None = None
    source_path: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Passage:
    """A run of whole sentences from one document, with offsets into its clean text."""

    passage_id: int
    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...]  # sentence spans relative to ``text``
    first_sentence: int = 0  # row of this passage's first sentence in the sentence matrix
    group: int = -1  # near-duplicate group id; equals passage_id when the passage is unique


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str | None
    publisher: str | None
    author: str | None
    date: str | None
    url: str | None
    start: int
    end: int
    source: str | None = None  # the wire agency whose story the passage is


@dataclass(frozen=True)
class Hit:
    """A retrieved passage with the signals that ranked it."""

    passage: Passage
    fused: float  # the retriever's ranking score (mode dependent)
    relevance: float  # 0..1 estimate that the passage answers the question; drives abstention
    dense: float  # cosine of question and passage
    sentence: float  # best cosine of question and one sentence of the passage
    bm25: float  # raw BM25 score (0 when BM25 did not retrieve it)
    coverage: float  # IDF-weighted share of the question's terms found in the passage
    unmet: int = 0  # evidence checks the passage fails (evidence.check)
    holds_type: bool | None = None  # holds the kind of answer asked for (None: the question asks for no kind)


@dataclass(frozen=True)
class AnswerPassage:
    rank: int
    text: str
    score: float
    highlights: tuple[Span, ...]
    citation: Citation
    also_reported_by: tuple[Citation, ...] = ()


CONFIDENCE = ("high", "low", "none")


@dataclass(frozen=True)
class Answer:
    question: str
    abstained: bool  # true only when the service refuses: the sources do not answer
    answer: str | None
    passages: tuple[AnswerPassage, ...]
    resolved_question: str | None = None
    # high: answered; low: uncertain, no passage states this directly (the nearest are shown, and the
    # answer holds their closest sentences); none: refused (abstained, answer null)
    confidence: str = "high"
    probability: float | None = None  # the decision's estimate that the sources answer the question


@dataclass(frozen=True)
class AskOptions:
    """What a caller may set on one question; validated at the edges."""

    k: int = 5
    mode: str = "hybrid"
    since: str | None = None
    until: str | None = None
    publishers: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()

    def cache_key(self) -> tuple:
        return (self.k, self.mode, self.since, self.until, self.publishers, self.doc_ids)


@dataclass(frozen=True)
class IngestReport:
    """What ingestion did with a folder: the documents and every file it skipped."""

    documents: tuple[Document, ...]
    skipped: tuple[str, ...] = field(default=())
