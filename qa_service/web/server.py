"""Serve the app with waitress: load the service once, bind, log the URL, run until interrupted."""

from __future__ import annotations

import logging

from flask import Flask
from waitress.server import create_server

from ..errors import ConfigError
from ..service import QAService
from ..settings import Settings
from . import create_app

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)  # where the server listens is always worth a line, even without --verbose

# Waitress buffers a whole body before the app sees it; bodies far over the app's own limit stop there.
WAITRESS_BODY_FACTOR = 16


def make_server(app: Flask, settings: Settings):
    """A bound (not yet running) waitress server for ``app``; port 0 picks a free port.

    Raises ConfigError when the address cannot be bound (a busy port, an unknown host).
    """
    try:
        return create_server(
            app,
            host=settings.host,
            port=settings.port,
            threads=settings.threads,
            ident="qa-service",
            max_request_body_size=settings.max_body_bytes * WAITRESS_BODY_FACTOR,
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
            hint="choose another --port (or QA_PORT), or stop the program using it",
        ) from exc


def server_url(server) -> str:
    host = str(server.effective_host)
    return f"http://{f'[{host}]' if ':' in host else host}:{server.effective_port}"


def serve(settings: Settings, rebuild: bool = False) -> None:
    """Open the service (building the index first when ``rebuild``), then serve until Ctrl-C.

    A missing or stale index raises its QAError before anything listens.
    """
    service = QAService.open(settings, rebuild=rebuild)
    server = make_server(create_app(settings, service), settings)
    log.info("serving on %s (%d threads); Ctrl-C stops", server_url(server), settings.threads)
    try:
        server.run()
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        server.task_dispatcher.shutdown()
        server.close()
