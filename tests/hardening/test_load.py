"""A 5-second run of benchmarks/loadtest.py: zero errors and bounded memory (correctness, not timing).

The figures it prints (throughput, p50, p99) are reported, never asserted; `make loadtest` is the full run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.loadtest import format_table, run_loadtest
from qa_service.settings import Settings
from tests.conftest import SEEDS


@pytest.mark.slow
@pytest.mark.live
def test_a_short_load_run_has_no_errors_and_no_memory_growth(seed_settings: Settings, seed_service, tmp_path: Path):
    result = run_loadtest(
        users=8, seconds=5, warmup=3, source=SEEDS, index_dir=seed_settings.index_dir, out_dir=tmp_path
    )
    print("\n" + format_table(result))
    assert result["errors"] == 0, result["error_examples"]
    assert result["warmup_errors"] == 0
    assert result["requests"] > 0 and result["by_endpoint"]["/api/chat"]["requests"] > 0
    assert result["by_endpoint"]["/api/ask"]["requests"] > 0
    assert result["rss_growth_pct"] <= 10.0, result
    assert result["server_alive_at_end"] and result["server_exit_code"] == 0
    assert result["passed"]
    written = json.loads((tmp_path / "loadtest-latest.json").read_text())
    assert written["requests"] == result["requests"]
