"""Every error leaves as application/problem+json (RFC 9457): one handler for QAError, HTTP and the unexpected."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, TooManyRequests

from ..errors import QAError, UnauthorizedError
from ..serialize import to_json
from .schemas import Problem
from .security import retry_after

log = logging.getLogger(__name__)

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str, type_: str = "about:blank", hint: str | None = None) -> Response:
    """A problem+json response (``hint`` only when there is one)."""
    body = to_json(Problem(type=type_, title=title, status=status, detail=detail, hint=hint))
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _http_detail(exc: HTTPException) -> str:
    """Werkzeug's stock descriptions, made specific where the request says more."""
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        allowed = ", ".join(m for m in exc.valid_methods if m not in ("HEAD", "OPTIONS")) or "GET"
        return f"{request.method} is not allowed on {request.path}; use {allowed}"
    if isinstance(exc, NotFound) and exc.description == NotFound.description:
        return f"nothing at {request.path}; the API is described at /api/docs"
    if isinstance(exc, TooManyRequests):
        return (
            f"too many requests from your address (the limit is {exc.description}); "
            f"try again in {retry_after()} seconds (the Retry-After header)"
        )
    return exc.description or exc.name


def handle_error(exc: Exception) -> Response:
    """The one error handler: a QAError keeps its status and title, an HTTP error its code, anything else is 500."""
    if isinstance(exc, QAError):
        if exc.status >= 500:
            log.error("%s: %s", exc.title, exc)
        response = problem(
            exc.status, exc.title, exc.message, f"urn:qa-service:problem:{_slug(exc.title)}", hint=exc.hint
        )
        if isinstance(exc, UnauthorizedError):
            response.headers["WWW-Authenticate"] = 'Bearer realm="qa-service admin"'
        return response
    if isinstance(exc, HTTPException):
        if exc.code is None or exc.code < 400:  # redirects and the like pass through untouched
            return exc.get_response()
        response = problem(exc.code, exc.name, _http_detail(exc))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(retry_after())
        return response
    log.exception("unexpected error on %s %s", request.method, request.path)
    return problem(500, "Internal Server Error", "the server failed to answer; the error has been logged")


def install(app: Flask) -> None:
    """Route every exception, QAError and HTTPException included, through ``handle_error``."""
    app.register_error_handler(Exception, handle_error)
