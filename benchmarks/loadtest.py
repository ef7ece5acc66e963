"""A bounded load test on loopback: N clients for S seconds against a real `qa serve` subprocess.

``python -m benchmarks.loadtest --users 16 --seconds 60`` (``make loadtest``) builds an index of the
sources into a temporary folder, starts ``qa serve`` on a free 127.0.0.1 port, warms it up with the
same clients, then lets every client ask continuously: a mix of ``/api/ask`` and ``/api/chat``, some
questions repeated (answered from the cache), most varied. It reports errors (anything but a 200, or
no answer at all), throughput, latency percentiles, and the server's resident memory (``VmRSS`` from
``/proc/<pid>/status``) after the warm-up and at the end. Prints a table, writes JSON to
``benchmarks/results/loadtest-latest.json`` and exits 1 when there was an error or memory grew by more
than ``--max-growth`` (10%).

The server runs with rate limiting off (``QA_RATE_LIMIT=""``): one address asking this fast is what the
limiter exists to refuse; this measures the service behind it. Every loop stops by itself: at the
deadline, or after ``--max-requests`` requests in all.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from .load import Sample, generate
from .runner import ROOT, build_index, memory_kib, running_server
from .stats import percentile

__all__ = ["format_table", "main", "run_loadtest", "running_server"]

# Repeated questions: the cache answers these after their first time.
HOT_QUESTIONS = (
    "Did Japan threaten to sell its US Treasuries?",
    "What did Kato say on Friday?",
    "What tariff did Trump put on Japan?",
    "How much US debt does Japan hold?",
    "What did Ishiba say about the trade talks?",
)
SUBJECTS = ("Japan", "Kato", "Ishiba", "the finance minister", "Tokyo", "the United States", "Trump", "China")
TOPICS = (
    "US Treasuries",
    "the trade talks",
    "tariffs on cars",
    "the bond market",
    "the yen",
    "negotiation cards",
    "foreign holdings of US debt",
    "the press conference in Milan",
    "interest rates",
    "exports",
)
FORMS = (
    "What did {s} say about {t}?",
    "Did {s} mention {t}?",
    "How does {t} matter to {s}?",
    "When did {s} talk about {t}?",
    "Why is {t} important for {s}?",
)
FOLLOW_UPS = ("What did he say two days later?", "Why?", "Who else reported it?", "What happened next?")


def make_request(rng: random.Random) -> tuple[str, dict]:
    """One request: 70% /api/ask, 30% /api/chat; 30% of questions from a small repeated set."""
    if rng.random() < 0.3:
        question = rng.choice(HOT_QUESTIONS)
    else:
        question = rng.choice(FORMS).format(s=rng.choice(SUBJECTS), t=rng.choice(TOPICS))
    options: dict = {"k": rng.choice((3, 5, 5, 8))}
    if rng.random() < 0.1:
        options["mode"] = rng.choice(("dense", "bm25"))
    if rng.random() < 0.7:
        return "/api/ask", {"question": question, **options}
    messages = [{"role": "user", "content": question}]
    if rng.random() < 0.6:
        messages += [
            {"role": "assistant", "content": "Finance Minister Katsunobu Kato said on Friday that the holdings "
             "could be a card in trade negotiations. [1]"},
            {"role": "user", "content": rng.choice(FOLLOW_UPS)},
        ]  # fmt: skip
    return "/api/chat", {"messages": messages, **options}


def drive(port: int, users: int, seconds: float, max_requests: int, seed: int) -> tuple[list[Sample], float]:
    """``users`` clients asking a mix of requests for ``seconds`` (or ``max_requests`` in all): samples, wall time."""
    job = {
        "host": "127.0.0.1",
        "port": port,
        "clients": users,
        "seconds": seconds,
        "max_requests": max_requests,
        "mix": "benchmarks.loadtest:make_request",
        "seed": seed,
    }
    return generate(job, timeout=seconds + 600)


def sample_memory(pid: int, stop: threading.Event, every: float, samples: list[float]) -> None:
    """Append the process's RSS (MiB) every ``every`` seconds until ``stop``: the trend, not just two points."""
    while not stop.wait(every):
        try:
            samples.append(round(memory_kib(pid)["VmRSS"] / 1024, 1))
        except (OSError, KeyError):
            return


def latency_summary(samples: list[Sample]) -> dict:
    ms = [s.seconds * 1000 for s in samples]
    at = {q: round(percentile(ms, q), 1) if ms else 0.0 for q in (50, 90, 99)}
    return {
        "requests": len(samples),
        "p50_ms": at[50],
        "p90_ms": at[90],
        "p99_ms": at[99],
        "max_ms": round(max(ms, default=0.0), 1),
        "mean_ms": round(sum(ms) / len(ms), 1) if ms else 0.0,
    }


# ---- the run ------------------------------------------------------------------------------------


