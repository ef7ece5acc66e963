"""Read a request body as one JSON object, enforcing media type, size, encoding and nesting limits."""

from __future__ import annotations

import json
import math

from flask import request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

CHUNK = 64 * 1024
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


def depth(value: object) -> int:
    """How deep arrays and objects nest in a parsed JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is too large a number")
    return value


def parse(text: str, max_depth: int) -> object:
    """JSON ``text`` parsed in time linear in its length; raises ValueError naming what is wrong.

    The C parser runs first: it is linear, and refuses pathological nesting itself (a RecursionError
    long before the stack is at risk). The depth limit is then checked on the parsed value. An earlier
    version stripped strings with a regex before counting brackets, which took quadratic time on an
    unterminated string of escaped quotes (64 KB held a worker for 24 s).
    """
    too_deep = ValueError(f"the JSON nests more than {max_depth} levels deep")
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:
        raise ValueError(f"the body is not valid JSON: {exc}") from None
    if depth(data) > max_depth:
        raise too_deep
    return data


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
    try:
        data = parse(text, max_depth)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if not isinstance(data, dict):
        raise BadRequest(f"the body must be a JSON object, not {JSON_KINDS.get(type(data), 'that')}")
    return data
