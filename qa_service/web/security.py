"""Hardening at the edge: security headers on every response, an opt-in CORS allow-list, per-client rate limits.

CORS is off unless ``Settings.cors_origins`` names origins; the rate limit (``Settings.rate_limit``,
flask-limiter syntax, in-memory counters per app) counts every /api request of one client address
except the health check, and a refusal is a 429 problem with ``Retry-After``.
"""

from __future__ import annotations

import math
import re
import time

from flask import Flask, Response, current_app, request

from ..errors import ConfigError
from ..settings import Settings

# No inline script or style anywhere (the pages load theirs from /static), so nothing needs 'unsafe-inline'.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
API_PREFIX = "/api/"
# Browsers may call these cross-origin when allowed; the admin endpoints never (they are for operators).
CORS_EXCLUDED = ("/api/admin/",)
CORS_METHODS = "GET, POST"
CORS_HEADERS = "Content-Type"
CORS_MAX_AGE = "600"
ORIGIN = re.compile(r"^https?://[^/\s?#]+$")
# Monitors poll this; a client over its limit must still be able to see that the service is up.
RATE_LIMIT_EXEMPT = ("/api/health",)
LIMITER_KEY = "qa_limiter"


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


# ---- CORS ---------------------------------------------------------------------------------------


def cors_origins(settings: Settings) -> frozenset[str]:
    """The allowed origins, normalised; raises ConfigError for an entry that is not an origin."""
    allowed = set()
    for origin in settings.cors_origins:
        normal = origin.strip().rstrip("/").lower()
        if normal != "*" and not ORIGIN.match(normal):
            raise ConfigError(
                f"invalid settings: cors_origins: {origin!r} is not an origin",
                hint="give scheme://host[:port] entries, e.g. QA_CORS_ORIGINS='[\"https://example.org\"]'",
            )
        allowed.add(normal)
    return frozenset(allowed)


def _allowed_origin() -> str | None:
    """The value for Access-Control-Allow-Origin, or None when this request gets no CORS headers."""
    origin = request.headers.get("Origin")
    if not origin or not request.path.startswith(API_PREFIX) or request.path.startswith(CORS_EXCLUDED):
        return None
    allowed = current_app.config["QA_CORS_ORIGINS"]
    if "*" in allowed:
        return "*"
    return origin if origin.rstrip("/").lower() in allowed else None


def _preflight() -> Response | None:
    """Answer an allowed CORS preflight here (before routing and rate limits); others fall through."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    origin = _allowed_origin()
    if origin is None:
        return None  # Flask's own OPTIONS answer, without CORS headers: the browser refuses the call
    response = Response(status=204)
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
    response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
    response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    response.vary.add("Origin")
    return response


def _cors_headers(response: Response) -> Response:
    if current_app.config["QA_CORS_ORIGINS"] and request.path.startswith(API_PREFIX):
        response.vary.add("Origin")  # caches must not serve one origin's answer to another
    origin = _allowed_origin()
    if origin is not None and "Access-Control-Allow-Origin" not in response.headers:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    return response


# ---- rate limits --------------------------------------------------------------------------------


def _rate_limit_spec(settings: Settings) -> str | None:
    """The limit string, checked; None when rate limiting is off."""
    from limits import parse_many

    spec = settings.rate_limit.strip()
    if not spec:
        return None
    try:
        parse_many(spec)
    except ValueError as exc:
        raise ConfigError(
            f"invalid settings: rate_limit: {spec!r} is not a rate limit ({exc})",
            hint='write e.g. "600/minute" or "10/second;600/minute"; empty turns it off',
        ) from None
    return spec


def _install_rate_limit(app: Flask, settings: Settings) -> None:
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    spec = _rate_limit_spec(settings)
    if spec is None:
        return
    limiter = Limiter(
        get_remote_address,  # the peer address: behind a proxy every client shares one budget
        app=app,
        application_limits=[spec],  # one budget per client across all /api routes
        storage_uri="memory://",
        strategy="moving-window",  # never more than the limit in any window, no burst at a boundary
        headers_enabled=False,  # Retry-After goes on refusals only (see retry_after)
    )
    limiter.request_filter(lambda: not request.path.startswith(API_PREFIX) or request.path in RATE_LIMIT_EXEMPT)
    app.extensions[LIMITER_KEY] = limiter


def retry_after() -> int:
    """Whole seconds until the client that was just refused may ask again (at least 1)."""
    limiter = current_app.extensions.get(LIMITER_KEY)
    current = limiter.current_limit if limiter is not None else None
    if current is None:
        return 1
    return max(1, math.ceil(current.window[0] - time.time()))  # window[0]: when the oldest counted hit expires


# ---- wiring -------------------------------------------------------------------------------------


def check_settings(settings: Settings) -> None:
    """Raise ConfigError for a CORS origin or rate limit that cannot be used (call before loading anything)."""
    cors_origins(settings)
    _rate_limit_spec(settings)


def install(app: Flask, settings: Settings) -> None:
    """Headers, CORS and rate limits for ``app``; call before the blueprints are registered.

    The CORS preflight hook is registered before the limiter's, so a preflight is never counted.
    Raises ConfigError for an invalid origin or rate limit.
    """
    app.config["QA_CORS_ORIGINS"] = cors_origins(settings)
    app.before_request(_preflight)
    _install_rate_limit(app, settings)
    app.after_request(_cors_headers)
    app.after_request(add_security_headers)
