"""Stopping: SIGTERM (what Docker and process managers send) and SIGINT drain the requests in flight.

A real `qa serve` gets eight questions at once on eight connections and is signalled straight after
they were sent: it stops accepting connections, answers all eight, and exits 0. Repeated, because a
race shows up only sometimes.
"""

from __future__ import annotations

import http.client
import json
import logging
import signal
import socket
import threading
from pathlib import Path

import pytest

from benchmarks.runner import LiveServer
from qa_service.web import create_app
from qa_service.web.server import make_server, server_url
from qa_service.web.shutdown import GracefulServer
from tests.conftest import SEEDS
from tests.hardening.conftest import NORMAL_QUESTION, seed_variant
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.live]

CLIENTS = 8
QUESTIONS = [
    "Did Japan threaten to sell its US Treasuries?",
    "What did Kato say on Friday?",
    "What tariff did Trump put on Japan?",
    "How much US debt does Japan hold?",
]
TRIALS = [("SIGTERM", n) for n in range(1, 6)] + [("SIGINT", 1)]


def connected(port: int, count: int) -> list[http.client.HTTPConnection]:
    """``count`` keep-alive connections the server has accepted (each answered a health check)."""
    conns = []
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request("GET", "/api/health")
        assert conn.getresponse().read()
        conns.append(conn)
    return conns


def refused(port: int, limit: float = 60.0) -> bool:
    """Whether new connections are refused within ``limit`` seconds."""

    def refusing() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            return True
        return False

    return wait_until(refusing, limit)


def ask_once(url: str) -> tuple[int, bytes] | Exception:
    """One question on a fresh connection: the status and body, or the error when no answer came."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        body = json.dumps({"question": NORMAL_QUESTION})
        conn.request("POST", "/api/ask", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as exc:
        return exc
    finally:
        conn.close()


@pytest.mark.parametrize(("name", "trial"), TRIALS, ids=[f"{name}-{n}" for name, n in TRIALS])
def test_a_stop_signal_answers_every_request_in_flight_then_exits_0(seed_index: Path, name: str, trial: int) -> None:
    sig = getattr(signal, name)
    # A grace period far longer than eight answers take on a busy machine: this is about draining, and
    # test_a_request_over_the_grace_period_is_abandoned is about the bound.
    env = {"QA_CACHE_SIZE": "0", "QA_SHUTDOWN_GRACE": "300"}
    with LiveServer.subprocess(seed_index, SEEDS, env=env) as server:
        conns = connected(server.port, CLIENTS)
        for i, conn in enumerate(conns):  # every body is sent before the signal
            body = json.dumps({"question": QUESTIONS[i % len(QUESTIONS)], "k": 10})
            conn.request("POST", "/api/ask", body=body, headers={"Content-Type": "application/json"})
        server.signal(sig)
        stopped_accepting = refused(server.port)
        replies = []
        for conn in conns:
            response = conn.getresponse()
            replies.append((response.status, json.loads(response.read())))
            conn.close()
        code = server.wait()
    log = "\n".join(server.log)
    assert [status for status, _ in replies] == [200] * CLIENTS, log
    assert all(body["passages"] for _, body in replies)
    assert stopped_accepting, "new connections were still accepted after the signal"
    assert code == 0, log
    assert f"{name}: no longer accepting" in log and "every request in flight was answered" in log
    assert "Traceback" not in log


# ---- the grace period is a bound --------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["grace period over", "second stop request"])
def test_a_request_over_the_grace_period_is_abandoned(seed_service, monkeypatch, caplog, how: str) -> None:
    """A request still running when the grace period ends (or a second signal comes) is dropped, and said so."""
    entered, release = threading.Event(), threading.Event()
    real = seed_service._answer

    def held(*args):
        entered.set()
        release.wait(120)
        return real(*args)

    monkeypatch.setattr(seed_service, "_answer", held)
    settings = seed_variant(seed_service, port=0, threads=2)
    grace = 0.5 if how == "grace period over" else 300
    graceful = GracefulServer(make_server(create_app(settings, seed_service), settings), grace)
    drained: list[bool] = []
    serving = threading.Thread(target=lambda: drained.append(graceful.serve()), daemon=True)
    serving.start()
    replies: list = []
    client = threading.Thread(target=lambda: replies.append(ask_once(server_url(graceful.server))), daemon=True)
    try:
        with caplog.at_level(logging.INFO, logger="qa_service.web.shutdown"):
            client.start()
            assert entered.wait(120), "the question never reached the service"
            graceful.stop("SIGTERM")
            if how == "second stop request":
                assert wait_until(lambda: graceful.draining)
                graceful.stop("SIGTERM")
            serving.join(120)
    finally:
        release.set()
        client.join(120)
    assert drained == [False]
    assert replies and isinstance(replies[0], OSError | http.client.HTTPException)  # closed, no answer
    why = "0.5 s" if how == "grace period over" else "a second stop request"
    assert f"stopping after {why}: 1 request(s) in flight were not answered" in caplog.text


@pytest.mark.parametrize(("drained", "code"), [(True, 0), (False, 1)])
def test_qa_serve_exits_1_only_when_requests_were_dropped(monkeypatch, drained: bool, code: int) -> None:
    from click.testing import CliRunner

    from qa_service import cli
    from qa_service.web import server

    monkeypatch.setattr(server, "serve", lambda settings, rebuild=False: drained)
    assert CliRunner().invoke(cli.main, ["serve", "--port", "0"]).exit_code == code
