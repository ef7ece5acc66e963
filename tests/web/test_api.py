"""The JSON API through the Flask test client: the answer contract, chat, documents, health, OpenAPI, errors."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from qa_service import cli
from qa_service.domain import Answer
from qa_service.errors import IndexMissingError
from qa_service.requests import AskRequest, ChatRequest
from qa_service.serialize import DocumentDetail, DocumentSummary, response_schema
from qa_service.service import QAService
from qa_service.web import create_app
from qa_service.web.openapi import REF
from qa_service.web.schemas import Health, Problem, Reindexed
from qa_service.web.server import make_server
from tests.support.contract import assert_conforms

ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PROBLEM_FIELDS = {"type", "title", "status", "detail"}
CITATION_FIELDS = ["doc_id", "title", "publisher", "source", "author", "date", "url", "start", "end"]
ANSWER_FIELDS = ["question", "abstained", "confidence", "answer", "passages"]
ROW_FIELDS = ["doc_id", "title", "publisher", "source", "author", "date", "url", "passages", "warnings"]
FIRST_QUESTION = "What did Kato say on Friday?"
FIRST_ANSWER = (
    "Finance Minister Katsunobu Kato said on Friday that Japan's US Treasury holdings could be used "
    "as a card in trade negotiations. [1]"
)
FOLLOW_UP = "What did he say two days later?"


def ask(client: FlaskClient, question: str, **extra: object) -> TestResponse:
    return client.post("/api/ask", json={"question": question, **extra})


def assert_problem(response: TestResponse, status: int) -> dict:
    """The response is problem+json with the four standard fields and no trace of a traceback or HTML."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert set(body) >= PROBLEM_FIELDS
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower()
    assert_conforms("Problem", body)
    return body


def assert_citation(citation: dict) -> None:
    assert list(citation) == CITATION_FIELDS  # the public contract: names and order
    assert isinstance(citation["doc_id"], str) and citation["doc_id"]
    assert citation["title"] is None or isinstance(citation["title"], str)
    assert citation["source"] is None or isinstance(citation["source"], str)
    assert citation["date"] is None or ISO_DAY.match(citation["date"])
    assert isinstance(citation["start"], int) and isinstance(citation["end"], int)
    assert 0 <= citation["start"] < citation["end"]


def assert_answer_contract(data: dict) -> None:
    assert list(data)[:5] == ANSWER_FIELDS  # the original four in their order, confidence added after abstained
    assert isinstance(data["question"], str)
    assert isinstance(data["abstained"], bool)
    assert data["confidence"] in ("high", "low", "none")
    assert (data["confidence"] == "none") == data["abstained"]
    assert data["answer"] is None if data["abstained"] else isinstance(data["answer"], str)
    assert isinstance(data["passages"], list)
    for rank, passage in enumerate(data["passages"], start=1):
        assert set(passage) == {"rank", "text", "score", "highlights", "citation", "also_reported_by"}
        assert passage["rank"] == rank
        assert isinstance(passage["text"], str) and passage["text"]
        assert isinstance(passage["score"], float | int)
        for span in passage["highlights"]:
            assert isinstance(span, list) and len(span) == 2
            start, end = span
            assert isinstance(start, int) and isinstance(end, int)
            assert 0 <= start < end <= len(passage["text"])
        assert_citation(passage["citation"])
        for other in passage["also_reported_by"]:
            assert_citation(other)


# ---- POST /api/ask -------------------------------------------------------------------------


def test_ask_returns_the_answer_contract(client: FlaskClient) -> None:
    response = ask(client, "Did Japan threaten to sell its US Treasuries?")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert_answer_contract(data)
    assert_conforms("Answer", data)  # the OpenAPI document says exactly this (extra fields fail)
    assert "resolved_question" not in data
    assert data["abstained"] is False
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])}
    assert markers and markers <= {p["rank"] for p in data["passages"]}
    assert any(p["citation"]["date"] for p in data["passages"])
    assert all(p["highlights"] for p in data["passages"])


def test_ask_citation_spans_index_the_document_text(client: FlaskClient) -> None:
    passage = ask(client, "What did Kato say in Milan?").get_json()["passages"][0]
    citation = passage["citation"]
    doc = client.get(f"/api/documents/{citation['doc_id']}").get_json()
    assert doc["text"][citation["start"] : citation["end"]] == passage["text"]


def test_ask_honours_k(client: FlaskClient) -> None:
    data = ask(client, "Japan Treasury holdings", k=2).get_json()
    assert 1 <= len(data["passages"]) <= 2


