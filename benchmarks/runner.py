"""The one way to run qa-service over HTTP on 127.0.0.1, for the benchmarks and the tests alike.

``LiveServer.in_thread(app, settings)`` serves a Flask app with waitress (the production setup, with the
graceful drain of qa_service/web/shutdown.py) on a free loopback port in a daemon thread;
``LiveServer.subprocess(index_dir, source)`` starts the `qa serve` command and waits until it logs where
it listens. Both stop as the service stops in production: ``stop()`` sends SIGTERM to a subprocess, or
asks the thread's server to drain. Every wait is on a condition (a log line, the process ending, the
thread ending), bounded by a generous limit, so a busy machine is slow but never fails by the clock.
``serve_flask_dev`` is the naive baseline's server (Flask's development server), for comparison only.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVING = re.compile(r"serving on (http://127\.0\.0\.1:(\d+))")
START_TIMEOUT = 300.0  # loading the model on a busy two-core machine; a bound, not an expectation
STOP_TIMEOUT = 120.0  # the drain is quick when idle; this only ends a hung process


def qa_command() -> list[str]:
    """The installed `qa` script next to this interpreter, else the module."""
    script = Path(sys.executable).parent / "qa"
    return [str(script)] if script.exists() else [sys.executable, "-m", "qa_service.cli"]


# Kept from this environment: the suite runs on the index backend it names (`QA_BACKEND=qdrant make test`).
# Not QA_QDRANT_PATH: embedded storage admits one process, so each server uses the one in its index folder.
PASSED_THROUGH = ("QA_BACKEND", "QA_QDRANT_URL", "QA_QDRANT_TIMEOUT", "QA_QDRANT_COLLECTION")


def _inherited(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QA_HOST", "QA_PORT")}  # loopback, a free port
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error", **extra})
    return env


def qa_env(**extra: str) -> dict[str, str]:
    """This environment without any QA_* setting but the backend, offline, with ``extra`` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_") or k in PASSED_THROUGH}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error", **extra})
    return env


class LiveServer:
    """A qa-service server on 127.0.0.1 and a free port: ``url``, ``port``, ``stop()``; a context manager.

    A subprocess also has ``process`` (its Popen), ``log`` (its stderr lines so far) and ``exit_code``
    once stopped.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self.process: subprocess.Popen | None = None
        self.log: list[str] = []
        self.exit_code: int | None = None
        self.started_s: float | None = None  # a subprocess: from its start to its "serving on" line
        self._graceful = None
        self._thread: threading.Thread | None = None

    # ---- in this process ------------------------------------------------------------------------------

    @classmethod
    def in_thread(cls, app, settings, threads: int = 4, grace: float = 10.0) -> LiveServer:
        """``app`` (a Flask app) served by waitress (the production server setup) in a daemon thread."""
        from qa_service.web.server import make_server, server_url
        from qa_service.web.shutdown import GracefulServer

        bind = {"host": "127.0.0.1", "port": 0, "threads": threads}
        graceful = GracefulServer(make_server(app, settings.model_copy(update=bind)), grace)
        server = cls(server_url(graceful.server))
        server._graceful = graceful
        server._thread = threading.Thread(target=graceful.serve, name="live-server", daemon=True)
        server._thread.start()
        return server

    # ---- `qa serve` as a subprocess -----------------------------------------------------------------

    @classmethod
    def subprocess(
        cls,
        index_dir: Path,
        source: Path,
        args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        start_timeout: float = START_TIMEOUT,
        inherit_settings: bool = False,
    ) -> LiveServer:
        """`qa --index-dir INDEX serve --port 0 --source SOURCE [args]`, once it listens.

        The environment has no QA_* variable but the backend's and those in ``env`` (with
        ``inherit_settings``, a benchmark's: every QA_* setting of this environment but host and port),
        and the rate limit is off unless ``env`` sets QA_RATE_LIMIT (many requests come from one
        address). Raises RuntimeError with the end of its log when it exits (or is still silent after
        ``start_timeout``) instead.
        """
        command = [*qa_command(), "--index-dir", str(index_dir), "serve", "--port", "0", "--source", str(source)]
        extra = {"QA_RATE_LIMIT": "", **(env or {})}
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, *args],
            cwd=ROOT,
            env=_inherited(extra) if inherit_settings else qa_env(**extra),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        log: list[str] = []
        ready = threading.Event()
        threading.Thread(target=_pump, args=(process.stderr, log, ready), daemon=True).start()
        ready.wait(start_timeout)
        match = next((m for m in map(SERVING.search, log) if m), None)
        if match is None:
            _end(process, signal.SIGKILL, 30)
            raise RuntimeError("qa serve did not start:\n" + "\n".join(log[-20:]))
        server = cls(match.group(1))
        server.process, server.log, server.started_s = process, log, time.perf_counter() - started
        return server

    # ---- stopping -------------------------------------------------------------------------------------

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int | None:
        """Stop as production does and wait for it: a subprocess gets ``sig`` (SIGKILL only after ``timeout``)
        and its exit status is returned; a thread's server drains and None is returned."""
        if self.process is not None:
            self.exit_code = _end(self.process, sig, timeout)
            return self.exit_code
        if self._graceful is not None and self._thread is not None:
            self._graceful.stop()
            self._thread.join(timeout)
        return None

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the subprocess without waiting (see ``wait``)."""
        assert self.process is not None, "only a subprocess takes signals"
        self.process.send_signal(sig)

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """The subprocess's exit status once it ends (SIGKILLed after ``timeout``)."""
        assert self.process is not None
        self.exit_code = _end(self.process, None, timeout)
        return self.exit_code

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is None:
            self.stop()
        elif self.exit_code is None:
            self.exit_code = self.process.returncode


def _pump(stream, lines: list[str], ready: threading.Event) -> None:
    for raw in iter(stream.readline, ""):
        lines.append(raw.rstrip("\n"))
        if SERVING.search(raw):
            ready.set()
    ready.set()  # the process ended (or closed stderr): stop waiting


def _end(process: subprocess.Popen, sig: int | None, timeout: float) -> int:
    """Send ``sig`` (if any and still running), wait up to ``timeout``, then SIGKILL; the exit status."""
    if sig is not None and process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(30)


@contextmanager
def running_server(
    index_dir: Path, source: Path, env: dict[str, str] | None = None, args: Sequence[str] = ()
) -> Iterator[LiveServer]:
    """`qa serve` for a benchmark (this environment's QA_* settings kept), stopped with SIGTERM however
    the block ends."""
    with LiveServer.subprocess(index_dir, source, args, env, inherit_settings=True) as server:
        yield server


def serve_service(service, settings) -> LiveServer:
    """The real edge in this process: create_app + waitress, as `qa serve` runs it."""
    from qa_service.web import create_app

    return LiveServer.in_thread(create_app(settings, service), settings, threads=settings.threads)


class Served:
    """A WSGI app served by Flask's development server from a thread of this process: the naive baseline."""

    def __init__(self, serve: Callable[[], None], stop: Callable[[], None], port: int) -> None:
        self._stop, self.port = stop, port
        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop()
        self._thread.join(10)


def serve_flask_dev(app) -> Served:
    """Flask's development server, threaded (what ``app.run(threaded=True)`` starts, but stoppable)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    return Served(server.serve_forever, server.shutdown, server.server_port)


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
        env=_inherited(env or {}),
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
