"""Request models (pydantic): the validated shape of what callers may send, shared by CLI and HTTP.

Their JSON Schemas are the request half of the OpenAPI document, and they say exactly what is
accepted: every length is counted on the text as sent, a piece of text must hold a visible character
(the ``pattern`` in the schema, from the same set of invisible characters the validator drops), and
``k`` is an integer in JSON Schema's sense (12.0 is 12). Two rules JSON Schema cannot state are in
the descriptions and answered 422 by name: ``since`` not after ``until``, and the last message is
the user's.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from .conversation import Turn
from .domain import AskOptions
from .errors import InvalidRequestError

MAX_QUESTION_CHARS = 2000
MAX_MESSAGES = 50
MAX_MESSAGE_CHARS = 4000
MAX_PUBLISHER_CHARS = 200
MAX_DOC_ID_CHARS = 255  # a file name's stem


def _invisible() -> dict[int, str | None]:
    """Characters that are not text: spaces (become one space) and the control and format characters of the
    Basic Multilingual Plane (dropped). A translate table, so cleaning is one C pass.

    Lone surrogates never get this far (they are not valid strings); leaving them out keeps the pattern
    below one that every regex engine reads (Rust's, in Schemathesis, has no surrogates).
    """
    table: dict[int, str | None] = {}
    for code in range(0x10000):
        char = chr(code)
        if char.isspace():
            table[code] = " "
        elif unicodedata.category(char) in ("Cc", "Cf"):
            table[code] = None
    return table


def _character_class(codes: list[int]) -> str:
    """A regex class of ``codes`` as \\uXXXX ranges (read the same by Python, ECMA-262 and Rust)."""
    ranges: list[list[int]] = []
    for code in sorted(codes):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


INVISIBLE = _invisible()
# Matches a string holding at least one visible character: exactly what _visible accepts.
VISIBLE = f"[^{_character_class(list(INVISIBLE))}]"
TEXT_SCHEMA = {"pattern": VISIBLE}


def _visible(value: str) -> str:
    """Runs of spaces made one space, invisible characters dropped; text with nothing visible is refused.

    Any Unicode space (a no-break space pasted from a web page, an ideographic space) separates words like
    a plain one; controls and format characters (zero-width spaces, bidi overrides) are dropped.
    """
    cleaned = " ".join(value.translate(INVISIBLE).split())
    if not cleaned:
        raise ValueError("must not be empty or only spaces" if not value.strip() else "must contain visible characters")
    return cleaned


def _whole_number(value: object) -> object:
    """12.0 is the integer 12 (JSON, and JSON Schema's `integer`, make no difference); 12.5, "12" and true stay
    what they are, for the strict integer check to refuse."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Publisher = Annotated[str, Field(max_length=MAX_PUBLISHER_CHARS), BeforeValidator(_stripped)]
DocId = Annotated[str, Field(max_length=MAX_DOC_ID_CHARS), BeforeValidator(_stripped)]


class SearchOptions(BaseModel):
    """The options shared by a single question and a conversation."""

    model_config = ConfigDict(extra="forbid")

    # Strict, but for whole floats: "5" and true are not numbers of passages, 5.0 is (JSON Schema agrees).
    k: Annotated[int, Strict(), BeforeValidator(_whole_number)] = Field(
        5, ge=1, le=20, description="How many passages to return, 1 to 20 (5.0 counts as 5)."
    )
    mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Retrieval mode.")
    since: dt.date | None = Field(
        None, description="Only sources dated on or after this day (YYYY-MM-DD); not after `until`."
    )
    until: dt.date | None = Field(None, description="Only sources dated on or before this day (YYYY-MM-DD).")
    publishers: list[Publisher] | None = Field(
        None, max_length=50, description="Only these publishers (case-insensitive); up to 50 names of 200 characters."
    )
    doc_ids: list[DocId] | None = Field(None, max_length=200, description="Only these documents; up to 200 ids.")

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


def _question(value: str, info: ValidationInfo) -> str:
    """A question: the settings' limit (``max_question_chars`` in the context) on the text as sent, then cleaned."""
    limit = (info.context or {}).get("max_question_chars")
    if limit and len(value) > limit:
        raise ValueError(f"must be at most {limit} characters (it has {len(value)})")
    return _visible(value)


def _text(max_chars: int, what: str) -> FieldInfo:
    return Field(
        min_length=1,
        max_length=max_chars,
        description=f"{what}: 1 to {max_chars:,} characters as sent, some of them visible.",
        json_schema_extra=TEXT_SCHEMA,
    )


Question = Annotated[str, _text(MAX_QUESTION_CHARS, "The question"), AfterValidator(_question)]
Said = Annotated[str, _text(MAX_MESSAGE_CHARS, "What was said"), AfterValidator(_visible)]


class AskRequest(SearchOptions):
    """A question and the options that shape its answer."""

    question: Question


class UserMessage(BaseModel):
    """A question in the conversation: the user's messages are questions, held to the question's limit."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user"] = Field(..., description="Who said it.")
    content: Question


class AssistantMessage(BaseModel):
    """An earlier answer in the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["assistant"] = Field(..., description="Who said it.")
    content: Said


Message = Annotated[UserMessage | AssistantMessage, Field(discriminator="role")]
MESSAGE_ROLES = ("user", "assistant")


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
    def _ends_with_question(cls, value: list[UserMessage | AssistantMessage]) -> list[UserMessage | AssistantMessage]:
        if value and value[-1].role != "user":
            raise ValueError("the last message must have role 'user' (the question to answer)")
        return value

    def turns(self) -> list[Turn]:
        return [Turn(m.role, m.content) for m in self.messages]


# Pydantic's wording for the common mistakes, made into something a caller can act on.
FRIENDLY = {
    "missing": "is required",
    "extra_forbidden": "is not a recognised field",
    "json_invalid": "is not valid JSON",
}


def _where(loc: tuple) -> str:
    """``messages.0.content``: the tag pydantic puts in a message's path (``messages.0.user.content``) left out."""
    kept = [p for i, p in enumerate(loc) if not (p in MESSAGE_ROLES and i > 0 and isinstance(loc[i - 1], int))]
    return ".".join(str(p) for p in kept) or "body"


def describe(exc: ValidationError) -> str:
    """One readable sentence per problem: `field: what is wrong`."""
    parts = []
    for err in exc.errors():
        where = _where(err["loc"])
        message = FRIENDLY.get(err["type"]) or err["msg"].removeprefix("Value error, ")
        if err["type"] == "string_too_short" and err.get("ctx", {}).get("min_length") == 1:
            message = "must not be empty or only spaces"
        if err["type"] in ("model_type", "dict_type") and not err["loc"]:
            message = "must be a JSON object"
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            where += ".role"
            message = "is required" if err["type"] == "union_tag_not_found" else "Input should be 'user' or 'assistant'"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