def test_ask_abstains_when_the_sources_do_not_answer(client: FlaskClient) -> None:
    data = ask(client, "What is the capital of France?").get_json()
    assert_answer_contract(data)
    assert data["abstained"] is True
    assert data["answer"] is None


def test_ask_keeps_the_question_as_sent_after_cleaning(client: FlaskClient) -> None:
    data = ask(client, "  Did Japan   threaten to sell Treasuries?  ").get_json()
    assert data["question"] == "Did Japan threaten to sell Treasuries?"


# ---- POST /api/chat ------------------------------------------------------------------------


def chat(client: FlaskClient, *turns: tuple[str, str], **extra: object) -> TestResponse:
    return client.post("/api/chat", json={"messages": [{"role": r, "content": c} for r, c in turns], **extra})


def test_chat_resolves_a_follow_up_with_the_earlier_turns(client: FlaskClient) -> None:
    response = chat(client, ("user", FIRST_QUESTION), ("assistant", FIRST_ANSWER), ("user", FOLLOW_UP))
    assert response.status_code == 200
    data = response.get_json()
    assert_answer_contract(data)
    assert_conforms("ChatAnswer", data)
    assert data["question"] == FOLLOW_UP
    resolved = data["resolved_question"]
    assert resolved != FOLLOW_UP and "Kato" in resolved
    # What was searched is about Kato: the passages (answering or nearest) are his remarks.
    assert data["passages"] and "Kato" in data["passages"][0]["text"]


def test_chat_with_one_message_answers_it_as_asked(client: FlaskClient) -> None:
    data = chat(client, ("user", FIRST_QUESTION)).get_json()
    assert data["resolved_question"] == FIRST_QUESTION
    assert data["abstained"] is False


def test_chat_without_history_cannot_resolve_the_pronoun(client: FlaskClient) -> None:
    data = chat(client, ("user", FOLLOW_UP)).get_json()
    assert data["resolved_question"] == FOLLOW_UP


def test_chat_accepts_the_ask_options(client: FlaskClient) -> None:
    data = chat(client, ("user", FIRST_QUESTION), k=1, mode="bm25", since="2025-05-03").get_json()
    assert len(data["passages"]) == 1
    assert data["passages"][0]["citation"]["date"] >= "2025-05-03"


# ---- documents and health ------------------------------------------------------------------


def test_documents_lists_every_indexed_document(client: FlaskClient, seed_service: QAService) -> None:
    response = client.get("/api/documents")
    assert response.status_code == 200
    rows = response.get_json()
    assert isinstance(rows, list)
    assert len(rows) == seed_service.index.manifest.documents
    for row in rows:
        assert_conforms("DocumentSummary", row)
        assert list(row) == ROW_FIELDS
        assert row["passages"] >= 1
    sources = {row["doc_id"]: row["source"] for row in rows}
    assert sources["003_51eea627eb5f8ad1"] == "Reuters" and sources["002_ab862d0e136790e3"] is None
    assert sum(r["passages"] for r in rows) == seed_service.index.manifest.passages


def test_one_document_has_its_row_and_clean_text(client: FlaskClient) -> None:
    row = client.get("/api/documents").get_json()[0]
    response = client.get(f"/api/documents/{row['doc_id']}")
    assert response.status_code == 200
    doc = response.get_json()
    assert_conforms("DocumentDetail", doc)
    assert {k: v for k, v in doc.items() if k != "text"} == row
    assert isinstance(doc["text"], str) and len(doc["text"]) > 100


@pytest.mark.parametrize(
    "doc_id",
    ["no-such-document", "..%2F..%2Fetc%2Fpasswd", "..%2F..%2Fseeds%2Fcatalog.toml", "%2Fetc%2Fpasswd", "seeds"],
)
def test_unknown_document_ids_are_404_and_never_paths(client: FlaskClient, doc_id: str) -> None:
    response = client.get(f"/api/documents/{doc_id}")
    assert_problem(response, 404)
    text = response.get_data(as_text=True)
    assert "root:" not in text and "publisher =" not in text


def test_health_summarises_the_manifest(client: FlaskClient, seed_service: QAService) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    data = response.get_json()
    assert_conforms("Health", data)
    manifest = seed_service.index.manifest
    assert data["status"] == "ok"
    assert data["model"] == manifest.model
    assert data["dimension"] == manifest.dimension == 384
    assert data["documents"] == manifest.documents > 0
    assert data["passages"] == manifest.passages > 0
    assert data["fingerprint"] == manifest.fingerprint
    assert data["built_at"] and data["faiss_index"]


