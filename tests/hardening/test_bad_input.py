"""Bad input, the one set: through the Flask test client and (a subset) through a live waitress server.

Each bad request gets a 4xx application/problem+json whose detail says what to change; afterwards the
service is still healthy (GET /api/health is 200 and a normal question is answered). Odd but valid text
(CJK, right-to-left scripts, emoji, control characters mixed into a question) is answered with a 200.
"""

from __future__ import annotations

import io
import json

import pytest
from flask.testing import FlaskClient

from tests.hardening.conftest import (
    NORMAL_QUESTION,
    assert_problem,
    assert_still_healthy_client,
    assert_still_healthy_live,
    http_call,
    post_json,
)

DEEP = '{"question": "Japan?", "publishers": ' + "[" * 25 + "]" * 25 + "}"
MEBIBYTE_QUESTION = '{"question": "' + "x" * (1 << 20) + '"}'
SIZE_DETAIL = "the request body is over the limit of 65,536 bytes"
JSON = "application/json"

# (id, path, raw body, status, words the detail must contain); sent as application/json.
RAW_BODIES = [
    ("empty body", "/api/ask", b"", 400, "the body is empty; send a JSON object"),
    ("only whitespace", "/api/chat", b" \r\n\t", 400, "the body is empty; send a JSON object"),
    ("invalid JSON", "/api/ask", b'{"question": ', 400, "the body is not valid JSON"),
    ("single quotes", "/api/ask", b"{'question': 'hi'}", 400, "the body is not valid JSON"),
    ("trailing data", "/api/ask", b'{"question": "hi"} {}', 400, "the body is not valid JSON: Extra data"),
    ("non-UTF-8 bytes", "/api/ask", b'{"question": "caf\xe9"}', 400, "is not UTF-8 (invalid byte at offset 17)"),
    ("UTF-16 JSON", "/api/ask", '{"question": "hi"}'.encode("utf-16"), 400, "the body is not UTF-8"),
    ("JSON array", "/api/ask", b'[{"question": "hi"}]', 400, "the body must be a JSON object, not an array"),
    ("JSON number", "/api/ask", b"42", 400, "the body must be a JSON object, not a number"),
    ("JSON string", "/api/chat", b'"What did Kato say?"', 400, "the body must be a JSON object, not a string"),
    ("JSON null", "/api/ask", b"null", 400, "the body must be a JSON object, not null"),
    ("NaN", "/api/ask", b'{"question": "hi", "k": NaN}', 400, "NaN is not valid JSON"),
    ("nesting 25 deep", "/api/ask", DEEP.encode(), 400, "the JSON nests more than 20 levels deep"),
    ("nesting 30,000 deep", "/api/chat", b"[" * 30_000 + b"]" * 30_000, 400, "nests more than 20 levels deep"),
    ("5,000-digit number", "/api/ask", b'{"question": "hi", "k": ' + b"9" * 5000 + b"}", 400, "not valid JSON"),
    ("1 MiB question", "/api/ask", MEBIBYTE_QUESTION.encode(), 413, SIZE_DETAIL),
]

