"""The Qdrant backend when its engine fails: unreachable, stalled, then back (issue 13, "Failure behaviour").

The service talks HTTP to a stand-in server on 127.0.0.1 (tests/support/fake_qdrant.py) that answers
from an embedded Qdrant holding the seeds, so a test can close its port, make it stall past
QA_QDRANT_TIMEOUT, and bring it back. Each failure must be a 503 problem+json with a hint on
/api/ask and on /api/health, end within the timeout (pytest-timeout bounds the test, no clock is
asserted), and clear by itself when the engine answers again.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from qa_service.backends.qdrant import CONNECTIONS
from qa_service.cli import main
from qa_service.errors import EngineUnavailableError
from qa_service.index_store import build_index
from qa_service.service import QAService
from qa_service.settings import Settings, load_settings
from qa_service.web import create_app
from tests.conftest import SEEDS
from tests.fakes import HashEmbedder
from tests.support.fake_qdrant import FakeQdrant

pytestmark = [pytest.mark.live, pytest.mark.timeout(300)]
QUESTION = {"question": "Did Japan threaten to sell its US Treasuries?"}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded(tmp_path: Path) -> Settings:
    """The seeds built into an embedded Qdrant (the stand-in model: these tests are about plumbing)."""
    settings = load_settings(
        source_dir=SEEDS,
        index_dir=tmp_path / "index",
        model="hash-test-model",
        backend="qdrant",
        qdrant_path=tmp_path / "qdrant",
        cache_size=0,
        rate_limit="",
    )
    build_index(settings, HashEmbedder())
    yield settings
    CONNECTIONS.close(settings)


@pytest.fixture
def engine(embedded: Settings) -> Iterator[FakeQdrant]:
    with FakeQdrant(CONNECTIONS.client(embedded)[0]) as fake:
        yield fake


def served_by(embedded: Settings, url: str) -> Settings:
    return embedded.model_copy(update={"qdrant_url": url, "qdrant_path": None, "qdrant_timeout": 1})


@pytest.fixture
def client(embedded: Settings, engine: FakeQdrant) -> Iterator[FlaskClient]:
    settings = served_by(embedded, engine.url)
    service = QAService.open(settings, embedder=HashEmbedder())
    try:
        yield create_app(settings, service).test_client()
    finally:
        service.close()


def assert_engine_problem(response, phrase: str) -> None:
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["title"] == "Search engine unavailable" and phrase in body["detail"], body
    assert "QA_QDRANT_URL" in body["hint"], body


def test_an_engine_that_goes_away_is_a_503_with_a_hint_and_recovers_when_it_returns(client, engine) -> None:
    assert client.post("/api/ask", json=QUESTION).status_code == 200
    assert client.get("/api/health").get_json()["backend"] == "qdrant"
    engine.stop()
    assert_engine_problem(client.post("/api/ask", json=QUESTION), "cannot be reached")
    assert_engine_problem(client.get("/api/health"), "cannot be reached")
    engine.start()  # the same port: nothing restarts the service
    answer = client.post("/api/ask", json=QUESTION)
    assert answer.status_code == 200 and answer.get_json()["passages"]
    assert client.get("/api/health").status_code == 200


def test_an_engine_that_stalls_is_a_503_within_the_timeout_and_recovers(client, engine) -> None:
    assert client.post("/api/ask", json=QUESTION).status_code == 200
    engine.stall()
    asked = engine.requests
    assert_engine_problem(client.post("/api/ask", json=QUESTION), "did not answer within 1 s")
    assert_engine_problem(client.get("/api/health"), "did not answer within 1 s")
    assert engine.requests > asked  # it did reach the engine, and gave up waiting on it
    engine.resume()
    assert client.post("/api/ask", json=QUESTION).status_code == 200
    assert client.get("/api/health").status_code == 200


def test_an_unreachable_engine_at_start_is_refused_in_one_line(embedded: Settings) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(EngineUnavailableError) as caught:
        QAService.open(served_by(embedded, url), embedder=HashEmbedder())
    assert url in caught.value.message and "\n" not in caught.value.message
    env = {"QA_BACKEND": "qdrant", "QA_QDRANT_URL": url, "QA_QDRANT_TIMEOUT": "1", "QA_MODEL": "hash-test-model"}
    result = CliRunner().invoke(main, ["--index-dir", str(embedded.index_dir), "documents"], env=env)
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1 and lines[0].startswith("error: Qdrant at " + url), result.output
