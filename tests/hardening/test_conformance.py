"""Schemathesis `--checks all` against a live server: the OpenAPI document says exactly what the server does.

The real CLI (`schemathesis run --checks all`), every phase (examples, coverage, fuzzing, stateful),
a bounded number of examples per operation, against waitress on 127.0.0.1 serving the real model and
index: every response must match the document (status, content type, headers, schema), invalid data
must be refused, valid data accepted, undeclared methods answered 405, the admin endpoint refuse a
missing token. tests/support/schemathesis.toml and schemathesis_hooks.py hold the two settings made
for this service (413 refuses invalid data; three rules the schema states only in words).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.runner import LiveServer
from qa_service.index_store import build_index
from qa_service.service import QAService
from qa_service.web import create_app
from tests.conftest import ROOT
from tests.fakes import HashEmbedder
from tests.hardening.test_admin import TOKEN, hash_settings
from tests.support.schemathesis_hooks import DROPPED_LOG

pytestmark = [pytest.mark.slow, pytest.mark.live]

EXAMPLES = 30  # per operation and phase: bounded
SEED = 20260514
CONFIG = ROOT / "tests" / "support" / "schemathesis.toml"


def schemathesis(url: str, report: Path, *extra: str, examples: int = EXAMPLES) -> dict:
    """Run the CLI with every check; returns its JSON report (and prints its summary)."""
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/api/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(examples),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "120",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), DROPPED_LOG: str(report.with_suffix(".dropped"))}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    print(result.stdout[-3000:])
    assert report.exists(), result.stdout[-5000:] + result.stderr[-3000:]
    data = json.loads(report.read_text())
    data["output"] = result.stdout
    dropped = report.with_suffix(".dropped")
    data["dropped"] = Counter(dropped.read_text().splitlines()) if dropped.exists() else Counter()
    return data


def assert_clean(report: dict) -> None:
    summary = {k: report[k] for k in ("test_cases", "failures", "errors", "filtered")}
    summary["dropped"] = dict(report["dropped"])  # by operation, status and the rule stated in words
    assert report["failures"] == [] and report["errors"] == [], report["output"][-8000:]
    assert report["exit_code"] == 0 and report["complete"], summary
    noisy = {name: ops for name, ops in report["warnings"].items() if ops and name != "missing_test_data"}
    assert noisy == {}, noisy  # e.g. a pattern Schemathesis cannot read, or a schema it cannot satisfy
    print(f"\nschemathesis --checks all: {json.dumps(summary)}")


def test_every_check_passes_on_the_public_api(live, tmp_path: Path) -> None:
    report = schemathesis(live.url, tmp_path / "report.json")
    assert_clean(report)
    assert report["operations"]["tested"] == 5  # ask, chat, documents, one document, health
    assert sum(report["dropped"].values()) == report["filtered"]  # every dropped failure was a rule in words
    assert report["test_cases"]["generated"] >= 200


def test_every_check_passes_on_the_admin_endpoint(source_copy: Path, tmp_path: Path) -> None:
    """A server with QA_ADMIN_TOKEN lists the endpoint; without the token it is 401, with it a real re-index."""
    settings = hash_settings(source_copy, tmp_path)
    build_index(settings, HashEmbedder())
    service = QAService.open(settings, embedder=HashEmbedder())
    with LiveServer.in_thread(create_app(settings, service), settings) as server:
        report = schemathesis(
            server.url,
            tmp_path / "report.json",
            "--include-path",
            "/api/admin/reindex",
            "--header",
            f"Authorization: Bearer {TOKEN}",
            examples=5,
        )
    service.close()
    assert_clean(report)
    assert report["operations"]["tested"] == 1
