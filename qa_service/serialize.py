"""The one place domain objects become JSON, and where the JSON Schema of each response comes from.

Both are derived from the same dataclasses (domain.py for answers, the rows below for documents)
through pydantic TypeAdapters: what a response holds and what the OpenAPI document says it holds
cannot differ. Field order is the dataclass's, and fields are only ever added.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, with_config
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue

from .domain import (
    CONTRACT,
    Answer,
    Author,
    DocId,
    Document,
    PublicationDate,
    Publisher,
    Title,
    Url,
    WireSource,
)


@with_config(CONTRACT)
@dataclass(frozen=True)
class DocumentSummary:
    """One indexed document's metadata: a row of GET /api/documents and `qa documents --json`."""

    doc_id: Annotated[DocId, Field(description="The document's id; GET /api/documents/{doc_id} returns its text.")]
    title: Title
    publisher: Publisher
    source: WireSource
    author: Author
    date: PublicationDate
    url: Url
    passages: Annotated[int, Field(ge=0, description="How many passages the document was cut into.")]
    warnings: Annotated[tuple[str, ...], Field(description="What ingestion could not find (a date, a publisher).")]

    @classmethod
    def of(cls, doc: Document, passages: int, **extra: object) -> DocumentSummary:
        return cls(
            doc_id=doc.doc_id,
            title=doc.title,
            publisher=doc.publisher,
            source=doc.source,
            author=doc.author,
            date=doc.date,
            url=doc.url,
            passages=passages,
            warnings=doc.warnings,
            **extra,
        )


@with_config(CONTRACT)
@dataclass(frozen=True)
class DocumentDetail(DocumentSummary):
    """A document's metadata and its clean text (citation spans index into it)."""

    text: Annotated[str, Field(description="The clean text; citation `start`/`end` are offsets into it.")]


@cache
def adapter(kind: type) -> TypeAdapter:
    """The TypeAdapter of a contract type (built once per type)."""
    return TypeAdapter(kind)


def to_json(value: object) -> Any:
    """A contract object as JSON-ready data (dicts, lists, strings, numbers, None)."""
    return adapter(type(value)).dump_python(value, mode="json")


def answer_dict(answer: Answer) -> dict:
    return to_json(answer)


def document_row(doc: Document, passages: int) -> dict:
    """One row of `qa documents --json` and GET /api/documents."""
    return to_json(DocumentSummary.of(doc, passages))


def document_detail(doc: Document, passages: int) -> dict:
    """GET /api/documents/{doc_id}: the row and the clean text."""
    return to_json(DocumentDetail.of(doc, passages, text=doc.text))


class ResponseSchema(GenerateJsonSchema):
    """JSON Schema of what a response holds: properties in the order the JSON has them, no defaults.

    A response field always has a value, so a schema default says nothing; pydantic lists keyword-only
    dataclass fields last, while the JSON keeps declaration order.
    """

    def dataclass_schema(self, schema) -> JsonSchemaValue:
        result = super().dataclass_schema(schema)
        order = [f.name for f in fields(schema["cls"])]
        properties = result.get("properties")
        if properties:
            result["properties"] = {name: properties[name] for name in order if name in properties}
            for prop in result["properties"].values():
                prop.pop("default", None)
        return result


def response_schema(kind: type, ref_template: str) -> dict:
    """The JSON Schema of ``kind`` as serialised (nested types under ``$defs``)."""
    return adapter(kind).json_schema(mode="serialization", ref_template=ref_template, schema_generator=ResponseSchema)
