"""Framing errors close the connection (RFC 9112 §6.3): nothing sent after a request of ambiguous length is served.

Raw sockets against waitress on 127.0.0.1, byte for byte. A request with both Content-Length and
Transfer-Encoding could be read one way by a proxy in front and another way here (request smuggling);
it gets a 400 problem, and the connection is closed even when a second request follows on it.
"""

from __future__ import annotations

import contextlib
import json
import socket

import pytest

from tests.hardening.conftest import NORMAL_QUESTION

pytestmark = pytest.mark.live

BODY = json.dumps({"question": NORMAL_QUESTION}).encode()
CHUNKED = f"{len(BODY):x}\r\n".encode() + BODY + b"\r\n0\r\n\r\n"
HEALTH = b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n"


def request(head: str, body: bytes = b"") -> bytes:
    return head.replace("\n", "\r\n").encode() + b"\r\n" + body


# (id, a request whose framing is wrong, expected status, words of the detail)
FRAMING_ERRORS = [
    (
        "Content-Length and Transfer-Encoding",
        request(
            "POST /api/ask HTTP/1.1\nHost: localhost\nContent-Type: application/json\n"
            f"Content-Length: {len(CHUNKED)}\nTransfer-Encoding: chunked\n",
            CHUNKED,
        ),
        400,
        "Content-Length and Transfer-Encoding must not both be sent",
    ),
    (
        "Transfer-Encoding before Content-Length",
        request(
            "POST /api/ask HTTP/1.1\nHost: localhost\nTransfer-Encoding: chunked\n"
            "Content-Type: application/json\nContent-Length: 4\n",
            CHUNKED,
        ),
        400,
        "must not both be sent",
    ),
    (
        "Transfer-Encoding in HTTP/1.0",
        request(
            "POST /api/ask HTTP/1.0\nConnection: keep-alive\nContent-Type: application/json\n"
            f"Transfer-Encoding: chunked\nContent-Length: {len(BODY)}\n",
            BODY,
        ),
        400,
        "Transfer-Encoding is not allowed in an HTTP/1.0 request",
    ),
    (
        "chunk size not hexadecimal",
        request(
            "POST /api/ask HTTP/1.1\nHost: localhost\nContent-Type: application/json\nTransfer-Encoding: chunked\n",
            b"zz\r\n" + BODY + b"\r\n0\r\n\r\n",
        ),
        400,
        "not valid HTTP",
    ),
    (
        "two different Content-Lengths",
        request(
            "POST /api/ask HTTP/1.1\nHost: localhost\nContent-Type: application/json\n"
            f"Content-Length: {len(BODY)}\nContent-Length: 5\n",
            BODY,
        ),
        400,
        "Content-Length is invalid",
    ),
    (
        "Content-Length not a number",
        request("POST /api/ask HTTP/1.1\nHost: localhost\nContent-Type: application/json\nContent-Length: ten\n"),
        400,
        "Content-Length is invalid",
    ),
    (
        "unsupported transfer coding",
        request(
            "POST /api/ask HTTP/1.1\nHost: localhost\nContent-Type: application/json\nTransfer-Encoding: gzip\n",
            BODY,
        ),
        501,
        "Transfer-Encoding requested is not supported",
    ),
]


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed)."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def responses(data: bytes) -> list[tuple[int, dict]]:
    """The (status, JSON body) of each HTTP response in ``data`` (bodies framed by Content-Length)."""
    found = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        found.append((int(lines[0].split()[1]), json.loads(rest[:length] or b"null")))
        data = rest[length:]
    return found


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=60)


@pytest.mark.parametrize(("name", "raw", "status", "detail"), FRAMING_ERRORS, ids=[f[0] for f in FRAMING_ERRORS])
def test_a_framing_error_is_answered_once_and_the_connection_closed(live, name, raw, status, detail) -> None:
    """A second request pipelined behind the bad one, in the same write, is never served."""
    with connect(live.url) as sock:
        sock.sendall(raw + HEALTH)
        answered = responses(read_until_closed(sock))
    assert [code for code, _ in answered] == [status], answered
    problem = answered[0][1]
    assert problem["status"] == status and detail in problem["detail"]


def test_a_request_sent_after_the_400_on_the_same_connection_is_not_served(live) -> None:
    _, raw, status, _ = FRAMING_ERRORS[0]
    with connect(live.url) as sock:
        sock.sendall(raw)
        first = b""
        while b"\r\n\r\n" not in first or not first.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            first += chunk
        assert [code for code, _ in responses(first)] == [status]
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # already closed: what is wanted
            sock.sendall(HEALTH)
        assert read_until_closed(sock) == b""


def test_a_well_framed_request_keeps_its_connection(live) -> None:
    """The control: keep-alive still works for requests framed one way only."""
    chunked = request(
        "POST /api/ask HTTP/1.1\nHost: localhost\nContent-Type: application/json\nTransfer-Encoding: chunked\n",
        CHUNKED,
    )
    with connect(live.url) as sock:
        sock.sendall(chunked + HEALTH + b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answered = responses(read_until_closed(sock))
    assert [code for code, _ in answered] == [200, 200, 200]
    assert answered[0][1]["question"] == NORMAL_QUESTION