Q = {"question": NORMAL_QUESTION}
USER = {"role": "user", "content": "What did Kato say?"}
# (id, path, JSON body, phrases the 422 detail must contain: each names the field and what is wrong).
BAD_FIELDS = [
    ("missing question", "/api/ask", {}, ["question: is required"]),
    ("null question", "/api/ask", {"question": None}, ["question: Input should be a valid string"]),
    ("number question", "/api/ask", {"question": 42}, ["question: Input should be a valid string"]),
    ("list question", "/api/ask", {"question": ["a"]}, ["question: Input should be a valid string"]),
    ("blank question", "/api/ask", {"question": "  \t\n "}, ["question: must not be empty or only spaces"]),
    ("only control characters", "/api/ask", {"question": "\x00\x01\x7f\u200b"}, ["question: must contain visible"]),
    ("2,001 characters", "/api/ask", {"question": "x" * 2001}, ["question: String should have at most 2000"]),
    ("k 0", "/api/ask", {**Q, "k": 0}, ["k: Input should be greater than or equal to 1"]),
    ("k -3", "/api/ask", {**Q, "k": -3}, ["k: Input should be greater than or equal to 1"]),
    ("k 10^12", "/api/ask", {**Q, "k": 10**12}, ["k: Input should be less than or equal to 20"]),
    ("k five", "/api/ask", {**Q, "k": "five"}, ["k: Input should be a valid integer"]),
    ("k as text", "/api/ask", {**Q, "k": "5"}, ["k: Input should be a valid integer"]),
    ("k fractional", "/api/ask", {**Q, "k": 2.5}, ["k: Input should be a valid integer"]),
    ("k boolean", "/api/ask", {**Q, "k": True}, ["k: Input should be a valid integer"]),
    ("k null", "/api/chat", {"messages": [USER], "k": None}, ["k: Input should be a valid integer"]),
    ("unknown field", "/api/ask", {**Q, "colour": "blue"}, ["colour: is not a recognised field"]),
    ("misspelt field", "/api/ask", {"questoin": "hi"}, ["question: is required", "questoin: is not a recognised"]),
    ("unknown mode", "/api/ask", {**Q, "mode": "magic"}, ["mode: Input should be 'hybrid', 'dense' or 'bm25'"]),
    ("date in words", "/api/ask", {**Q, "since": "May 2"}, ["since: must be a date written YYYY-MM-DD"]),
    ("date as number", "/api/ask", {**Q, "since": 20250502}, ["since: must be a date written YYYY-MM-DD"]),
    ("date as timestamp", "/api/ask", {**Q, "until": 1746144000}, ["until: must be a date written YYYY-MM-DD"]),
    ("date day first", "/api/ask", {**Q, "until": "02/05/2025"}, ["until: must be a date written YYYY-MM-DD"]),
    ("impossible date", "/api/ask", {**Q, "until": "2025-02-30"}, ["until: Input should be a valid date"]),
    ("since after until", "/api/ask", {**Q, "since": "2025-05-05", "until": "2025-05-01"}, ["since must not be after"]),
    ("publishers as text", "/api/ask", {**Q, "publishers": "Reuters"}, ["publishers: Input should be a valid list"]),
    ("51 publishers", "/api/ask", {**Q, "publishers": ["R"] * 51}, ["publishers: List should have at most 50 items"]),
    ("long publisher", "/api/ask", {**Q, "publishers": ["x" * 201]}, ["publishers.0: String should have at most 200"]),
    ("no messages", "/api/chat", {}, ["messages: is required"]),
    ("null messages", "/api/chat", {"messages": None}, ["messages: Input should be a valid list"]),
    ("messages as text", "/api/chat", {"messages": "hello"}, ["messages: Input should be a valid list"]),
    ("empty messages", "/api/chat", {"messages": []}, ["messages: List should have at least 1 item"]),
    ("blank message", "/api/chat", {"messages": [{**USER, "content": " "}]}, ["messages.0.content: must not be empty"]),
    ("number message", "/api/chat", {"messages": [{**USER, "content": 7}]}, ["messages.0.content: Input should be"]),
    ("system role", "/api/chat", {"messages": [{**USER, "role": "system"}]}, ["messages.0.role: Input should be"]),
    ("assistant last", "/api/chat", {"messages": [{**USER, "role": "assistant"}]}, ["last message must have role"]),
    ("51 messages", "/api/chat", {"messages": [USER] * 51}, ["messages: List should have at most 50 items"]),
    ("extra message field", "/api/chat", {"messages": [{**USER, "name": "x"}]}, ["messages.0.name: is not a recog"]),
    ("message without content", "/api/chat", {"messages": [{"role": "user"}]}, ["messages.0.content: is required"]),
    ("message without role", "/api/chat", {"messages": [{"content": "Kato?"}]}, ["messages.0.role: is required"]),
    (
        "4,001-character answer",
        "/api/chat",
        {"messages": [USER, {"role": "assistant", "content": "x" * 4001}, USER]},
        ["messages.1.content: String should have at most 4000 characters"],
    ),
    (
        "2,001-character earlier question",
        "/api/chat",
        {"messages": [{**USER, "content": "x" * 2001}, {"role": "assistant", "content": "Kato spoke."}, USER]},
        ["messages.0.content: String should have at most 2000 characters"],
    ),
    ("k 21 in a chat", "/api/chat", {"messages": [USER], "k": 21}, ["k: Input should be less than or equal to 20"]),
    (
        "two bad fields",
        "/api/ask",
        {"question": 42, "k": 99},
        ["question: Input should be a valid string", "k: Input should be less than or equal to 20"],
    ),
]

