"""`qa bench --quick` (benchmarks/bench.py): every figure of the table is there, in the table and the JSON.

A smoke run at tiny sizes with the real model and real servers; it asserts shape, never timings.
"""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from qa_service.cli import main
from tests.conftest import SEEDS

pytestmark = [pytest.mark.slow, pytest.mark.live]

TABLE_LABELS = (
    "encode torch p50 / p99 ms",
    "encode onnx p50 / p99 ms",
    "encode onnx-int8 p50 / p99 ms",
    "service.ask (novel) p50 / p99 ms",
    "cache hit p50 / p99 ms",
    "HTTP POST /api/ask, 1 client p50 / p99 ms",
    "throughput, 1 client(s) answers/s",
    "throughput, 4 client(s) answers/s",
    "throughput, 16 client(s) answers/s",
    "throughput, 16 clients, batching off",
    "index build (seeds), onnx passages/s",
    "index build (seeds), torch passages/s",
    "start to first answer s (median)",
    "qa serve to healthy /api/health s",
    "peak RSS MB: qa serve / fresh ask / bench",
    "threads=1: onnx encode p50 / p99 ms",
    "naive: HTTP 1 client p50 / p99 ms",
    "naive: throughput, 16 client(s) answers/s",
    "service / naive: HTTP p50",
    "scale 1,000: dense / bm25 p50 ms",
    "scale 1,000: 1% filter recall@10 / p50 ms",
    "scale 1,000: 1% filter ask p50 / p99 ms",
    "http_p50_over_torch_encode_p50",
    "ask_p50_over_onnx_encode_p50",
    "throughput_16_over_1",
    "start_to_ready_s",
    "ann_recall_at_10_worst",
    "serve_peak_rss_mb",
)
LATENCY = {"p50_ms", "p99_ms", "n"}


def finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def all_finite(data: object, where: str = "") -> list[str]:
    """Paths of every number in ``data`` that is not finite."""
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in all_finite(v, f"{where}.{k}")]
    if isinstance(data, list | tuple):
        return [p for i, v in enumerate(data) for p in all_finite(v, f"{where}[{i}]")]
    if isinstance(data, float) and not math.isfinite(data):
        return [where]
    return []


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-results")
    result = CliRunner().invoke(
        main,
        ["bench", "--quick", "--out", str(out)],
        env={"QA_SOURCE_DIR": str(SEEDS), "QA_BACKEND": "local"},  # it runs `qa serve` beside itself
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output, json.loads((out / "latest.json").read_text("utf-8")), out


def test_the_table_names_every_figure(quick_run):
    output, _, _ = quick_run
    missing = [label for label in TABLE_LABELS if label not in output]
    assert not missing, output


def test_the_json_has_every_figure_as_a_finite_number(quick_run):
    _, report, out = quick_run
    assert list(out.glob("bench-quick-*.json")), "a timestamped copy is written beside latest.json"
    assert not all_finite(report)
    assert set(report["encode"]) == {"torch", "onnx", "onnx-int8"}
    for figures in [*report["encode"].values(), report["ask"], report["cache"]]:
        assert set(figures) == LATENCY and all(finite(v) for v in figures.values())
    http = report["http"]
    assert set(http["latency"]) >= LATENCY
    assert set(http["throughput"]) == {"1", "4", "16"}
    for level in [*http["throughput"].values(), http["unbatched_16"]]:
        assert finite(level["answers_per_s"]) and level["answers_per_s"] > 0
    assert set(report["naive"]["http"]["throughput"]) == {"1", "4", "16"}
    assert finite(report["naive"]["ask"]["p50_ms"])
    assert all(finite(v) for v in report["vs_naive"].values())
    assert finite(http["over_torch_encode"]) and finite(http["torch_encode"]["p50_ms"])
    for backend in ("onnx", "torch"):
        assert finite(report["build"][backend]["passages_per_s"]) and report["build"][backend]["passages"] > 0
    start = report["start"]
    assert finite(start["median_s"]) and finite(start["runs"][0]["peak_rss_mb"])
    for step in ("import_s", "index_load_s", "model_load_s", "warm_up_s", "first_answer_s"):
        assert finite(start["runs"][0][step]), step
    assert start["runs"][0]["heavy_modules"] == []  # the serving process never imported torch
    assert finite(start["serve"]["healthy_s"]) and finite(start["serve"]["peak_rss_mb"])
    assert finite(report["memory"]["bench_peak_rss_mb"])
    assert set(report["threads_compare"]) >= {"1"}
    assert report["batching"]["items"] > 0


def test_the_scale_run_and_every_target_are_reported(quick_run):
    _, report, _ = quick_run
    (scale,) = report["scale"]
    assert "error" not in scale, scale
    assert scale["passages"] == 1000 and scale["faiss_index"].startswith("IndexHNSW")
    assert 0 <= scale["recall_at_10"] <= 1
    assert scale["filtered_recall_at_10"] == 1.0  # a narrow filter is searched exactly
    assert 0 <= scale["selector_recall_at_10"] <= 1 and 0 < scale["filter"]["passages"] <= 20
    assert finite(scale["overhead_ms"]) and scale["embed_backend"] == "onnx"
    assert {"faiss_s", "tokenise_s", "bm25_s", "analysis_s"} <= set(scale["write_timings_s"])
    for name in (
        "ask",
        "encode",
        "dense_search",
        "bm25_retrieve",
        "filtered_dense",
        "filtered_ask",
        "filter_ids_filter_passages",
    ):
        assert finite(scale["latency"][name]["p50_ms"])
    assert finite(scale["disk"]["total_mb"]) and finite(scale["rss_mb"]["peak"])
    targets = report["targets"]
    assert set(targets) == {
        "http_p50_over_torch_encode_p50",
        "ask_p50_over_onnx_encode_p50",
        "start_to_ready_s",
        "throughput_16_over_1",
        "service_over_naive_worst",
        "overhead_ms_100k",
        "overhead_ms_1m",
        "ann_recall_at_10_worst",
        "serve_peak_rss_mb",
        "cache_hit_p99_ms",
    }
    for name, target in targets.items():
        if name.startswith("overhead_ms_"):  # the quick run has no 100k or 1M index
            assert target["holds"] is None
            continue
        assert finite(target["value"]) and isinstance(target["holds"], bool), name
