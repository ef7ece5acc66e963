"""Serve the app with waitress: load the service once, bind, log the URL, run until interrupted."""

from __future__ import annotations

import ipaddress
import json
import logging

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, WSGITask

from ..errors import ConfigError
from ..memory import bound_heap
from ..serialize import to_json
from ..service import QAService
from ..settings import Settings
from . import create_app
from .problems import PROBLEM_TYPE
from .schemas import Problem
from .security import SECURITY_HEADERS, check_settings
from .shutdown import GracefulServer

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)  # where the server listens is always worth a line, even without --verbose

# Waitress's own refusals (before the app sees the request), worded like the app's.
WAITRESS_DETAILS = {
    400: "the request is not valid HTTP ({reason})",
    413: "the request body is over the limit of {limit:,} bytes",
    431: "the request headers are too large (over {header_limit:,} bytes)",
}
MAX_HEADER_BYTES = 32 * 1024
# Waitress reads a whole body before the app sees it. Up to this multiple of the app's limit it reads an
# oversized body through, so the app can answer 413 to a client still sending; a larger Content-Length is
# refused by waitress at once (same problem+json). Closing on a client mid-body resets its connection.
WAITRESS_BODY_FACTOR = 32


class ProblemErrorTask(ErrorTask):
    """Waitress's error responses (malformed HTTP, a body or headers over the limits) as problem+json."""

    def execute(self) -> None:
        error = self.request.error
        adj = self.channel.server.adj
        template = WAITRESS_DETAILS.get(error.code, "{reason}")
        detail = template.format(
            reason=str(error.body),
            limit=adj.max_request_body_size // WAITRESS_BODY_FACTOR,  # the app's limit, which it is over too
            header_limit=adj.max_request_header_size,
        )
        problem = Problem(type="about:blank", title=error.reason, status=error.code, detail=detail)
        data = json.dumps(to_json(problem)).encode("utf-8")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", PROBLEM_TYPE))
        self.response_headers.extend(SECURITY_HEADERS.items())
        self.set_close_on_finish()
        self.content_length = len(data)
        self.write(data)


class FramingParser(HTTPRequestParser):
    """Waitress's parser, refusing requests whose body length is ambiguous (RFC 9112 §6.1, §6.3).

    Waitress reads a body by Transfer-Encoding when both it and Content-Length are sent, and passes
    Content-Length on to the app; a proxy in front that reads it by Content-Length would then see a
    different request boundary (request smuggling). Such a request, and Transfer-Encoding in an
    HTTP/1.0 request, is a 400, and like every framing error the connection is closed after it.
    """

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)  # pops Transfer-Encoding for HTTP/1.1 and sets ``chunked``
        if self.chunked and "CONTENT_LENGTH" in self.headers:
            raise ParsingError("Content-Length and Transfer-Encoding must not both be sent")
        if "TRANSFER_ENCODING" in self.headers:
            raise ParsingError("Transfer-Encoding is not allowed in an HTTP/1.0 request")


class DrainingTask(WSGITask):
    """A response that closes its connection once the server is stopping, so clients do not send more."""

    def build_response_header(self) -> bytes:
        if getattr(self.channel.server, "qa_draining", False):
            self.set_close_on_finish()
        return super().build_response_header()


class ProblemChannel(HTTPChannel):
    """A connection whose framing errors are problem+json and close it, and whose answers close it while stopping."""

    parser_class = FramingParser
    task_class = DrainingTask
    error_task_class = ProblemErrorTask


def _use_problem_errors(server) -> None:
    """Point the server (or each server of a multi-socket one) at ProblemChannel."""
    servers = [server] if isinstance(server, BaseWSGIServer) else list(getattr(server, "map", {}).values())
    for each in servers:
        if isinstance(each, BaseWSGIServer):
            each.channel_class = ProblemChannel


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine (a name other than localhost may not be)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def warn_if_exposed(host: str) -> bool:
    """Log a warning when ``host`` is reachable from other machines; returns whether it is."""
    if is_loopback(host):
        return False
    log.warning(
        "listening on %s: other machines can reach this server, and only the admin endpoint asks who is calling; "
        "use the default 127.0.0.1 unless a firewall or proxy stands in front",
        host,
    )
    return True


def make_server(app: Flask, settings: Settings):
    """A bound (not yet running) waitress server for ``app``; port 0 picks a free port.

    Waitress's own refusals (malformed HTTP, headers over MAX_HEADER_BYTES, a body over
    WAITRESS_BODY_FACTOR times ``max_body_bytes``) are problem+json like the app's. Raises ConfigError
    when the address cannot be bound (a busy port, an unknown host).
    """
    try:
        server = create_server(
            app,
            host=settings.host,
            port=settings.port,
            threads=settings.threads,
            ident="qa-service",
            max_request_body_size=settings.max_body_bytes * WAITRESS_BODY_FACTOR,
            max_request_header_size=MAX_HEADER_BYTES,
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
            hint="choose another --port (or QA_PORT), or stop the program using it",
        ) from exc
    _use_problem_errors(server)
    return server


def server_url(server) -> str:
    host = str(server.effective_host)
    return f"http://{f'[{host}]' if ':' in host else host}:{server.effective_port}"


def serve(settings: Settings, rebuild: bool = False) -> bool:
    """Open the service (building the index first when ``rebuild``), then serve until SIGTERM or Ctrl-C.

    A missing or stale index raises its QAError before anything listens. On SIGTERM or SIGINT the
    server stops accepting and answers the requests in flight for up to ``settings.shutdown_grace``
    seconds (see shutdown.py); returns whether all of them were answered.
    """
    check_settings(settings)
    warn_if_exposed(settings.host)
    bound_heap()  # before the model's first buffers: see memory.py
    service = QAService.open(settings, rebuild=rebuild)
    graceful = GracefulServer(make_server(create_app(settings, service), settings), settings.shutdown_grace)
    try:
        with graceful.handle_signals():
            log.info("serving on %s (%d threads); Ctrl-C stops", server_url(graceful.server), settings.threads)
            drained = graceful.serve()
    finally:
        service.close()
    log.info("stopped")
    return drained