# Valid: answered 200, the question echoed as cleaned.
PADDED = (NORMAL_QUESTION + " ") * 60
ODD_BUT_VALID = [
    ("CJK", "日本は米国債の売却をちらつかせたのか？", None),
    ("Arabic, right to left", "هل هددت اليابان ببيع سندات الخزانة الأمريكية؟", None),
    ("Hebrew, right to left", "האם יפן איימה למכור את אגרות החוב האמריקאיות?", None),
    ("emoji", "Did Japan 🇯🇵 threaten to sell its US Treasuries? 💵🤔", None),
    ("mixed scripts", "Kato 加藤 said… «Treasuries» — a card? ¿Sí?", None),
    ("control characters inside", "Did Japan\x00 threaten\x07 to sell\u200b its US\x1b Treasuries?", NORMAL_QUESTION),
    ("no-break and ideographic spaces", "Did Japan\u00a0threaten to sell its US\u3000Treasuries?", NORMAL_QUESTION),
    ("bidi override characters", "\u202eDid Japan threaten to sell its US Treasuries?\u202c", NORMAL_QUESTION),
    ("exactly 2,000 characters", PADDED[:2000], PADDED[:2000].strip()),
]

# (id, method, path, content type or None, status, detail phrase); a 405 names the allowed method in Allow too.
WRONG_TYPE_OR_METHOD = [
    ("text/plain", "POST", "/api/ask", "text/plain", 415, "send the body as JSON with Content-Type: application/json"),
    ("form", "POST", "/api/chat", "application/x-www-form-urlencoded", 415, "(got application/x-www-form-urlencoded)"),
    ("no content type", "POST", "/api/ask", None, 415, "(got no Content-Type)"),
    ("latin-1 charset", "POST", "/api/ask", f"{JSON}; charset=latin-1", 415, "UTF-8 JSON (got charset=latin-1)"),
    ("GET /api/ask", "GET", "/api/ask", None, 405, "GET is not allowed on /api/ask; use POST"),
    ("PUT /api/chat", "PUT", "/api/chat", "application/json", 405, "PUT is not allowed on /api/chat; use POST"),
    (
        "DELETE /api/documents",
        "DELETE",
        "/api/documents",
        None,
        405,
        "DELETE is not allowed on /api/documents; use GET",
    ),
    ("POST /api/documents", "POST", "/api/documents", "application/json", 405, "use GET"),
    ("POST /api/health", "POST", "/api/health", "application/json", 405, "use GET"),
]


def ids(cases) -> list[str]:
    return [case[0] for case in cases]


# ---- Flask test client ----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "path", "body", "status", "detail"), RAW_BODIES, ids=ids(RAW_BODIES))
def test_malformed_bodies_are_4xx_problems(client: FlaskClient, name, path, body, status, detail) -> None:
    problem = assert_problem(client.post(path, data=body, content_type="application/json"), status)
    assert detail in problem["detail"]
    assert_still_healthy_client(client)


@pytest.mark.parametrize(("name", "path", "payload", "phrases"), BAD_FIELDS, ids=ids(BAD_FIELDS))
def test_invalid_fields_are_422_naming_the_field(client: FlaskClient, name, path, payload, phrases) -> None:
    problem = assert_problem(client.post(path, json=payload), 422)
    for phrase in phrases:
        assert phrase in problem["detail"]
    assert problem["title"] == "Invalid request"
    assert_still_healthy_client(client)


