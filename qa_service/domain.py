"""Frozen dataclasses passed between the stages; dicts appear only at the JSON edge.

Citation, AnswerPassage and Answer are also the public answer contract, written once: each field's
pydantic ``Field`` (description, bounds) is what both the serialiser (serialize.py) and the OpenAPI
schemas (web/openapi.py) are derived from, through pydantic TypeAdapters, so the JSON and the
document that describes it cannot drift. They stay plain dataclasses: making one validates nothing
and costs nothing. The field types shared with Document and the document rows are defined once below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, with_config
from pydantic.json_schema import SkipJsonSchema

Span = tuple[int, int]

# Every contract type: no field beyond the declared ones (so a response with an undeclared field fails
# the conformance check), and every field always present in the JSON unless it says otherwise.
CONTRACT = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)

DocId = Annotated[str, Field(description="The document's id (its file name without the suffix).")]
Title = Annotated[
    str | None, Field(description="The headline, or null when the page shows none that can be told from its chrome.")
]
Publisher = Annotated[str | None, Field(description="The outlet that published the page, or null when unknown.")]
WireSource = Annotated[
    str | None,
    Field(
        description="The wire agency whose story this is (Reuters, AP...) when the page carries wire copy, else null."
    ),
]
Author = Annotated[str | None, Field(description="The byline, or null.")]
PublicationDate = Annotated[
    Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")] | None,
    Field(description="Publication day, YYYY-MM-DD (never a page-visit date), or null when unknown."),
]
Url = Annotated[str | None, Field(description="The page's address, or null when unknown.")]
Confidence = Literal["high", "low", "none"]


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
    source: str | None = None  # the wire agency whose story this is (Reuters, AP...), when it carries wire copy
    author: str | None = None
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


@with_config(CONTRACT)
@dataclass(frozen=True)
class Citation:
    """Where a passage comes from: the document, its facts, and the passage's span in its clean text."""

    doc_id: Annotated[DocId, Field(description="The document's id; GET /api/documents/{doc_id} returns its text.")]
    title: Title
    publisher: Publisher
    source: WireSource = field(default=None, kw_only=True)  # declared here: the JSON keeps this order
    author: Author
    date: PublicationDate
    url: Url
    start: Annotated[int, Field(ge=0, description="Start of the passage in the document's clean text (characters).")]
    end: Annotated[int, Field(ge=0, description="End of the passage (exclusive).")]


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


@with_config(CONTRACT)
@dataclass(frozen=True)
class AnswerPassage:
    """One cited passage, ranked, with the sentences that answer the question."""

    rank: Annotated[int, Field(ge=1, description="1-based; the answer's [n] markers refer to it.")]
    text: Annotated[str, Field(description="The passage: whole sentences from the source.")]
    score: Annotated[float, Field(description="0..1 estimate that the passage answers the question.")]
    highlights: Annotated[
        tuple[Span, ...],
        Field(description="[start, end) character spans of the answering sentences, relative to `text`."),
    ]
    citation: Citation
    also_reported_by: Annotated[tuple[Citation, ...], Field(description="Other outlets that carry the same text.")] = ()


def _absent(value: object) -> bool:
    return value is None


@with_config(CONTRACT)
@dataclass(frozen=True)
class Answer:
    """The answer to one question: composed text with [n] markers, or an abstention, and the passages.

    ``confidence`` is worked out here when not given: "high" for an answer, "none" for an abstention;
    "low" (an answer the sources only come near) is for the answering stage to say. Raises ValueError
    when ``confidence`` and ``abstained`` disagree ("none" goes with abstaining, and only with it).
    """

    question: Annotated[str, Field(description="The question as asked, cleaned; for a chat, the last message.")]
    abstained: Annotated[
        bool, Field(description="True when the sources do not answer (confidence `none`); `answer` is then null.")
    ]
    confidence: Annotated[
        Confidence | SkipJsonSchema[None],
        Field(
            description="high = answered; low = uncertain: the nearest passages are shown but no passage states "
            "this directly; none = refused (abstained is true only then)."
        ),
    ] = field(default=None, kw_only=True)  # declared here: the JSON keeps this order
    answer: Annotated[
        str | None, Field(description="Sentences from the sources, each ending with its [n] marker; null if abstained.")
    ]
    passages: Annotated[
        tuple[AnswerPassage, ...], Field(description="Best first; the nearest passages when abstained.")
    ]
    resolved_question: Annotated[
        str | SkipJsonSchema[None],
        Field(
            exclude_if=_absent,
            description="Chat answers only: the last message made self-contained with the conversation; "
            "what was searched.",
        ),
    ] = None

    def __post_init__(self) -> None:
        if self.confidence is None:
            object.__setattr__(self, "confidence", "none" if self.abstained else "high")
        elif (self.confidence == "none") != self.abstained:
            raise ValueError(f"confidence {self.confidence!r} does not go with abstained={self.abstained}")


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
