"""The one load generator: N closed-loop HTTP clients on keep-alive connections, in a process of their own.

``generate(job)`` runs ``python -m benchmarks.load`` with the job as JSON on stdin, so the clients'
threads never compete for the GIL with a server running in the caller's process. A job names
``host``, ``port``, ``clients``, ``seconds`` and ``max_requests``; ``warmup``, requests each client
sends before the clock starts; and the measured requests: ``requests``, a list of ``[path, body]``
each sent once in order, or ``mix``, a ``"module:function"`` that makes each client's requests from
a ``random.Random`` seeded with ``seed``. Every response is a sample; a 200 whose JSON has no
``passages`` counts as an error too.
"""

from __future__ import annotations

import http.client
import importlib
import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUEST_TIMEOUT = 120.0


@dataclass(frozen=True)
class Sample:
    endpoint: str
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    seconds: float
    error: str | None = None


def _source(job: dict) -> Callable[[int], Callable[[], tuple[str, dict] | None]]:
    """Per client number, a function returning its next request (None when there is none left)."""
    if "mix" in job:
        module, name = job["mix"].split(":")
        make = getattr(importlib.import_module(module), name)

        def for_client(number: int):
            rng = random.Random(job.get("seed", 0) * 1000 + number)
            return lambda: make(rng)

        return for_client
    shared = iter(job["requests"])
    lock = threading.Lock()

    def next_shared():
        with lock:
            found = next(shared, None)
        return tuple(found) if found else None

    return lambda number: next_shared


def _send(conn: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, bytes, bool]:
    conn.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    return response.status, data, response.getheader("Connection", "").lower() == "close"


def _error(status: int, data: bytes) -> str | None:
    if status != 200:
        return f"HTTP {status}: {data[:200].decode('utf-8', 'replace')}"
    try:
        return None if "passages" in json.loads(data) else "200 without passages"
    except ValueError:
        return "200 with a body that is not JSON"


def _client(job: dict, number: int, next_request, ready: threading.Barrier, stop_at: list, out: list[Sample]):
    budget = job["budget"]
    conn: http.client.HTTPConnection | None = None
    for path, body in job.get("warmup", [])[number : number + 1]:
        conn = http.client.HTTPConnection(job["host"], job["port"], timeout=REQUEST_TIMEOUT)
        _send(conn, path, body)
    ready.wait()
    while time.perf_counter() < stop_at[0]:
        with budget["lock"]:
            if budget["left"] <= 0:
                break
            budget["left"] -= 1
        request = next_request()
        if request is None:
            break
        path, body = request
        started = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(job["host"], job["port"], timeout=REQUEST_TIMEOUT)
            status, data, closing = _send(conn, path, body)
            out.append(Sample(path, status, time.perf_counter() - started, _error(status, data)))
            if closing:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as exc:
            out.append(Sample(path, 0, time.perf_counter() - started, f"{exc.__class__.__name__}: {exc}"))
            if conn is not None:
                conn.close()
            conn = None
    if conn is not None:
        conn.close()


def drive(job: dict) -> tuple[list[Sample], float]:
    """Run the job in this process: returns every sample and the measured wall time in seconds."""
    source = _source(job)
    ready = threading.Barrier(job["clients"] + 1)
    stop_at = [float("inf")]
    job = {**job, "budget": {"left": job.get("max_requests", 10**9), "lock": threading.Lock()}}
    outs: list[list[Sample]] = [[] for _ in range(job["clients"])]
    threads = [
        threading.Thread(target=_client, args=(job, n, source(n), ready, stop_at, outs[n]), daemon=True)
        for n in range(job["clients"])
    ]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    stop_at[0] = started + job["seconds"]
    for thread in threads:
        thread.join(job["seconds"] + REQUEST_TIMEOUT + 30)  # a request under way may finish past the deadline
    return [s for out in outs for s in out], time.perf_counter() - started


def generate(job: dict, timeout: float = 900) -> tuple[list[Sample], float]:
    """Run the job in a child process (see the module docstring); returns its samples and wall time."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.load"],
        cwd=ROOT,
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    result = json.loads(done.stdout)
    return [Sample(*s) for s in result["samples"]], result["elapsed"]


def main() -> int:
    samples, elapsed = drive(json.load(sys.stdin))
    json.dump({"samples": [astuple(s) for s in samples], "elapsed": elapsed}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
