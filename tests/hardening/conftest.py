"""Hardening fixtures: apps over the session's seed service, a live waitress server, and `qa` as a subprocess."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from benchmarks.runner import LiveServer, qa_command, qa_env
from qa_service.service import QAService
from qa_service.settings import Settings
from qa_service.web import create_app
from qa_service.web.problems import PROBLEM_TYPE
from tests.conftest import ROOT
from tests.support.contract import assert_conforms

NORMAL_QUESTION = "Did Japan threaten to sell its US Treasuries?"
PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def seed_variant(seed_service: QAService, **overrides: object) -> Settings:
    """The seed service's settings with ``overrides``; the rate limit is off unless one is given."""
    return seed_service.settings.model_copy(update={"rate_limit": "", **overrides})


@pytest.fixture(scope="session")
def hard_app(seed_service: QAService) -> Flask:
    """The real app over the seed index, rate limit off (these tests send many requests from one address)."""
    return create_app(seed_variant(seed_service), seed_service)


@pytest.fixture
def client(hard_app: Flask) -> FlaskClient:
    return hard_app.test_client()


@pytest.fixture
def app_with(seed_service: QAService) -> Callable[..., Flask]:
    """A fresh app (its own rate-limit counters) whose settings differ by ``overrides``."""

    def make(**overrides: object) -> Flask:
        return create_app(seed_variant(seed_service, **overrides), seed_service)

    return make


@pytest.fixture(scope="session")
def live(hard_app: Flask, seed_service: QAService) -> Iterator[LiveServer]:
    """``hard_app`` served by waitress on 127.0.0.1 (a free port) in a background thread."""
    with LiveServer.in_thread(hard_app, seed_variant(seed_service)) as server:
        yield server


# ---- talking to a live server with exact bytes ----------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def mimetype(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip()

    def json(self) -> object:
        return json.loads(self.body)


def http_call(
    url: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Reply:
    """One request on a fresh connection; ``body`` and ``headers`` go out exactly as given."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        sent = {k.lower() for k in (headers or {})}
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        if body is not None and "content-length" not in sent and "transfer-encoding" not in sent:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        conn.close()


def post_json(url: str, path: str, body: bytes | str, content_type: str = "application/json") -> Reply:
    data = body.encode() if isinstance(body, str) else body
    return http_call(url, "POST", path, data, {"Content-Type": content_type})


# ---- assertions shared by the hardening tests -----------------------------------------------------


def assert_problem_body(status: int, mimetype: str, body: dict, expected: int) -> dict:
    """A problem+json with the standard fields, a detail a person can read, no traceback, as the document says."""
    assert status == expected, body
    assert mimetype == PROBLEM_TYPE
    assert set(body) >= PROBLEM_FIELDS and body["status"] == expected
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert_conforms("Problem", body)
    text = json.dumps(body)
    assert "Traceback" not in text and "<html" not in text.lower()
    return body


def assert_problem(response, expected: int) -> dict:
    """For a Flask test response or a live ``Reply``."""
    if isinstance(response, Reply):
        return assert_problem_body(response.status, response.mimetype, response.json(), expected)
    return assert_problem_body(response.status_code, response.mimetype, response.get_json(force=True), expected)


def assert_answers(status: int, body: dict) -> None:
    assert status == 200, body
    assert body["abstained"] is False and body["answer"] and body["passages"]


def assert_still_healthy_client(client: FlaskClient) -> None:
    assert client.get("/api/health").status_code == 200
    response = client.post("/api/ask", json={"question": NORMAL_QUESTION})
    assert_answers(response.status_code, response.get_json())


def assert_still_healthy_live(url: str) -> None:
    assert http_call(url, "GET", "/api/health").status == 200
    reply = post_json(url, "/api/ask", json.dumps({"question": NORMAL_QUESTION}))
    assert_answers(reply.status, reply.json())


# ---- `qa` as a subprocess --------------------------------------------------------------------------


def run_qa(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    """Run the real `qa` CLI to completion (bounded by ``timeout``)."""
    return subprocess.run(
        [*qa_command(), *args], cwd=ROOT, env=qa_env(**env), capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def seed_index(seed_settings: Settings, seed_service: QAService, tmp_path: Path) -> Path:
    """A private copy of the session's seed index (built from tests.conftest.SEEDS with the real model)."""
    target = tmp_path / "index"
    shutil.copytree(seed_settings.index_dir, target, symlinks=True)
    return target
