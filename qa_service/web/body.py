"""Read a request body as one JSON object, enforcing media type, size, encoding and nesting limits."""

from __future__ import annotations

import json
import re

from flask import request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

CHUNK = 64 * 1024
STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
BRACKET = re.compile(r"[\[\]{}]")
JSON_KINDS = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _too_large(limit: int) -> RequestEntityTooLarge:
    return RequestEntityTooLarge(f"the request body is over the limit of {limit:,} bytes")


def _read(limit: int) -> bytes:
    """At most ``limit`` bytes, refusing early by Content-Length and again while reading."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    parts, size = [], 0
    while True:
        chunk = request.stream.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)


def too_deep(text: str, limit: int) -> bool:
    """Whether JSON ``text`` nests arrays/objects more than ``limit`` deep (checked before parsing)."""
    depth = 0
    for match in BRACKET.finditer(STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def json_object(max_bytes: int, max_depth: int) -> dict:
    """The body as a dict; raises 415, 413 or 400 (as HTTP exceptions) for what cannot be one."""
    if request.mimetype != "application/json":
        given = request.mimetype or "no Content-Type"
        raise UnsupportedMediaType(f"send the body as JSON with Content-Type: application/json (got {given})")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"send the body as UTF-8 JSON (got charset={charset})")
    raw = _read(max_bytes)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8 (invalid byte at offset {exc.start})") from None
    if not text.strip():
        raise BadRequest("the body is empty; send a JSON object")
    if too_deep(text, max_depth):
        raise BadRequest(f"the JSON nests more than {max_depth} levels deep")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, not {JSON_KINDS.get(type(data), 'that')}")
    return data