# ---- OpenAPI and the docs page ----------------------------------------------------------------


def resolve_refs(node: object, spec: dict) -> None:
    """Every $ref in ``node`` points at an existing component schema."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            assert ref.startswith("#/components/schemas/"), ref
            assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"], ref
        for value in node.values():
            resolve_refs(value, spec)
    elif isinstance(node, list):
        for value in node:
            resolve_refs(value, spec)


def test_openapi_is_a_3_1_document_generated_from_the_models(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    for path in ("/api/ask", "/api/chat", "/api/documents", "/api/documents/{doc_id}", "/api/health"):
        assert path in spec["paths"]
    components = spec["components"]["schemas"]
    # Requests: the schemas of the models that validate them.
    assert components["AskRequest"] == AskRequest.model_json_schema(ref_template=REF)
    chat_schema = ChatRequest.model_json_schema(ref_template=REF)
    assert components["ChatRequest"] == {k: v for k, v in chat_schema.items() if k != "$defs"}
    for name in ("UserMessage", "AssistantMessage"):
        assert components[name] == chat_schema["$defs"][name]
    # Responses: the schemas of the types they are serialised from.
    for kind in (DocumentSummary, DocumentDetail, Health, Reindexed, Problem):
        generated = response_schema(kind, REF)
        generated.pop("$defs", None)
        assert components[kind.__name__] == generated
    answer = response_schema(Answer, REF)
    assert components["Citation"] == answer["$defs"]["Citation"]
    assert components["AnswerPassage"] == answer["$defs"]["AnswerPassage"]
    assert list(components["Citation"]["properties"]) == CITATION_FIELDS
    assert list(components["Answer"]["properties"]) == ANSWER_FIELDS  # resolved_question: chat answers only
    assert list(components["ChatAnswer"]["properties"]) == [*ANSWER_FIELDS, "resolved_question"]
    assert "resolved_question" in components["ChatAnswer"]["required"]
    assert "question" in components["AskRequest"]["required"]
    assert components["ChatRequest"]["properties"]["messages"]["maxItems"] == 50
    ask_op = spec["paths"]["/api/ask"]["post"]
    assert ask_op["requestBody"]["content"]["application/json"]["schema"] == {"$ref": REF.format(model="AskRequest")}
    assert set(ask_op["responses"]) >= {"200", "400", "413", "415", "422"}
    assert "application/problem+json" in ask_op["responses"]["422"]["content"]
    resolve_refs(spec, spec)
    for item in spec["paths"].values():
        for operation in item.values():
            assert operation["responses"], operation


def test_the_admin_endpoint_is_in_the_document_only_when_the_server_has_it(client: FlaskClient, client_with) -> None:
    """Without QA_ADMIN_TOKEN the route is a 404, so the document must not list it (nor its security scheme)."""
    without = client.get("/api/openapi.json").get_json()
    assert "/api/admin/reindex" not in without["paths"] and "securitySchemes" not in without["components"]
    assert client.post("/api/admin/reindex").status_code == 404
    admin = client_with(admin_token="a-test-token")
    listed = admin.get("/api/openapi.json").get_json()
    operation = listed["paths"]["/api/admin/reindex"]["post"]
    assert operation["security"] == [{"adminToken": []}] and "404" not in operation["responses"]
    assert admin.post("/api/admin/reindex").status_code == 401  # there, and asking for the token


def test_the_document_states_this_servers_question_limit(client: FlaskClient, client_with) -> None:
    def limits(spec: dict) -> tuple[int, int, int]:
        schemas = spec["components"]["schemas"]
        return (
            schemas["AskRequest"]["properties"]["question"]["maxLength"],
            schemas["UserMessage"]["properties"]["content"]["maxLength"],
            schemas["AssistantMessage"]["properties"]["content"]["maxLength"],
        )

    assert limits(client.get("/api/openapi.json").get_json()) == (2000, 2000, 4000)
    assert limits(client_with(max_question_chars=40).get("/api/openapi.json").get_json()) == (40, 40, 4000)


def test_k_written_as_a_whole_float_is_answered_as_the_schema_allows(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    assert spec["components"]["schemas"]["AskRequest"]["properties"]["k"]["type"] == "integer"
    data = ask(client, "Japan Treasury holdings", k=2.0).get_json()
    assert_answer_contract(data)
    assert 1 <= len(data["passages"]) <= 2
    assert_problem(ask(client, "Japan Treasury holdings", k=2.5), 422)


def test_every_user_message_is_held_to_the_question_limit_the_schema_states(client: FlaskClient) -> None:
    """Earlier user messages are questions too (a follow-up about time asks the previous one again)."""
    long_question = [message(content="x" * 2001), message("assistant", "Kato spoke."), message()]
    body = assert_problem(client.post("/api/chat", json={"messages": long_question}), 422)
    assert "messages.0.content: String should have at most 2000 characters" in body["detail"]
    long_answer = [message(), message("assistant", "x" * 4000), message()]
    assert client.post("/api/chat", json={"messages": long_answer}).status_code == 200


def test_openapi_document_loads_in_an_openapi_tool(client: FlaskClient) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_dict(client.get("/api/openapi.json").get_json())
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert ("POST", "/api/ask") in operations
    assert ("GET", "/api/documents/{doc_id}") in operations


def test_docs_page_renders_the_spec_with_local_js(client: FlaskClient) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<script src="/static/docs.js"' in html
    assert "/api/openapi.json" in html
    assert client.get("/static/docs.js").status_code == 200


# ---- the chat page's files ------------------------------------------------------------------


STATIC = Path(__file__).resolve().parents[2] / "qa_service" / "web" / "static"


def test_chat_page_is_served_with_its_assets(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<label for="question"' in html
    assert 'aria-live="polite"' in html
    for asset in ("/static/chat.js", "/static/chat.css"):
        assert asset in html
        assert client.get(asset).status_code == 200


@pytest.mark.parametrize("name", ["index.html", "docs.html"])
def test_pages_have_no_inline_script_or_style(name: str) -> None:
    """A later CSP forbids 'unsafe-inline': every script is a file, no style attributes, no handlers."""
    html = (STATIC / name).read_text("utf-8")
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html)
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "<style" not in html
    assert "http://" not in html and "https://" not in html  # no CDN


@pytest.mark.parametrize("name", ["chat.js", "docs.js"])
def test_scripts_never_parse_text_as_html(name: str) -> None:
    script = (STATIC / name).read_text("utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


# ---- errors: always problem+json (bad input: tests/hardening/test_bad_input.py) ---------------------


def test_unknown_route_is_404(client: FlaskClient) -> None:
    body = assert_problem(client.get("/api/nothing-here"), 404)
    assert "/api/nothing-here" in body["detail"]


def message(role: str = "user", content: str = "What did Kato say?") -> dict:
    return {"role": role, "content": content}


def test_a_qa_error_keeps_its_status_title_and_hint(client: FlaskClient, seed_service, monkeypatch) -> None:
    def missing(*args, **kwargs):
        raise IndexMissingError("no index in /nowhere", hint="run `qa index`")

    monkeypatch.setattr(seed_service, "ask", missing)
    body = assert_problem(ask(client, "Japan?"), 503)
    assert body["title"] == "Index not built"
    assert body["detail"] == "no index in /nowhere"
    assert body["hint"] == "run `qa index`"


def test_an_unexpected_error_is_a_logged_500_problem(client: FlaskClient, seed_service, monkeypatch, caplog) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("secret internal state")

    monkeypatch.setattr(seed_service, "ask", broken)
    with caplog.at_level(logging.ERROR, logger="qa_service.web.problems"):
        response = ask(client, "Japan?")
    body = assert_problem(response, 500)
    assert "secret internal state" not in response.get_data(as_text=True)
    assert body["title"] == "Internal Server Error"
    assert any("secret internal state" in (r.exc_text or "") for r in caplog.records)


# ---- the factory and the server ----------------------------------------------------------------


def test_create_app_opens_the_service_once_when_none_is_given(seed_service, monkeypatch) -> None:
    calls = []

    def fake_open(cls, settings, rebuild=False, embedder=None):
        calls.append(settings)
        return seed_service

    monkeypatch.setattr(QAService, "open", classmethod(fake_open))
    app = create_app(seed_service.settings)
    assert calls == [seed_service.settings]
    assert app.test_client().get("/api/health").status_code == 200
    assert len(calls) == 1


def test_serve_without_an_index_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.main, ["--index-dir", str(tmp_path / "none"), "serve", "--port", "0"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no index in")


def test_a_busy_port_is_a_config_error(app: Flask, seed_service: QAService) -> None:
    from qa_service.errors import ConfigError

    first = make_server(app, seed_service.settings.model_copy(update={"port": 0}))
    try:
        busy = seed_service.settings.model_copy(update={"port": first.effective_port})
        with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1"):
            make_server(app, busy)
    finally:
        first.task_dispatcher.shutdown()
        first.close()
