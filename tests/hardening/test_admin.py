"""POST /api/admin/reindex: the bearer token, and re-indexing while questions keep being answered."""

from __future__ import annotations

import hmac
import http.client
import json
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask

from benchmarks.runner import LiveServer
from qa_service.embedding import Embedder
from qa_service.index_store import build_index
from qa_service.service import QAService
from qa_service.settings import Settings, load_settings
from qa_service.web import admin, create_app
from tests.conftest import SEEDS
from tests.fakes import HashEmbedder
from tests.hardening.conftest import assert_problem
from tests.support.contract import assert_conforms
from tests.support.waiting import wait_until

TOKEN = "test-only-token-7f3a9c"  # a test value, never a real secret
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEW_DOC_ID = "900_zanzibar_cloves"
NEW_DOC = (
    "Zanzibar clove exporters agree on a price floor\n\n"
    "Clove exporters in Zanzibar agreed on Saturday to a minimum export price of 9,400 dollars a tonne, the "
    "Zanzibar State Trading Corporation said, after a week of talks with growers on Pemba island who had "
    "threatened to hold back this year's clove harvest from the market.\n\n"
    "The clove price floor will apply to every shipment that leaves the port of Wete from June onwards, the "
    "corporation said, and it will be reviewed each quarter by a committee of growers, exporters and officials "
    "from the ministry of trade, which called the agreement a fair settlement for the clove farmers of Pemba.\n"
)
NEW_QUESTION = "What minimum export price did Zanzibar clove exporters agree?"


def hash_settings(source: Path, root: Path, **extra: object) -> Settings:
    return load_settings(
        source_dir=source,
        index_dir=root / "index",
        model="hash-test-model",
        cache_size=0,
        rate_limit="",
        admin_token=TOKEN,
        **extra,
    )


@pytest.fixture
def hash_app(source_copy: Path, tmp_path: Path) -> Flask:
    """An app over a copy of the seeds indexed with the fast fake embedder, admin token set."""
    settings = hash_settings(source_copy, tmp_path)
    embedder = HashEmbedder()
    build_index(settings, embedder)
    return create_app(settings, QAService.open(settings, embedder=embedder))


