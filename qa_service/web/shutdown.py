"""A graceful stop for the waitress server: stop accepting, let requests in flight finish, then return.

SIGTERM (what Docker, compose and process managers send) and SIGINT (Ctrl-C) both end up here. The
signal handler only records the signal; the serving loop, which owns every socket, notices it within
``POLL_S`` and drains: the listening sockets close at once (new connections are refused), requests
received on open connections are answered with ``Connection: close``, and once nothing has been in
flight for ``LINGER_S`` (or the grace period is over) every connection is closed and the loop
returns. A second signal while draining stops waiting. Nothing is raised into the middle of a
request, so no lock is left held and no answer is cut short.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)  # a stop and what it left unanswered are always worth a line

POLL_S = 0.2  # how often the serving loop looks for a stop request when nothing else wakes it
# Idle keep-alive connections stay open this long once nothing is in flight: a request a client sent just
# before the signal may still be on its way through the kernel (slow on a busy machine), and closing
# the connection under it would reset it. Anything that arrives meanwhile is answered, then closed.
LINGER_S = 1.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class GracefulServer:
    """Runs a bound waitress server (from ``create_server``, one socket or several) until asked to stop.

    ``stop()`` may be called from any thread; ``handle_signals()`` makes SIGTERM and SIGINT call it.
    ``serve()`` returns True when every request in flight at the stop was answered within ``grace``
    seconds, False when some had to be abandoned.
    """

    def __init__(self, server, grace: float) -> None:
        self.server = server
        self.grace = grace
        self.map: dict = server._map if isinstance(server, BaseWSGIServer) else server.map
        self.listeners = [each for each in self.map.values() if isinstance(each, BaseWSGIServer)]
        self.adj = self.listeners[0].adj
        self.draining = False
        self._stops: list[str] = []  # appended to by stop(); a list append is safe in a signal handler

    # ---- asking it to stop ------------------------------------------------------------------------

    def stop(self, reason: str = "stop requested") -> None:
        """Ask the serving loop to drain and return (thread-safe; the loop notices within POLL_S)."""
        self._stops.append(reason)

    @contextmanager
    def handle_signals(self) -> Iterator[None]:
        """SIGTERM and SIGINT call ``stop`` while the block runs (main thread only); then the old handlers return."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame) -> None:
        self.stop(signal.Signals(signum).name)

    # ---- serving and draining ---------------------------------------------------------------------

    def serve(self) -> bool:
        """Serve until ``stop``, then drain; returns whether every request in flight was answered."""
        while not self._stops:
            self._poll(POLL_S)
        in_flight = self.busy_channels()
        log.info(
            "%s: no longer accepting; %d request(s) in flight, waiting up to %g s",
            self._stops[0],
            len(in_flight),
            self.grace,
        )
        return self.drain()

    def drain(self) -> bool:
        self.draining = True
        for listener in self.listeners:
            listener.qa_draining = True
            wasyncore.dispatcher.close(listener)  # the listening socket only; the trigger stays for the workers
        stops = len(self._stops)
        deadline = time.monotonic() + self.grace
        quiet_since: float | None = None
        while (now := time.monotonic()) < deadline and len(self._stops) == stops:
            if self.busy_channels():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= LINGER_S:
                break
            self._poll(min(POLL_S, max(0.0, deadline - now)))
        abandoned = self.busy_channels()
        if abandoned:
            why = "a second stop request" if len(self._stops) > stops else f"{self.grace:g} s"
            log.warning("stopping after %s: %d request(s) in flight were not answered", why, len(abandoned))
        else:
            log.info("every request in flight was answered")
        self.close()
        return not abandoned

    def busy_channels(self) -> list[HTTPChannel]:
        """Connections with a request being received, queued, served, or a response not yet sent."""
        return [ch for ch in self.channels() if ch.requests or ch.request is not None or ch.total_outbufs_len]

    def channels(self) -> list[HTTPChannel]:
        return [each for each in list(self.map.values()) if isinstance(each, HTTPChannel)]

    def _poll(self, timeout: float) -> None:
        wasyncore.loop(timeout=timeout, map=self.map, use_poll=self.adj.asyncore_use_poll, count=1)

    def close(self) -> None:
        """Close every connection and stop the worker threads (those still serving are left to the exit)."""
        for channel in self.channels():
            channel.handle_close()
        self.listeners[0].task_dispatcher.shutdown(cancel_pending=True, timeout=1)
        for listener in self.listeners:
            listener.close()
