"""Request models (pydantic): the validated shape of what callers may send, shared by CLI and HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .domain import AskOptions
from .errors import InvalidRequestError

MAX_QUESTION_CHARS = 2000


class AskRequest(BaseModel):
    """A question and the options that shape its answer."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS, description="The question, 1 to 2,000 characters.")
    k: int = Field(5, ge=1, le=20, description="How many passages to return.")
    mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Retrieval mode.")
    since: dt.date | None = Field(None, description="Only sources dated on or after this day (YYYY-MM-DD).")
    until: dt.date | None = Field(None, description="Only sources dated on or before this day (YYYY-MM-DD).")
    publishers: list[str] | None = Field(None, max_length=50, description="Only these publishers (case-insensitive).")
    doc_ids: list[str] | None = Field(None, max_length=200, description="Only these documents.")

    @field_validator("question")
    @classmethod
    def _printable(cls, value: str) -> str:
        cleaned = "".join(ch for ch in value if ch.isprintable() or ch in "\n\t")
        if not cleaned.strip():
            raise ValueError("must contain visible characters")
        return " ".join(cleaned.split())

    @field_validator("since", "until", mode="before")
    @classmethod
    def _iso_day(cls, value: object) -> object:
        if isinstance(value, str) and value and not (len(value) == 10 and value[4] == "-" and value[7] == "-"):
            raise ValueError("must be a date written YYYY-MM-DD")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> AskRequest:
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        return self

    @classmethod
    def parse(cls, data: object) -> AskRequest:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidRequestError(describe(exc)) from exc

    def options(self) -> AskOptions:
        return AskOptions(
            k=self.k,
            mode=self.mode,
            since=self.since.isoformat() if self.since else None,
            until=self.until.isoformat() if self.until else None,
            publishers=tuple(self.publishers or ()),
            doc_ids=tuple(self.doc_ids or ()),
        )


def describe(exc: ValidationError) -> str:
    """One readable sentence per problem: `field: what is wrong`."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)
