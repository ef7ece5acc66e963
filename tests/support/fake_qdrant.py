"""A stand-in Qdrant server on 127.0.0.1 for failure tests: it can stall, go away and come back.

It answers the few REST calls a serving process makes (aliases, collection info, point queries) from
an embedded (local-mode) Qdrant client, so the service talks HTTP to it exactly as to a real server
while a test controls the engine's failures: ``stall()`` holds every request until ``resume()`` (the
client's QA_QDRANT_TIMEOUT ends its wait first), ``stop()`` closes the port, ``start()`` opens the same
port again.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STALL_LIMIT = 120.0  # a stalled request ends by itself after this, so a failing test cannot hang on it
COLLECTION = re.compile(r"^/collections/([^/]+)$")
QUERY = re.compile(r"^/collections/([^/]+)/points/query$")


class _Server(ThreadingHTTPServer):
    """Remembers its open connections, so ``stop`` can cut the client's keep-alive ones too."""

    daemon_threads = True

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.connections: set[socket.socket] = set()

    def process_request(self, request, client_address) -> None:
        self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)

    def cut(self) -> None:
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class FakeQdrant:
    """``url`` (http://127.0.0.1:PORT) serving ``client``'s collections; ``requests`` counts what it was asked."""

    def __init__(self, client) -> None:
        self.client = client  # a qdrant_client.QdrantClient in local mode
        self.requests = 0
        self._released = threading.Event()
        self._released.set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Listen (again) on 127.0.0.1, on the same port as before once there was one."""
        self._server = _Server(("127.0.0.1", self.port), _handler(self))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-qdrant", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close the port and cut open connections: connecting is refused until ``start()``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.cut()
            self._server = None

    def stall(self) -> None:
        """Hold every request from now on without answering (until ``resume()``)."""
        self._released.clear()

    def resume(self) -> None:
        self._released.set()

    def answer(self, method: str, path: str, body: bytes) -> tuple[int, object]:
        """(HTTP status, ``result``) for one request, from the embedded client."""
        from qdrant_client.http import models

        self.requests += 1
        self._released.wait(STALL_LIMIT)
        if method == "GET" and path == "/aliases":
            return 200, self.client.get_aliases()
        found = COLLECTION.match(path)
        if method == "GET" and found:
            if not self.client.collection_exists(found.group(1)):
                return 404, None
            return 200, self.client.get_collection(found.group(1))
        found = QUERY.match(path)
        if method == "POST" and found:
            request = models.QueryRequest.model_validate_json(body)
            return 200, self.client.query_points(
                found.group(1),
                query=request.query,
                using=request.using,
                limit=request.limit or 10,
                query_filter=request.filter,
                with_payload=request.with_payload or False,
            )
        return 404, None

    def __enter__(self) -> FakeQdrant:
        return self

    def __exit__(self, *exc) -> None:
        self.resume()
        self.stop()


def _handler(fake: FakeQdrant) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, result = fake.answer(self.command, self.path.split("?", 1)[0], body)
            if status == 200:
                data = {"result": result.model_dump(mode="json"), "status": "ok", "time": 0.0}
            else:
                data = {"status": {"error": f"Not found: {self.path}"}, "time": 0.0}
            payload = json.dumps(data).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up waiting (a stalled request)
                pass

        do_GET = do_POST = _reply

        def log_message(self, *args) -> None:
            pass

    return Handler