def run_loadtest(
    users: int = 16,
    seconds: float = 60.0,
    warmup: float | None = None,
    source: Path = ROOT / "seeds",
    index_dir: Path | None = None,
    max_requests: int = 200_000,
    max_growth: float = 0.10,
    out_dir: Path | None = ROOT / "benchmarks" / "results",
    seed: int = 5,
) -> dict:
    """Run the whole load test and return its figures (also written to ``out_dir`` when given).

    ``index_dir``: an index already built from ``source``, copied so the run never writes to it;
    without one, the index is built into a temporary folder with `qa index`.
    """
    warmup = min(10.0, max(3.0, seconds / 4)) if warmup is None else warmup
    with tempfile.TemporaryDirectory(prefix="qa-loadtest-") as tmp:
        index = Path(tmp) / "index"
        started = time.perf_counter()
        if index_dir is not None:
            shutil.copytree(index_dir, index, symlinks=True)
        else:
            build_index(index, source)
        build_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with running_server(index, source) as server:
            start_seconds = time.perf_counter() - started
            warm, _ = drive(server.port, users, warmup, max_requests, seed)
            time.sleep(0.5)
            after_warmup = memory_kib(server.process.pid)
            stop, trend = threading.Event(), []
            sampler = threading.Thread(
                target=sample_memory, args=(server.process.pid, stop, max(1.0, seconds / 12), trend), daemon=True
            )
            sampler.start()
            samples, wall = drive(server.port, users, seconds, max_requests, seed + 1)
            stop.set()
            sampler.join(10)
            time.sleep(0.5)
            at_end = memory_kib(server.process.pid)
            alive = server.process.poll() is None
        exit_code = server.process.returncode
    errors = [s for s in samples if s.error]
    growth = (at_end["VmRSS"] - after_warmup["VmRSS"]) / after_warmup["VmRSS"]
    result = {
        "users": users,
        "seconds": seconds,
        "warmup_seconds": warmup,
        "requests": len(samples),
        "warmup_requests": len(warm),
        "warmup_errors": sum(1 for s in warm if s.error),
        "errors": len(errors),
        "error_examples": sorted({e.error for e in errors})[:5],
        "status_counts": {str(k): v for k, v in sorted(Counter(s.status for s in samples).items())},
        "throughput_rps": round(len(samples) / wall, 1) if wall else 0.0,
        "latency": latency_summary(samples),
        "by_endpoint": {
            name: latency_summary([s for s in samples if s.endpoint == name]) for name in ("/api/ask", "/api/chat")
        },
        "rss_mib_after_warmup": round(after_warmup["VmRSS"] / 1024, 1),
        "rss_mib_end": round(at_end["VmRSS"] / 1024, 1),
        "rss_growth_pct": round(growth * 100, 2),
        "peak_rss_mib": round(at_end["VmHWM"] / 1024, 1),
        "rss_mib_during": trend,
        "max_growth_pct": max_growth * 100,
        "server_alive_at_end": alive,
        "server_exit_code": exit_code,
        "index_seconds": round(build_seconds, 1),
        "server_start_seconds": round(start_seconds, 1),
        "cpus": os.cpu_count(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    result["passed"] = result["errors"] == 0 and growth <= max_growth and alive
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "loadtest-latest.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return result


def format_table(result: dict) -> str:
    rows = [
        ("clients x seconds", f"{result['users']} x {result['seconds']:g} s (+{result['warmup_seconds']:g} s warm-up)"),
        ("requests", f"{result['requests']} ({result['status_counts']})"),
        ("errors", str(result["errors"])),
        ("throughput", f"{result['throughput_rps']} requests/s"),
    ]
    for name, lat in [("all", result["latency"]), *result["by_endpoint"].items()]:
        figures = f"p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms, max {lat['max_ms']} ms"
        rows.append((f"latency {name}", f"{figures} (n={lat['requests']})"))
    growth = f"{result['rss_growth_pct']:+.2f}%, limit {result['max_growth_pct']:g}%"
    rows += [
        ("RSS after warm-up", f"{result['rss_mib_after_warmup']} MiB"),
        ("RSS at end", f"{result['rss_mib_end']} MiB ({growth})"),
        ("peak RSS", f"{result['peak_rss_mib']} MiB"),
        ("RSS during (MiB)", " ".join(f"{v:g}" for v in result["rss_mib_during"]) or "-"),
        ("result", "PASS" if result["passed"] else "FAIL"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=16, help="Concurrent clients.")
    parser.add_argument("--seconds", type=float, default=60.0, help="Length of the measured phase.")
    parser.add_argument("--warmup", type=float, default=None, help="Warm-up seconds (default: a quarter, 3..10).")
    parser.add_argument("--source", type=Path, default=ROOT / "seeds", help="Folder of sources.")
    parser.add_argument("--index-dir", type=Path, default=None, help="An index of --source to copy, not rebuild.")
    parser.add_argument("--max-requests", type=int, default=200_000, help="Stop after this many requests.")
    parser.add_argument("--max-growth", type=float, default=0.10, help="Allowed RSS growth after warm-up (0.10).")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="Where the JSON goes.")
    args = parser.parse_args(argv)
    if args.users < 1 or args.seconds <= 0:
        parser.error("--users and --seconds must be positive")
    result = run_loadtest(
        users=args.users,
        seconds=args.seconds,
        warmup=args.warmup,
        source=args.source,
        index_dir=args.index_dir,
        max_requests=args.max_requests,
        max_growth=args.max_growth,
        out_dir=args.out,
    )
    print(format_table(result))
    if result["error_examples"]:
        print("errors, for example:", *result["error_examples"], sep="\n  ")
    print(f"wrote {args.out / 'loadtest-latest.json'}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