@pytest.mark.parametrize(("name", "question", "cleaned"), ODD_BUT_VALID, ids=ids(ODD_BUT_VALID))
def test_odd_but_valid_text_is_answered(client: FlaskClient, name: str, question: str, cleaned) -> None:
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["question"] == (cleaned or question)
    assert isinstance(data["passages"], list) and data["passages"]
    if cleaned == NORMAL_QUESTION:
        assert data["abstained"] is False  # the stray characters did not change what was understood
    chat = client.post("/api/chat", json={"messages": [{"role": "user", "content": question}]})
    assert chat.status_code == 200 and chat.get_json()["question"] == (cleaned or question)


@pytest.mark.parametrize(
    ("name", "method", "path", "content_type", "status", "detail"), WRONG_TYPE_OR_METHOD, ids=ids(WRONG_TYPE_OR_METHOD)
)
def test_wrong_content_type_or_method(client: FlaskClient, name, method, path, content_type, status, detail) -> None:
    kwargs = {"data": json.dumps(Q)} if method in ("POST", "PUT") else {}
    if content_type:
        kwargs["content_type"] = content_type
    response = client.open(path, method=method, **kwargs)
    problem = assert_problem(response, status)
    assert detail in problem["detail"]
    if status == 405:
        allowed = detail.rsplit("use ", 1)[1]
        assert allowed in response.headers["Allow"]
    assert_still_healthy_client(client)


def test_unicode_escapes_are_decoded(client: FlaskClient) -> None:
    body = '{"question": "\\u65e5\\u672c Treasuries?"}'
    response = client.post("/api/ask", data=body, content_type="application/json")
    assert response.status_code == 200 and response.get_json()["question"] == "日本 Treasuries?"


def test_lone_surrogates_are_refused_not_crashed_on(client: FlaskClient) -> None:
    for body in ('{"question": "\\ud800 Japan"}', '{"question": "Japan", "publishers": ["\\udfff"]}'):
        problem = assert_problem(client.post("/api/ask", data=body, content_type="application/json"), 422)
        assert "Input should be a valid string" in problem["detail"]
    assert_still_healthy_client(client)


# ---- limits that come from settings, and the bounds themselves ------------------------------------------


def test_the_nesting_limit_comes_from_settings(app_with) -> None:
    client = app_with(max_json_depth=5).test_client()
    ok = {"question": "Japan?", "publishers": ["TRT World"]}  # depth 2
    assert client.post("/api/ask", json=ok).status_code == 200
    deep = '{"question": "Japan?", "x": ' + "[" * 6 + "]" * 6 + "}"
    problem = assert_problem(client.post("/api/ask", data=deep, content_type=JSON), 400)
    assert "nests more than 5 levels" in problem["detail"]
    quoted = {"question": "[[[[[[[[[[ Japan ]]]]]]]]]]"}  # brackets inside strings do not count
    assert client.post("/api/ask", json=quoted).status_code == 200


def test_the_body_limit_comes_from_settings(app_with) -> None:
    client = app_with(max_body_bytes=2048).test_client()
    problem = assert_problem(client.post("/api/ask", json={"question": "x" * 3000}), 413)
    assert "2,048 bytes" in problem["detail"]


def test_a_body_longer_than_its_content_length_is_stopped_while_read(app_with) -> None:
    """A streamed body longer than its Content-Length claims is refused by what is read, not what was said."""
    client = app_with(max_body_bytes=2048).test_client()
    big = io.BytesIO(b'{"question": "' + b"x" * 5000 + b'"}')
    response = client.post(
        "/api/ask",
        input_stream=big,
        content_type=JSON,
        environ_overrides={"CONTENT_LENGTH": "10", "wsgi.input_terminated": True},
    )
    assert_problem(response, 413)


def test_the_question_limit_comes_from_settings(app_with) -> None:
    client = app_with(max_question_chars=40).test_client()
    long = "Did Japan threaten to sell its Treasuries in trade talks?"
    problem = assert_problem(client.post("/api/ask", json={"question": long}), 422)
    assert "question: must be at most 40 characters" in problem["detail"]
    chat = client.post("/api/chat", json={"messages": [{"role": "user", "content": long}]})
    assert "messages.0.content: must be at most 40 characters" in assert_problem(chat, 422)["detail"]


