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
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:(\d+))")
START_TIMEOUT = 300.0
STOP_TIMEOUT = 120.0
REQUEST_TIMEOUT = 60.0

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


@dataclass
class Sample:
    endpoint: str
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    seconds: float
    error: str | None = None


@dataclass
class Phase:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, batch: list[Sample]) -> None:
        with self.lock:
            self.samples.extend(batch)


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


def client_loop(port: int, deadline: float, budget: Counter, budget_lock: threading.Lock, seed: int, phase: Phase):
    """Ask until ``deadline`` or until the shared request budget is spent; one keep-alive connection."""
    rng = random.Random(seed)
    samples: list[Sample] = []
    conn: http.client.HTTPConnection | None = None
    while time.monotonic() < deadline:
        with budget_lock:
            if budget["left"] <= 0:
                break
            budget["left"] -= 1
        endpoint, payload = make_request(rng)
        body = json.dumps(payload).encode()
        started = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
            conn.request("POST", endpoint, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            elapsed = time.perf_counter() - started
            error = None
            if response.status != 200:
                error = f"HTTP {response.status}: {data[:200].decode('utf-8', 'replace')}"
            elif "passages" not in json.loads(data):
                error = "200 without passages"
            samples.append(Sample(endpoint, response.status, elapsed, error))
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            samples.append(Sample(endpoint, 0, time.perf_counter() - started, f"{exc.__class__.__name__}: {exc}"))
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()
    phase.add(samples)


def drive(port: int, users: int, seconds: float, max_requests: int, seed: int) -> tuple[Phase, float]:
    """Run ``users`` client threads for ``seconds`` (or ``max_requests`` in all); returns samples and wall time."""
    phase = Phase()
    budget, budget_lock = Counter(left=max_requests), threading.Lock()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=client_loop, args=(port, deadline, budget, budget_lock, seed * 1000 + i, phase), daemon=True
        )
        for i in range(users)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + REQUEST_TIMEOUT + 30)  # a request under way may finish past the deadline
    return phase, time.perf_counter() - started


def sample_memory(pid: int, stop: threading.Event, every: float, samples: list[float]) -> None:
    """Append the process's RSS (MiB) every ``every`` seconds until ``stop``: the trend, not just two points."""
    while not stop.wait(every):
        try:
            samples.append(round(memory_kib(pid)["VmRSS"] / 1024, 1))
        except (OSError, KeyError):
            return


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of ``values`` (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def latency_summary(samples: list[Sample]) -> dict:
    ms = [s.seconds * 1000 for s in samples]
    return {
        "requests": len(samples),
        "p50_ms": round(percentile(ms, 50), 1),
        "p90_ms": round(percentile(ms, 90), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms, default=0.0), 1),
        "mean_ms": round(sum(ms) / len(ms), 1) if ms else 0.0,
    }


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB, from /proc/<pid>/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


# ---- the server ---------------------------------------------------------------------------------


def qa_command() -> list[str]:
    """The installed `qa` script next to this interpreter, else the module."""
    script = Path(sys.executable).parent / "qa"
    return [str(script)] if script.exists() else [sys.executable, "-m", "qa_service.cli"]


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QA_HOST", "QA_PORT")}  # loopback, a free port
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error", "QA_RATE_LIMIT": ""})
    env.update(extra or {})
    return env


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    port: int
    log: list[str]


def _pump(stream, lines: list[str], ready: threading.Event) -> None:
    for raw in iter(stream.readline, ""):
        lines.append(raw.rstrip("\n"))
        if SERVING.search(raw):
            ready.set()
    ready.set()  # the process ended (or closed stderr): stop waiting


@contextmanager
def running_server(
    index_dir: Path, source: Path, env: dict[str, str] | None = None, args: Sequence[str] = ()
) -> Iterator[Server]:
    """`qa serve` on a free port (``args`` add flags); stopped with SIGTERM (then SIGKILL) however the block ends."""
    command = [*qa_command(), "--index-dir", str(index_dir), "serve", "--port", "0", "--source", str(source), *args]
    process = subprocess.Popen(
        command, cwd=ROOT, env=server_env(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    ready = threading.Event()
    threading.Thread(target=_pump, args=(process.stderr, lines, ready), daemon=True).start()
    try:
        ready.wait(START_TIMEOUT)
        match = next((m for m in map(SERVING.search, lines) if m), None)
        if match is None:
            raise RuntimeError("qa serve did not start:\n" + "\n".join(lines[-20:]))
        yield Server(process, match.group(1), int(match.group(2)), lines)
    finally:
        if process.poll() is None:
            # SIGTERM, as Docker sends: the server drains and exits 0. Waiting is on the exit itself; the
            # bound only ends a hung process (a busy machine makes the drain slower, never wrong).
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)


def build_index(index_dir: Path, source: Path) -> None:
    result = subprocess.run(
        [*qa_command(), "--index-dir", str(index_dir), "index", "--source", str(source)],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"qa index failed:\n{result.stderr[-2000:]}")


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
            main, wall = drive(server.port, users, seconds, max_requests, seed + 1)
            stop.set()
            sampler.join(10)
            time.sleep(0.5)
            at_end = memory_kib(server.process.pid)
            alive = server.process.poll() is None
        exit_code = server.process.returncode
    samples = main.samples
    errors = [s for s in samples if s.error]
    growth = (at_end["VmRSS"] - after_warmup["VmRSS"]) / after_warmup["VmRSS"]
    result = {
        "users": users,
        "seconds": seconds,
        "warmup_seconds": warmup,
        "requests": len(samples),
        "warmup_requests": len(warm.samples),
        "warmup_errors": sum(1 for s in warm.samples if s.error),
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
