"""Request models (pydantic): the validated shape of what callers may send, shared by CLI and HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .conversation import Turn
from .domain import AskOptions
from .errors import InvalidRequestError

MAX_QUESTION_CHARS = 2000
MAX_MESSAGES = 50
MAX_MESSAGE_CHARS = 4000
MAX_PUBLISHER_CHARS = 200
MAX_DOC_ID_CHARS = 255  # a file name's stem


def _visible(value: str) -> str:
    """Control characters dropped and runs of whitespace made one space; empty text is refused.

    Any Unicode space (a no-break space pasted from a web page, an ideographic space) separates words like
    a plain one; only invisible characters that are not spaces are dropped.
    """
    cleaned = "".join(ch if ch.isprintable() else " " if ch.isspace() else "" for ch in value)
    if not cleaned.strip():
        raise ValueError("must contain visible characters")
    return " ".join(cleaned.split())


class SearchOptions(BaseModel):
    """The options shared by a single question and a conversation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Strict: "5", 5.0 and true are not numbers of passages (JSON says what type it sends).
    k: Annotated[int, Strict()] = Field(5, ge=1, le=20, description="How many passages to return, 1 to 20.")
    mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Retrieval mode.")
    since: dt.date | None = Field(None, description="Only sources dated on or after this day (YYYY-MM-DD).")
    until: dt.date | None = Field(None, description="Only sources dated on or before this day (YYYY-MM-DD).")
    publishers: list[Annotated[str, Field(max_length=MAX_PUBLISHER_CHARS)]] | None = Field(
        None, max_length=50, description="Only these publishers (case-insensitive); up to 50 names."
    )
    doc_ids: list[Annotated[str, Field(max_length=MAX_DOC_ID_CHARS)]] | None = Field(
        None, max_length=200, description="Only these documents; up to 200 ids."
    )

    @field_validator("since", "until", mode="before")
    @classmethod
    def _iso_day(cls, value: object) -> object:
        """Only the written form: a number (a timestamp) or "May 2" is not a day a person meant."""
        if value is None or isinstance(value, dt.date):
            return value
        if not (isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-"):
            raise ValueError("must be a date written YYYY-MM-DD")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> SearchOptions:
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        return self

    @classmethod
    def parse(cls, data: object, max_question_chars: int | None = None):
        """Validate ``data``; any problem becomes one InvalidRequestError naming every bad field.

        ``max_question_chars`` (from Settings) tightens the question limit for this call.
        """
        context = {"max_question_chars": max_question_chars} if max_question_chars else None
        try:
            return cls.model_validate(data, context=context)
        except ValidationError as exc:
            raise InvalidRequestError(describe(exc)) from exc

    def options(self, default_mode: str | None = None) -> AskOptions:
        """The domain options; ``default_mode`` (from Settings) applies when the caller sent no mode."""
        mode = default_mode if default_mode and "mode" not in self.model_fields_set else self.mode
        return AskOptions(
            k=self.k,
            mode=mode,
            since=self.since.isoformat() if self.since else None,
            until=self.until.isoformat() if self.until else None,
            publishers=tuple(self.publishers or ()),
            doc_ids=tuple(self.doc_ids or ()),
        )


class AskRequest(SearchOptions):
    """A question and the options that shape its answer."""

    question: str = Field(
        ..., min_length=1, max_length=MAX_QUESTION_CHARS, description="The question, 1 to 2,000 characters."
    )

    @field_validator("question")
    @classmethod
    def _printable(cls, value: str, info: ValidationInfo) -> str:
        value = _visible(value)
        limit = (info.context or {}).get("max_question_chars")
        if limit and len(value) > limit:
            raise ValueError(f"must be at most {limit} characters (it has {len(value)})")
        return value


class Message(BaseModel):
    """One turn of a conversation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    role: Literal["user", "assistant"] = Field(..., description="Who said it.")
    content: str = Field(
        ...,
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        description=f"What was said, 1 to {MAX_MESSAGE_CHARS:,} characters after trimming.",
    )

    @field_validator("content")
    @classmethod
    def _printable(cls, value: str) -> str:
        return _visible(value)


class ChatRequest(SearchOptions):
    """A conversation whose last message, a user's question, is to be answered in the light of the others."""

    messages: list[Message] = Field(
        ...,
        min_length=1,
        max_length=MAX_MESSAGES,
        description=f"The conversation so far, oldest first, 1 to {MAX_MESSAGES} messages; the last has role 'user'.",
    )

    @field_validator("messages")
    @classmethod
    def _ends_with_question(cls, value: list[Message], info: ValidationInfo) -> list[Message]:
        if value and value[-1].role != "user":
            raise ValueError("the last message must have role 'user' (the question to answer)")
        limit = (info.context or {}).get("max_question_chars")
        if value and limit and len(value[-1].content) > limit:
            raise ValueError(f"the last message (the question) must be at most {limit} characters")
        return value

    def turns(self) -> list[Turn]:
        return [Turn(m.role, m.content) for m in self.messages]


# Pydantic's wording for the common mistakes, made into something a caller can act on.
FRIENDLY = {
    "missing": "is required",
    "extra_forbidden": "is not a recognised field",
    "json_invalid": "is not valid JSON",
}


def describe(exc: ValidationError) -> str:
    """One readable sentence per problem: `field: what is wrong`."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        message = FRIENDLY.get(err["type"]) or err["msg"].removeprefix("Value error, ")
        if err["type"] == "string_too_short" and err.get("ctx", {}).get("min_length") == 1:
            message = "must not be empty or only spaces"
        if err["type"] in ("model_type", "dict_type") and not err["loc"]:
            message = "must be a JSON object"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
