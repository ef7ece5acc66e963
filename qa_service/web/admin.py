"""Operator endpoints, registered only when QA_ADMIN_TOKEN is set: POST /api/admin/reindex.

Without a token the routes do not exist (404, like any unknown path), so an unconfigured service has
no admin surface at all. With one, every request must carry ``Authorization: Bearer <token>``; the
comparison is constant-time over SHA-256 digests, so neither the token's bytes nor its length leak
through timing.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

from flask import Blueprint, Flask, current_app, jsonify, request
from werkzeug.exceptions import Conflict

from ..errors import UnauthorizedError
from ..serialize import to_json
from ..settings import Settings
from . import current_service, current_settings
from .schemas import Reindexed, summary

bp = Blueprint("admin", __name__, url_prefix="/api/admin")
LOCK_KEY = "qa_reindex_lock"
TOKEN_HINT = "the token is the value of QA_ADMIN_TOKEN in the server's environment"


def admin_token(settings: Settings) -> str | None:
    """The configured token, or None when admin endpoints are off (unset, empty or only spaces)."""
    token = settings.admin_token
    return token if token and token.strip() else None


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def token_matches(given: str, token: str) -> bool:
    """Constant-time comparison of a header value (latin-1, as WSGI gives it) with the configured token."""
    given_bytes = given.encode("latin-1", "replace")
    token_bytes = token.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(_digest(given_bytes), _digest(token_bytes))


@bp.before_request
def _authorise() -> None:
    token = admin_token(current_settings())
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise UnauthorizedError(
            "this endpoint needs the admin token: send `Authorization: Bearer <token>`", hint=TOKEN_HINT
        )
    if token is None or not token_matches(given.strip(), token):
        raise UnauthorizedError("the admin token is not valid", hint=TOKEN_HINT)


@bp.post("/reindex")
def reindex():
    """Rebuild from the sources and swap the new index in, synchronously; one re-index at a time (else 409).

    Runs on this request's worker thread; the other threads keep answering from the old index until
    the swap, and requests in flight finish on the snapshot they started with.
    """
    lock: threading.Lock = current_app.extensions[LOCK_KEY]
    if not lock.acquire(blocking=False):
        raise Conflict("a re-index is already running; try again when it has finished")
    try:
        service = current_service()
        previous = service.index.manifest
        started = time.perf_counter()
        fresh = service.reindex()
        seconds = time.perf_counter() - started
    finally:
        lock.release()
    reindexed = Reindexed(
        status="reindexed",
        **summary(fresh.manifest),
        previous_built_at=previous.built_at,
        previous_fingerprint=previous.fingerprint,
        seconds=round(seconds, 3),
    )
    return jsonify(to_json(reindexed))


def install(app: Flask, settings: Settings) -> None:
    """Register the admin routes when a token is configured; otherwise leave them out entirely."""
    if admin_token(settings) is None:
        return
    app.extensions[LOCK_KEY] = threading.Lock()
    app.register_blueprint(bp)
