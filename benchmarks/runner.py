"""Servers for the benchmarks: a WSGI app in a thread of this process, or `qa serve` as a child process.

(The tests have their own live-server runner; the two are meant to become one.)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:(\d+))")
START_TIMEOUT = 300.0
STOP_TIMEOUT = 120.0


class Served:
    """A WSGI app served from a thread of this process on a free port of 127.0.0.1."""

    def __init__(self, serve: Callable[[], None], stop: Callable[[], None], port: int) -> None:
        self._stop, self.port = stop, port
        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop()
        self._thread.join(10)


def serve_service(service, settings) -> Served:
    """The real edge: create_app + waitress, as `qa serve` runs it."""
    from qa_service.web import create_app
    from qa_service.web.server import make_server

    server = make_server(create_app(settings, service), settings)

    def stop() -> None:
        server.close()
        server.task_dispatcher.shutdown()

    return Served(server.run, stop, server.effective_port)


def serve_flask_dev(app) -> Served:
    """Flask's development server, threaded (what ``app.run(threaded=True)`` starts, but stoppable)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    return Served(server.serve_forever, server.shutdown, server.server_port)


# ---- `qa serve` as a child process -----------------------------------------------------------------


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
    started_s: float  # from starting the process to its "serving on" line


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
    started = time.perf_counter()
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
        yield Server(process, match.group(1), int(match.group(2)), lines, time.perf_counter() - started)
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


def healthy_after(url: str, started: float, timeout: float = START_TIMEOUT) -> float:
    """Seconds from ``started`` (a perf_counter reading) until ``url``/api/health answers 200."""
    deadline = started + timeout
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=5) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"{url} was not healthy within {timeout} s")


def build_index(index_dir: Path, source: Path, env: dict[str, str] | None = None) -> None:
    """`qa index` of ``source`` into ``index_dir``, as a child process."""
    result = subprocess.run(
        [*qa_command(), "--index-dir", str(index_dir), "index", "--source", str(source)],
        cwd=ROOT,
        env=server_env(env),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"qa index failed:\n{result.stderr[-2000:]}")


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB, from /proc/<pid>/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found
