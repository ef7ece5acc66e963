"""Security: headers on every response, CORS off unless allowed, per-client rate limits, ids that are never
paths, loopback by default, and an admin token that only the environment can set."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from benchmarks.runner import LiveServer
from qa_service import cli
from qa_service.errors import ConfigError, IndexMissingError
from qa_service.settings import Settings, load_settings
from qa_service.web import create_app, server
from qa_service.web.security import CONTENT_SECURITY_POLICY
from qa_service.web.server import is_loopback, make_server, warn_if_exposed
from tests.conftest import ROOT
from tests.hardening.conftest import (
    NORMAL_QUESTION,
    assert_problem,
    http_call,
    run_qa,
    seed_variant,
)

EXPECTED_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
ASK = {"question": NORMAL_QUESTION}


# ---- security headers ------------------------------------------------------------------------------


def test_the_policy_forbids_inline_script_and_framing() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'" and directives["default-src"] == "'self'"


RESPONSES = [
    ("chat page", "GET", "/", None, 200),
    ("docs page", "GET", "/api/docs", None, 200),
    ("script", "GET", "/static/chat.js", None, 200),
    ("openapi", "GET", "/api/openapi.json", None, 200),
    ("health", "GET", "/api/health", None, 200),
    ("answer", "POST", "/api/ask", ASK, 200),
    ("unknown path", "GET", "/nothing", None, 404),
    ("wrong method", "GET", "/api/ask", None, 405),
    ("invalid field", "POST", "/api/ask", {"question": ""}, 422),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "status"), RESPONSES, ids=[r[0] for r in RESPONSES])
def test_every_response_carries_the_security_headers(client: FlaskClient, name, method, path, body, status) -> None:
    response = client.open(path, method=method, json=body)
    assert response.status_code == status
    for header, value in EXPECTED_HEADERS.items():
        assert response.headers.get(header) == value, header
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(("name", "method", "path", "body", "status"), RESPONSES, ids=[r[0] for r in RESPONSES])
def test_live_responses_carry_the_security_headers(live, name, method, path, body, status) -> None:
    data = json.dumps(body).encode() if body is not None else None
    reply = http_call(live.url, method, path, data, {"Content-Type": "application/json"} if data else None)
    assert reply.status == status
    for header, value in EXPECTED_HEADERS.items():
        assert reply.headers.get(header) == value, header


# ---- CORS --------------------------------------------------------------------------------------------

ALLOWED = "https://app.example"
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


def test_cors_is_off_by_default(client: FlaskClient) -> None:
    for origin in (ALLOWED, "https://evil.example", "null"):
        response = client.post("/api/ask", json=ASK, headers={"Origin": origin})
        assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers
        preflight = client.options("/api/ask", headers={"Origin": origin, **PREFLIGHT})
        assert not any(h.startswith("Access-Control-") for h, _ in preflight.headers.items())


def test_allowed_origins_get_cors_headers_and_others_do_not(app_with) -> None:
    client = app_with(cors_origins=(ALLOWED, "http://localhost:3000")).test_client()
    response = client.post("/api/ask", json=ASK, headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Origin" in response.headers["Vary"]
    assert client.get("/api/health", headers={"Origin": "http://localhost:3000"}).headers[
        "Access-Control-Allow-Origin"
    ] == ("http://localhost:3000")
    preflight = client.options("/api/chat", headers={"Origin": ALLOWED, **PREFLIGHT})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert preflight.headers["Access-Control-Allow-Headers"] == "Content-Type"
    assert int(preflight.headers["Access-Control-Max-Age"]) > 0
    for origin in ("https://evil.example", "https://app.example.evil.example", "http://app.example", "null"):
        other = client.post("/api/ask", json=ASK, headers={"Origin": origin})
        assert "Access-Control-Allow-Origin" not in other.headers, origin
        denied = client.options("/api/ask", headers={"Origin": origin, **PREFLIGHT})
        assert "Access-Control-Allow-Origin" not in denied.headers, origin
    # The page is not an API: no CORS headers there even for an allowed origin.
    assert "Access-Control-Allow-Origin" not in client.get("/", headers={"Origin": ALLOWED}).headers


def test_a_wildcard_allows_any_origin(app_with) -> None:
    client = app_with(cors_origins=("*",)).test_client()
    response = client.get("/api/documents", headers={"Origin": "https://anyone.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_origins_come_from_the_environment_as_json(monkeypatch) -> None:
    monkeypatch.setenv("QA_CORS_ORIGINS", '["https://app.example", "http://localhost:3000"]')
    assert load_settings().cors_origins == ("https://app.example", "http://localhost:3000")
    monkeypatch.delenv("QA_CORS_ORIGINS")
    assert load_settings().cors_origins == ()


def test_an_invalid_origin_fails_at_start(app_with) -> None:
    with pytest.raises(ConfigError, match=r"cors_origins: 'app\.example' is not an origin"):
        app_with(cors_origins=("app.example",))


def test_qa_serve_names_a_cors_setting_that_is_not_json(tmp_path: Path) -> None:
    result = run_qa("--index-dir", str(tmp_path), "serve", "--port", "0", QA_CORS_ORIGINS="https://app.example")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: invalid settings") and "QA_CORS_ORIGINS='[" in result.stderr


# ---- rate limits -----------------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(app_with) -> None:
    client = app_with(rate_limit="3/minute").test_client()
    for _ in range(3):
        assert client.post("/api/ask", json=ASK).status_code == 200
    response = client.post("/api/ask", json=ASK)
    problem = assert_problem(response, 429)
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60
    assert "too many requests from your address (the limit is 3 per 1 minute)" in problem["detail"]
    assert f"try again in {seconds} seconds" in problem["detail"]
    # One budget per client across the API; health checks and the page are not counted.
    assert_problem(client.get("/api/documents"), 429)
    assert_problem(client.post("/api/chat", json={"messages": [{"role": "user", "content": "Hi"}]}), 429)
    assert client.get("/api/health").status_code == 200
    assert client.get("/").status_code == 200 and client.get("/static/chat.js").status_code == 200


def test_rate_limit_is_per_client_address(app_with) -> None:
    client = app_with(rate_limit="2/minute").test_client()
    first = {"REMOTE_ADDR": "192.0.2.1"}
    for _ in range(2):
        assert client.get("/api/documents", environ_base=first).status_code == 200
    assert client.get("/api/documents", environ_base=first).status_code == 429
    assert client.get("/api/documents", environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 200


def test_preflights_are_not_counted(app_with) -> None:
    client = app_with(rate_limit="2/minute", cors_origins=(ALLOWED,)).test_client()
    for _ in range(5):
        assert client.options("/api/ask", headers={"Origin": ALLOWED, **PREFLIGHT}).status_code == 204
    assert client.post("/api/ask", json=ASK, headers={"Origin": ALLOWED}).status_code == 200
    assert client.post("/api/ask", json=ASK, headers={"Origin": ALLOWED}).status_code == 200
    refused = client.post("/api/ask", json=ASK, headers={"Origin": ALLOWED})
    assert refused.status_code == 429
    assert refused.headers["Access-Control-Allow-Origin"] == ALLOWED  # the browser may read the refusal
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]


def test_an_empty_rate_limit_turns_it_off(app_with) -> None:
    client = app_with(rate_limit="").test_client()
    assert all(client.get("/api/documents").status_code == 200 for _ in range(30))


def test_the_default_rate_limit_is_600_a_minute(monkeypatch) -> None:
    monkeypatch.delenv("QA_RATE_LIMIT", raising=False)
    assert load_settings().rate_limit == "600/minute"
    monkeypatch.setenv("QA_RATE_LIMIT", "")
    assert load_settings().rate_limit == ""


def test_an_invalid_rate_limit_fails_at_start(app_with) -> None:
    with pytest.raises(ConfigError, match="rate_limit: 'lots' is not a rate limit"):
        app_with(rate_limit="lots")


def test_live_rate_limit_through_waitress(seed_service) -> None:
    settings = seed_variant(seed_service, rate_limit="2/minute")
    with LiveServer.in_thread(create_app(settings, seed_service), settings, threads=2) as live:
        assert [http_call(live.url, "GET", "/api/documents").status for _ in range(2)] == [200, 200]
        reply = http_call(live.url, "GET", "/api/documents")
        assert_problem(reply, 429)
        assert int(reply.headers["Retry-After"]) >= 1
        assert http_call(live.url, "GET", "/api/health").status == 200


# ---- document ids are keys, never paths --------------------------------------------------------------------

TRAVERSALS = [
    "..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2E%2E/%2E%2E/qa_service/settings.py",
    "..%252F..%252Fetc%252Fpasswd",
    "%252e%252e%252fetc%252fpasswd",
    "..%5C..%5Cetc%5Cpasswd",
    "%c0%ae%c0%ae%c0%afetc%c0%afpasswd",
    "....%2F%2F....%2F%2Fetc%2Fpasswd",
    "%2Fetc%2Fpasswd",
    "..%00%2Fetc%2Fpasswd",
    "..%2F..%2Fseeds%2Fcatalog.toml",
    "..%2Fseeds%2F000_aff2b0a0751f274a.txt",
    "000_aff2b0a0751f274a.txt",
    "file:%2F%2F%2Fetc%2Fpasswd",
]
RAW_TRAVERSALS = [
    "../../etc/passwd",
    "..\\..\\etc\\passwd",
    "/etc/passwd",
    "../seeds/catalog.toml",
    "./000_aff2b0a0751f274a",
]
STATIC_TRAVERSALS = ["..%2F__init__.py", "%2e%2e/api.py", "..%2F..%2Fsettings.py", "....//server.py"]
FORBIDDEN_TEXT = ("root:", "publisher =", "Blueprint", "BaseSettings", "def ")


def assert_leaks_nothing(body: bytes) -> None:
    text = body.decode("utf-8", "replace")
    for marker in FORBIDDEN_TEXT:
        assert marker not in text, marker


@pytest.mark.parametrize("doc_id", TRAVERSALS)
def test_path_traversal_in_a_document_id_is_404(client: FlaskClient, doc_id: str) -> None:
    response = client.get(f"/api/documents/{doc_id}")
    assert_problem(response, 404)
    assert_leaks_nothing(response.get_data())


@pytest.mark.parametrize("path", [f"/api/documents/{t}" for t in TRAVERSALS + RAW_TRAVERSALS])
def test_live_path_traversal_is_404(live, path: str) -> None:
    """Sent byte for byte through waitress, no client-side normalisation."""
    reply = http_call(live.url, "GET", path)
    assert reply.status == 404 and reply.mimetype == "application/problem+json"
    assert_leaks_nothing(reply.body)


@pytest.mark.parametrize("path", [f"/static/{t}" for t in STATIC_TRAVERSALS] + ["/static/../web/api.py"])
def test_static_files_stay_in_their_folder(live, path: str) -> None:
    reply = http_call(live.url, "GET", path)
    assert reply.status == 404
    assert_leaks_nothing(reply.body)


def test_a_real_document_id_still_works(client: FlaskClient, seed_service) -> None:
    doc_id = next(iter(seed_service.index.documents))
    assert client.get(f"/api/documents/{doc_id}").status_code == 200


# ---- binding -----------------------------------------------------------------------------------------------


def listening_addresses(port: int) -> set[str]:
    """The local IPv4 addresses with a socket listening on ``port`` (from /proc/net/tcp)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def test_the_default_host_is_loopback(monkeypatch, hard_app: Flask) -> None:
    monkeypatch.delenv("QA_HOST", raising=False)
    settings = load_settings(port=0)
    assert settings.host == "127.0.0.1" == Settings.model_fields["host"].default
    bound = make_server(hard_app, settings)
    try:
        assert bound.effective_host == "127.0.0.1"
        if Path("/proc/net/tcp").exists():
            assert listening_addresses(int(bound.effective_port)) == {"127.0.0.1"}
    finally:
        bound.task_dispatcher.shutdown()
        bound.close()