# ---- the token -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "send `Authorization: Bearer <token>`"),
        ({"Authorization": ""}, "send `Authorization: Bearer <token>`"),
        ({"Authorization": "Bearer"}, "send `Authorization: Bearer <token>`"),
        ({"Authorization": f"Basic {TOKEN}"}, "send `Authorization: Bearer <token>`"),
        ({"Authorization": f"Token {TOKEN}"}, "send `Authorization: Bearer <token>`"),
        ({"Authorization": "Bearer wrong"}, "the admin token is not valid"),
        ({"Authorization": f"Bearer {TOKEN[:-1]}"}, "the admin token is not valid"),
        ({"Authorization": f"Bearer {TOKEN}x"}, "the admin token is not valid"),
        ({"Authorization": f"Bearer {TOKEN.upper()}"}, "the admin token is not valid"),
        ({"Authorization": f"Bearer {TOKEN} {TOKEN}"}, "the admin token is not valid"),
        ({"X-Admin-Token": TOKEN}, "send `Authorization: Bearer <token>`"),
    ],
    ids=["none", "empty", "no token", "basic", "other scheme", "wrong", "prefix", "longer", "case", "twice", "header"],
)
def test_without_the_right_token_it_is_401(hash_app: Flask, headers: dict, detail: str) -> None:
    client = hash_app.test_client()
    before = client.get("/api/health").get_json()["built_at"]
    response = client.post("/api/admin/reindex", headers=headers)
    problem = assert_problem(response, 401)
    assert detail in problem["detail"] and "QA_ADMIN_TOKEN" in problem["hint"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert TOKEN not in response.get_data(as_text=True)
    assert client.get("/api/health").get_json()["built_at"] == before  # nothing was rebuilt


def test_the_token_is_compared_in_constant_time(hash_app: Flask, monkeypatch) -> None:
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(admin.hmac, "compare_digest", spy)
    client = hash_app.test_client()
    assert client.post("/api/admin/reindex", headers={"Authorization": "Bearer x"}).status_code == 401
    assert calls == [(32, 32)]  # SHA-256 digests: equal lengths, so not even the token's length leaks


def test_get_is_405_and_other_admin_paths_404(hash_app: Flask) -> None:
    client = hash_app.test_client()
    assert_problem(client.get("/api/admin/reindex", headers=AUTH), 405)
    assert_problem(client.post("/api/admin/shutdown", headers=AUTH), 404)


def test_admin_is_off_without_a_token(app_with) -> None:
    client = app_with().test_client()
    response = client.post("/api/admin/reindex", headers=AUTH)
    assert "nothing at /api/admin/reindex" in assert_problem(response, 404)["detail"]


def test_the_token_from_the_environment_enables_it(monkeypatch, source_copy: Path, tmp_path: Path) -> None:
    monkeypatch.setenv("QA_ADMIN_TOKEN", TOKEN)
    settings = load_settings(source_dir=source_copy, index_dir=tmp_path / "index", model="hash-test-model")
    assert settings.admin_token == TOKEN
    build_index(settings, HashEmbedder())
    client = create_app(settings, QAService.open(settings, embedder=HashEmbedder())).test_client()
    assert client.post("/api/admin/reindex", headers=AUTH).status_code == 200


# ---- what a re-index does ---------------------------------------------------------------------------------


def test_reindex_builds_swaps_and_returns_the_new_manifest(hash_app: Flask) -> None:
    client = hash_app.test_client()
    before = client.get("/api/health").get_json()
    source = hash_app.config["QA_SETTINGS"].source_dir
    (source / f"{NEW_DOC_ID}.txt").write_text(NEW_DOC, "utf-8")
    response = client.post("/api/admin/reindex", headers={"Authorization": f"bearer {TOKEN}"})  # any case
    assert response.status_code == 200
    data = response.get_json()
    assert_conforms("Reindexed", data, admin=True)
    assert data["status"] == "reindexed" and data["documents"] == before["documents"] + 1
    assert data["previous_fingerprint"] == before["fingerprint"] != data["fingerprint"]
    after = client.get("/api/health").get_json()
    assert after["fingerprint"] == data["fingerprint"] and after["documents"] == data["documents"]
    assert NEW_DOC_ID in {row["doc_id"] for row in client.get("/api/documents").get_json()}


def test_a_second_reindex_while_one_runs_is_409(hash_app: Flask, monkeypatch) -> None:
    service = hash_app.extensions["qa_service"]
    entered, release = threading.Event(), threading.Event()
    real = service.reindex

    def held():
        entered.set()
        release.wait(60)
        return real()

    monkeypatch.setattr(service, "reindex", held)
    first: list = []
    worker = threading.Thread(
        target=lambda: first.append(hash_app.test_client().post("/api/admin/reindex", headers=AUTH))
    )
    worker.start()
    try:
        assert entered.wait(60)
        second = hash_app.test_client().post("/api/admin/reindex", headers=AUTH)
        assert "a re-index is already running" in assert_problem(second, 409)["detail"]
    finally:
        release.set()
        worker.join(60)
    assert first[0].status_code == 200


def test_a_failed_reindex_keeps_the_old_index_serving(hash_app: Flask) -> None:
    client = hash_app.test_client()
    before = client.get("/api/health").get_json()
    source = hash_app.config["QA_SETTINGS"].source_dir
    for path in source.iterdir():
        path.unlink()
    problem = assert_problem(client.post("/api/admin/reindex", headers=AUTH), 500)
    assert problem["title"] == "Source error" and "no indexable documents" in problem["detail"]
    assert client.get("/api/health").get_json() == before
    assert client.post("/api/ask", json={"question": "Treasuries Japan"}).status_code == 200


def test_a_request_in_flight_finishes_on_the_old_index(hash_app: Flask, monkeypatch) -> None:
    service: QAService = hash_app.extensions["qa_service"]
    old_index = service.index
    (service.settings.source_dir / f"{NEW_DOC_ID}.txt").write_text(NEW_DOC, "utf-8")
    entered, release, seen = threading.Event(), threading.Event(), []
    real = service._answer

    def held(index, *args):
        seen.append(index)
        entered.set()
        release.wait(60)
        return real(index, *args)

    monkeypatch.setattr(service, "_answer", held)
    answers: list = []
    worker = threading.Thread(
        target=lambda: answers.append(
            hash_app.test_client().post("/api/ask", json={"question": NEW_QUESTION, "mode": "bm25"})
        )
    )
    worker.start()
    try:
        assert entered.wait(60)
        swapped = hash_app.test_client().post("/api/admin/reindex", headers=AUTH)  # swaps while the ask waits
        assert swapped.status_code == 200 and service.index is not old_index
    finally:
        release.set()
        worker.join(60)
    assert seen[0] is old_index
    in_flight = answers[0].get_json()
    assert answers[0].status_code == 200 and in_flight["passages"]
    assert all(p["citation"]["doc_id"] in old_index.documents for p in in_flight["passages"])
    monkeypatch.setattr(service, "_answer", real)
    fresh = hash_app.test_client().post("/api/ask", json={"question": NEW_QUESTION, "mode": "bm25"}).get_json()
    assert fresh["passages"][0]["citation"]["doc_id"] == NEW_DOC_ID


# ---- many clients asking while the real model re-indexes ----------------------------------------------------

QUESTIONS = [
    "Did Japan threaten to sell its US Treasuries?",
    "What did Kato say on Friday?",
    "What tariff did Trump put on Japan?",
    NEW_QUESTION,
]


@dataclass
class Outcome:
    started: float
    finished: float
    question: str
    status: int
    body: dict = field(default_factory=dict)


def ask_continuously(port: int, stop: threading.Event, outcomes: list[Outcome], seed: int, limit: int = 2000) -> None:
    """Ask over one keep-alive connection until ``stop`` (or ``limit`` questions)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        for i in range(limit):
            if stop.is_set():
                break
            question = QUESTIONS[(seed + i) % len(QUESTIONS)]
            body = json.dumps({"question": question, "k": 3})
            started = time.monotonic()
            conn.request("POST", "/api/ask", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = json.loads(response.read())
            outcomes.append(Outcome(started, time.monotonic(), question, response.status, data))
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.live
def test_questions_keep_being_answered_during_a_real_reindex(tmp_path: Path, embedder: Embedder) -> None:
    source = tmp_path / "seeds"
    shutil.copytree(SEEDS, source)
    settings = load_settings(
        source_dir=source, index_dir=tmp_path / "index", rate_limit="", admin_token=TOKEN, threads=8, cache_size=0
    )
    build_index(settings, embedder)
    service = QAService.open(settings, embedder=embedder)
    old_docs = set(service.index.documents)
    live = LiveServer.in_thread(create_app(settings, service), settings, threads=8)
    port = live.port
    stop, outcomes = threading.Event(), []
    clients = [
        threading.Thread(target=ask_continuously, args=(port, stop, outcomes, seed), daemon=True) for seed in range(4)
    ]
    try:
        for client in clients:
            client.start()
        assert wait_until(lambda: len(outcomes) >= 8), "the clients never got answers"
        (source / f"{NEW_DOC_ID}.txt").write_text(NEW_DOC, "utf-8")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        began = time.monotonic()
        conn.request("POST", "/api/admin/reindex", headers=AUTH)
        reply = conn.getresponse()
        result = json.loads(reply.read())
        ended = time.monotonic()
        conn.close()

        def answered_from_the_new_index() -> int:
            return sum(1 for o in list(outcomes) if o.started > ended and o.question == NEW_QUESTION)

        assert wait_until(lambda: answered_from_the_new_index() >= 2), "no answers after the re-index"
    finally:
        stop.set()
        for client in clients:
            client.join(120)
        live.stop()
        service.close()

    assert reply.status == 200 and result["documents"] == len(old_docs) + 1
    assert [o.status for o in outcomes if o.status != 200] == []
    during = [o for o in outcomes if o.started < ended and o.finished > began]
    before = [o for o in outcomes if o.finished < began]
    after = [o for o in outcomes if o.started > ended]
    assert before and during and after, (len(before), len(during), len(after))
    for outcome in outcomes:
        assert_conforms("Answer", outcome.body)
        cited = {p["citation"]["doc_id"] for p in outcome.body["passages"]}
        assert cited <= old_docs | {NEW_DOC_ID}
    assert all(NEW_DOC_ID not in {p["citation"]["doc_id"] for p in o.body["passages"]} for o in before)
    new_answers = [o for o in after if o.question == NEW_QUESTION]
    assert new_answers and all(o.body["passages"][0]["citation"]["doc_id"] == NEW_DOC_ID for o in new_answers)
    print(f"\nre-index under load: {len(before)} answers before, {len(during)} during, {len(after)} after; all 200")