def test_chat_limits_hold_at_their_bounds(client: FlaskClient) -> None:
    history = [USER, {"role": "assistant", "content": "Kato spoke. " * 50}] * 24 + [USER, USER]
    assert len(history) == 50
    assert client.post("/api/chat", json={"messages": history}).status_code == 200
    longest = [USER, {"role": "assistant", "content": "x" * 4000}, {**USER, "content": "x" * 2000}]
    assert client.post("/api/chat", json={"messages": longest}).status_code == 200


# ---- the same through waitress ------------------------------------------------------------------------

LIVE_RAW = [case for case in RAW_BODIES if case[0] in {"empty body", "invalid JSON", "non-UTF-8 bytes", "JSON array"}]
LIVE_RAW += [case for case in RAW_BODIES if case[0] in {"JSON number", "nesting 30,000 deep", "1 MiB question"}]


@pytest.mark.parametrize(("name", "path", "body", "status", "detail"), LIVE_RAW, ids=ids(LIVE_RAW))
def test_live_malformed_bodies(live, name, path, body, status, detail) -> None:
    reply = post_json(live.url, path, body)
    assert detail in assert_problem(reply, status)["detail"]
    assert_still_healthy_live(live.url)


LIVE_FIELDS = [case for case in BAD_FIELDS if case[0] in {"missing question", "blank question", "k five", "k 10^12"}]


@pytest.mark.parametrize(("name", "path", "payload", "phrases"), LIVE_FIELDS, ids=ids(LIVE_FIELDS))
def test_live_invalid_fields(live, name, path, payload, phrases) -> None:
    problem = assert_problem(post_json(live.url, path, json.dumps(payload)), 422)
    assert all(phrase in problem["detail"] for phrase in phrases)
    assert_still_healthy_live(live.url)


def test_live_wrong_content_type_and_method(live) -> None:
    problem = assert_problem(post_json(live.url, "/api/ask", json.dumps(Q), "text/plain"), 415)
    assert "Content-Type: application/json" in problem["detail"]
    reply = http_call(live.url, "GET", "/api/chat")
    assert "GET is not allowed on /api/chat; use POST" in assert_problem(reply, 405)["detail"]
    assert "POST" in reply.headers["Allow"]
    assert_still_healthy_live(live.url)


@pytest.mark.parametrize(("name", "question", "cleaned"), ODD_BUT_VALID[:6], ids=ids(ODD_BUT_VALID[:6]))
def test_live_odd_but_valid_text(live, name: str, question: str, cleaned) -> None:
    reply = post_json(live.url, "/api/ask", json.dumps({"question": question}, ensure_ascii=False).encode())
    assert reply.status == 200 and reply.mimetype == "application/json"
    assert reply.json()["question"] == (cleaned or question)


# Refused by waitress itself, before the app sees the request: still problem+json.
SERVER_LEVEL = [
    ("announced 50 MB body", {"Content-Type": JSON, "Content-Length": str(50 << 20)}, 413, SIZE_DETAIL),
    ("Content-Length not a number", {"Content-Type": JSON, "Content-Length": "ten"}, 400, "not valid HTTP"),
    ("headers over 32 KiB", {"X-Padding": "a" * 40_000}, 431, "the request headers are too large"),
]


@pytest.mark.parametrize(("name", "headers", "status", "detail"), SERVER_LEVEL, ids=ids(SERVER_LEVEL))
def test_live_requests_waitress_refuses_are_problems_too(live, name, headers, status, detail) -> None:
    reply = http_call(live.url, "POST", "/api/ask", None, headers)
    assert detail in assert_problem(reply, status)["detail"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert_still_healthy_live(live.url)


def chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n"


def test_live_chunked_bodies_are_read_and_limited(live) -> None:
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    ok = http_call(live.url, "POST", "/api/ask", chunked(json.dumps(Q).encode()), headers)
    assert ok.status == 200 and ok.json()["question"] == NORMAL_QUESTION
    big = chunked(json.dumps({"question": "x" * 100_000}).encode())  # no Content-Length to refuse it by
    assert SIZE_DETAIL in assert_problem(http_call(live.url, "POST", "/api/ask", big, headers), 413)["detail"]
    assert_still_healthy_live(live.url)
