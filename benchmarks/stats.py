"""The one percentile of the benchmarks, and the timing helpers built on it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (``q`` in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summary(seconds: Iterable[float]) -> dict:
    """p50 and p99 in milliseconds, with the sample count."""
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(percentile(ms, 50), 3), "p99_ms": round(percentile(ms, 99), 3), "n": len(ms)}


def timed(fn: Callable, items: Iterable) -> dict:
    samples = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        samples.append(time.perf_counter() - start)
    return summary(samples)


def alternated(fns: Sequence[Callable], items: Sequence[Sequence]) -> list[dict]:
    """Time each of ``fns`` on its own items, taking turns sample by sample, so that ratios between them are
    not skewed by what else the (shared) machine did while one of them ran."""
    samples: list[list[float]] = [[] for _ in fns]
    for row in zip(*items, strict=True):
        for fn, item, into in zip(fns, row, samples, strict=True):
            start = time.perf_counter()
            fn(item)
            into.append(time.perf_counter() - start)
    return [summary(s) for s in samples]