@pytest.mark.parametrize(
    ("host", "exposed"),
    [
        *[("127.0.0.1", False), ("localhost", False), ("::1", False), ("127.0.0.2", False), ("[::1]", False)],
        *[("0.0.0.0", True), ("::", True), ("192.168.1.20", True), ("example.org", True)],
    ],
)
def test_binding_beyond_loopback_logs_a_warning(caplog, host: str, exposed: bool) -> None:
    with caplog.at_level(logging.WARNING, logger="qa_service.web.server"):
        assert warn_if_exposed(host) is exposed
    assert is_loopback(host) is not exposed
    warned = [r for r in caplog.records if "other machines can reach this server" in r.getMessage()]
    assert len(warned) == (1 if exposed else 0)


def test_qa_serve_warns_before_loading_anything_on_0_0_0_0(monkeypatch, caplog, tmp_path: Path) -> None:
    def no_index(*args, **kwargs):
        raise IndexMissingError("no index here", hint="run `qa index`")

    monkeypatch.setattr(server.QAService, "open", no_index)  # nothing is bound: the test stays on loopback
    with caplog.at_level(logging.WARNING, logger="qa_service.web.server"):
        result = CliRunner().invoke(cli.main, ["--index-dir", str(tmp_path), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "error: no index here" in result.output
    assert any("listening on 0.0.0.0" in r.getMessage() for r in caplog.records)


# ---- the admin token: from the environment only --------------------------------------------------------


def test_there_is_no_flag_for_the_admin_token() -> None:
    for args in (["serve", "--admin-token", "x"], ["--admin-token", "x", "serve"]):
        result = CliRunner().invoke(cli.main, args)
        assert result.exit_code == 2 and "No such option '--admin-token'" in result.output


def test_a_dotenv_or_settings_file_does_not_set_the_token(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("QA_ADMIN_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("QA_ADMIN_TOKEN=from-a-file\n")
    (tmp_path / "settings.toml").write_text('admin_token = "from-a-file"\n')
    assert Settings.model_config.get("env_file") is None and Settings.model_config.get("secrets_dir") is None
    assert load_settings().admin_token is None
    monkeypatch.setenv("QA_ADMIN_TOKEN", "from-the-environment")
    assert load_settings().admin_token == "from-the-environment"


def test_qa_settings_masks_the_token(monkeypatch) -> None:
    monkeypatch.setenv("QA_ADMIN_TOKEN", "very-secret-value")
    result = CliRunner().invoke(cli.main, ["settings"])
    assert result.exit_code == 0
    assert "very-secret-value" not in result.output
    assert re.search(r"admin_token\s+QA_ADMIN_TOKEN\s+\(set\)", result.output)


SECRET_PATTERNS = [
    re.compile(r"QA_ADMIN_TOKEN\s*[=:]\s*(?!\$\{)['\"]?[\w-]{4,}"),  # a literal value (not ${...})
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"(?i)\b(?:api[_-]?key|secret|password|admin_token)\b\s*[=:]\s*['\"][^'\"\s]{8,}['\"]"),
    re.compile(r"Bearer [A-Za-z0-9._~+/-]{16,}"),
]


def repository_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        pytest.skip("git is not available to list the repository's files")
    return [ROOT / name for name in listed if not name.startswith("tests/") and (ROOT / name).is_file()]


def test_no_secret_is_committed() -> None:
    hits = []
    for path in repository_files():
        if path.stat().st_size > 2_000_000:
            continue
        text = path.read_text("utf-8", errors="replace")
        hits += [f"{path.relative_to(ROOT)}: {m.group()}" for p in SECRET_PATTERNS for m in p.finditer(text)]
    assert hits == []


def test_empty_or_blank_token_leaves_admin_off(app_with) -> None:
    for token in (None, "", "   "):
        client = app_with(admin_token=token).test_client()
        response = client.post("/api/admin/reindex", headers={"Authorization": "Bearer "})
        assert_problem(response, 404)
