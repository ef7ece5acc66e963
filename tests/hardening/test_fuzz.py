"""Schemathesis against a live waitress server (tests/web/test_conformance.py does the same in-process).

Generated valid and invalid bodies for /api/ask and /api/chat, sent over HTTP: never a 5xx, and every
response (status, content type, body) matches /api/openapi.json. Bounded by example count.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

EXAMPLES = 40
OPERATIONS = [("POST", "/api/ask"), ("POST", "/api/chat")]


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[p for _, p in OPERATIONS])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_live_fuzzing_finds_no_5xx_and_no_schema_drift(live, method: str, path: str, mode) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/api/openapi.json")
    # Invalid data can be a body over QA_MAX_BODY_BYTES: refused with 413, which is a rejection too.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    operation = schema[path][method]
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        # Semantic rules (visible characters, since <= until, the last message is the user's) make some
        # schema-valid bodies a 422, so "valid data is accepted" is left out, as in test_conformance.py.
        response = case.call_and_validate(base_url=live.url, excluded_checks=[positive_data_acceptance])
        statuses.append(response.status_code)

    check()
    assert statuses and max(statuses) < 500
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    print(f"\n{path} {mode.value}: {len(statuses)} requests, statuses {counts}")
