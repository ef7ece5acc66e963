"""`qa bench`: how far above the floor (one encode of the question) each layer of the service costs.

One run measures, side by side: the bare encode, ``QAService.ask`` on novel questions, the cache,
``POST /api/ask`` through waitress with 1, 4 and 16 clients, build rate, start to first answer,
peak memory, a naive sentence-transformers baseline behind Flask's development server, and the
synthetic scale runs (``benchmarks/synthetic.py``). It prints a table and writes JSON.

Heavy modules are imported inside functions: ``python -c "from qa_service.bench import client_main"``
is the load generator, run in its own process so its threads never compete with the server's for
the GIL.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import math
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from .settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = (
    "What did {e} say about {t}?",
    "How did {e} respond to the {t}?",
    "Why does {e} care about {t}?",
    "When did {e} first mention {t}?",
    "What is the latest on {e} and {t}?",
    "Did {e} change its position on {t}?",
    "Which sources report on {e} and {t}?",
    "Is there news about {t} involving {e}?",
)
SEED = 6


@dataclass(frozen=True)
class Plan:
    """How much to measure: the full run for the table, or the quick smoke run (same keys, tiny sizes)."""

    quick: bool
    latency_n: int
    cache_n: int
    tput_seconds: float
    tput_max: int
    clients: tuple[int, ...]
    start_runs: int
    scale_sizes: tuple[int, ...]
    scale_embed_limit: int
    scale_queries: int
    scale_timeout_s: int
    scale_exact_limit: int | None  # None: the settings' limit; the quick run forces HNSW to measure its recall

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(True, 12, 30, 1.0, 24, (1, 4, 16), 1, (1_000,), 0, 10, 240, 1)
        return cls(False, 200, 500, 10.0, 600, (1, 4, 16), 3, (10_000, 100_000, 1_000_000), 10_000, 100, 1500, None)


# ---------------------------------------------------------------- statistics


def summary(seconds: Iterable[float]) -> dict:
    """p50 and p99 (nearest rank) in milliseconds, with the sample count."""
    ordered = sorted(seconds)
    if not ordered:
        return {"p50_ms": math.nan, "p99_ms": math.nan, "n": 0}
    p99 = ordered[min(len(ordered) - 1, max(0, math.ceil(0.99 * len(ordered)) - 1))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3), "p99_ms": round(p99 * 1000, 3), "n": len(ordered)}


def timed(fn: Callable, items: Iterable) -> dict:
    samples = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        samples.append(time.perf_counter() - start)
    return summary(samples)


def paired(fn_a: Callable, fn_b: Callable, items_a: list, items_b: list) -> tuple[dict, dict]:
    """Time ``fn_a`` and ``fn_b`` alternately, sample by sample, so a ratio of the two is not skewed
    by what else the (shared) machine did while one of them ran."""
    samples: tuple[list[float], list[float]] = ([], [])
    for a, b in zip(items_a, items_b, strict=True):
        for fn, item, into in ((fn_a, a, samples[0]), (fn_b, b, samples[1])):
            start = time.perf_counter()
            fn(item)
            into.append(time.perf_counter() - start)
    return summary(samples[0]), summary(samples[1])


# ---------------------------------------------------------------- questions


def novel_questions(texts: Iterable[str], n: int, seed: int = SEED) -> list[str]:
    """``n`` distinct questions (templates x names and words of the corpus), none normalising to another."""
    from .terms import STOPWORDS

    text = " ".join(texts)
    names = Counter(re.findall(r"\b[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?\b", text))
    entities = sorted(e for e, c in names.items() if c >= 2 and e.split()[0].lower() not in STOPWORDS)
    words = Counter(re.findall(r"\b[a-z]{5,}\b", text))
    topics = sorted(w for w, c in words.items() if c >= 2 and w not in STOPWORDS)
    if len(entities) * len(topics) * len(TEMPLATES) < 2 * n:
        raise ValueError(f"corpus too small for {n} distinct questions")
    rng = random.Random(seed)
    seen: dict[str, str] = {}
    while len(seen) < n:
        question = rng.choice(TEMPLATES).format(e=rng.choice(entities), t=rng.choice(topics))
        seen.setdefault(" ".join(question.split()).casefold(), question)
    return list(seen.values())


class QuestionPool:
    """Hands out questions never handed out before, so no measurement is served from a cache."""

    def __init__(self, questions: list[str]) -> None:
        self._left = list(questions)

    def take(self, n: int) -> list[str]:
        if n > len(self._left):
            raise ValueError("question pool exhausted")
        taken, self._left = self._left[:n], self._left[n:]
        return taken


# ---------------------------------------------------------------- load generator (own process)


def client_main() -> None:
    """Read a job from stdin, POST questions with N keep-alive clients, print latencies as JSON."""
    job = json.load(sys.stdin)
    questions = iter(job["questions"])
    lock = threading.Lock()
    latencies: list[float] = []
    failures: list[str] = []
    ready = threading.Barrier(job["clients"] + 1)
    stop_at = [math.inf]

    def post(conn: http.client.HTTPConnection, question: str) -> tuple[int, bytes]:
        body = json.dumps({"question": question}).encode()
        conn.request("POST", job["path"], body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()

    def worker(warmup: str) -> None:
        conn = http.client.HTTPConnection(job["host"], job["port"], timeout=120)
        post(conn, warmup)
        ready.wait()
        while True:
            with lock:
                question = next(questions, None) if time.perf_counter() < stop_at[0] else None
            if question is None:
                break
            start = time.perf_counter()
            status, data = post(conn, question)
            elapsed = time.perf_counter() - start
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                else:
                    failures.append(f"{status}: {data[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in job["warmup"][: job["clients"]]]
    for thread in threads:
        thread.start()
    ready.wait()
    start = time.perf_counter()
    stop_at[0] = start + job["seconds"]
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    json.dump(
        {"latencies": latencies, "failures": failures[:5], "failed": len(failures), "elapsed": elapsed}, sys.stdout
    )


def load(port: int, questions: list[str], warmup: list[str], clients: int, seconds: float, path: str) -> dict:
    """Run the load generator against 127.0.0.1:``port``; latency summary and answers per second."""
    job = {
        "host": "127.0.0.1",
        "port": port,
        "path": path,
        "questions": questions,
        "warmup": warmup,
        "clients": clients,
        "seconds": seconds,
    }
    done = subprocess.run(
        [sys.executable, "-c", "from qa_service.bench import client_main; client_main()"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result = json.loads(done.stdout)
    if result["failed"]:
        raise RuntimeError(f"{result['failed']} requests failed, e.g. {result['failures']}")
    return {
        **summary(result["latencies"]),
        "clients": clients,
        "answers_per_s": round(len(result["latencies"]) / result["elapsed"], 2),
    }


# ---------------------------------------------------------------- servers


class Served:
    """A WSGI app served from a thread of this process on a free port of 127.0.0.1."""

    def __init__(self, server, serve: Callable[[], None], stop: Callable[[], None], port: int) -> None:
        self.server, self._stop, self.port = server, stop, port
        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop()
        self._thread.join(10)


def serve_service(service, settings: Settings) -> Served:
    """The real edge: create_app + waitress, as `qa serve` runs it."""
    from .web import create_app
    from .web.server import make_server

    server = make_server(create_app(settings, service), settings)

    def stop() -> None:
        server.close()
        server.task_dispatcher.shutdown()

    return Served(server, server.run, stop, server.effective_port)


def serve_naive(app) -> Served:
    """Flask's development server, threaded (what ``app.run(threaded=True)`` starts, but stoppable)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    return Served(server, server.serve_forever, server.shutdown, server.server_port)


# ---------------------------------------------------------------- naive baseline


def split_paragraphs(source_dir: Path) -> list[str]:
    """Raw seed files split on blank lines: no cleaning, no chunking."""
    paragraphs = []
    for path in sorted(source_dir.iterdir()):
        if path.suffix.lower() in {".txt", ".md", ".html", ".htm"}:
            text = path.read_text("utf-8", errors="replace")
            paragraphs += [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return paragraphs


def naive_app(model, paragraphs: list[str]):
    """semantic_search over raw paragraphs behind one Flask route; returns the app and its ask function."""
    from flask import Flask, jsonify, request
    from sentence_transformers import util

    corpus = model.encode(paragraphs, convert_to_tensor=True, normalize_embeddings=True)

    def ask(question: str) -> dict:
        query = model.encode(question, convert_to_tensor=True, normalize_embeddings=True)
        hits = util.semantic_search(query, corpus, top_k=5)[0]
        return {
            "question": question,
            "passages": [{"text": paragraphs[h["corpus_id"]], "score": float(h["score"])} for h in hits],
        }

    app = Flask("naive-baseline")

    @app.post("/api/ask")
    def route():
        return jsonify(ask(request.get_json()["question"]))

    return app, ask


# ---------------------------------------------------------------- sections


def set_threads(n: int) -> None:
    import faiss
    import torch

    torch.set_num_threads(n)
    faiss.omp_set_num_threads(n)


def encode_fn(model) -> Callable[[str], object]:
    """The floor: the bare model on one question, nothing of the service around it."""
    return lambda q: model.encode([q], normalize_embeddings=True)


def thread_comparison(model, pool: QuestionPool, plan: Plan, service) -> dict:
    """Encode and ask latency at torch/faiss threads = 1 and = all cores (the libraries' default)."""
    found = {}
    cores = os.cpu_count() or 1
    for n in sorted({1, cores}):
        set_threads(n)
        batch = pool.take(16)
        half = plan.latency_n // 2
        encode, ask = paired(encode_fn(model), service.ask, pool.take(half), pool.take(half))
        found[str(n)] = {
            "encode": encode,
            "encode_16_ms": timed(lambda qs: model.encode(qs, normalize_embeddings=True), [batch] * 3)["p50_ms"],
            "ask": ask,
        }
    return found


def cache_latency(service, question: str, n: int) -> dict:
    """A question already answered, asked again in other spellings (case, spacing): served from the cache."""
    service.ask(question)
    variants = [question, question.upper(), f"  {question}  ", question.replace(" ", "  ")]
    return timed(service.ask, [variants[i % len(variants)] for i in range(n)])


def http_section(service, settings: Settings, questions: list[str], pool: QuestionPool, plan: Plan) -> dict:
    served = serve_service(service, settings)
    try:
        return latency_and_throughput(served.port, questions, pool, plan)
    finally:
        served.close()


def latency_and_throughput(port: int, questions: list[str], pool: QuestionPool, plan: Plan) -> dict:
    """One client's latency, then throughput at each client count: the same load for every server."""
    single = load(port, questions, pool.take(1), 1, 600, "/api/ask")
    tput = {
        str(c): load(port, pool.take(plan.tput_max), pool.take(c), c, plan.tput_seconds, "/api/ask")
        for c in plan.clients
    }
    return {"latency": single, "throughput": tput}


def unbatched_throughput(service, settings: Settings, pool: QuestionPool, plan: Plan, clients: int) -> dict:
    """The same load with batching off (max_batch=1): what the micro-batcher is worth."""
    from .service import QAService

    plain = QAService(settings.model_copy(update={"max_batch": 1}), embedder=service.embedder, index=service.index)
    served = serve_service(plain, settings)
    try:
        return load(served.port, pool.take(plan.tput_max), pool.take(clients), clients, plan.tput_seconds, "/api/ask")
    finally:
        served.close()
        plain.close()


def naive_section(model, settings: Settings, questions: list[str], pool: QuestionPool, plan: Plan) -> dict:
    start = time.perf_counter()
    paragraphs = split_paragraphs(settings.source_dir)
    app, ask = naive_app(model, paragraphs)
    build_s = time.perf_counter() - start
    in_process = timed(ask, pool.take(plan.latency_n))
    served = serve_naive(app)
    try:
        http = latency_and_throughput(served.port, questions, pool, plan)
    finally:
        served.close()
    return {
        "paragraphs": len(paragraphs),
        "build_s": round(build_s, 3),
        "ask": in_process,
        "http": http,
    }


START_SCRIPT = """
import json, sys, time
t0 = time.perf_counter()
from qa_service.service import QAService
from qa_service.settings import load_settings
t1 = time.perf_counter()
service = QAService.open(load_settings(index_dir=sys.argv[1], source_dir=sys.argv[2]))
t2 = time.perf_counter()
service.ask(sys.argv[3])
t3 = time.perf_counter()
from qa_service.bench import peak_rss_mb
print(json.dumps({"import_s": t1 - t0, "open_s": t2 - t1, "first_answer_s": t3 - t2, "peak_rss_mb": peak_rss_mb()}),
      flush=True)
"""


def start_to_ready(settings: Settings, questions: list[str]) -> dict:
    """Wall time from starting a fresh process to its first answer (imports, open the built index, one ask).

    The clock stops when the answer's line arrives, not when the process has finished exiting.
    """
    runs = []
    for question in questions:
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", START_SCRIPT, str(settings.index_dir), str(settings.source_dir), question],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = child.stdout.readline()
        wall = time.perf_counter() - start
        child.stdout.close()
        if child.wait(timeout=300) or not line:
            raise RuntimeError(f"the start-to-answer process failed (exit status {child.returncode})")
        runs.append({"wall_s": round(wall, 3), **{k: round(v, 3) for k, v in json.loads(line).items()}})
    walls = [r["wall_s"] for r in runs]
    return {"median_s": round(statistics.median(walls), 3), "first_s": walls[0], "runs": runs}


def scale_section(plan: Plan, workdir: Path, log: Callable[[str], None]) -> list[dict]:
    """Each size in its own process (clean peak memory), via benchmarks/synthetic.py when it is there."""
    if not (ROOT / "benchmarks" / "synthetic.py").is_file():
        return [{"error": "benchmarks/synthetic.py not found (not a source checkout)"}]
    results = []
    for size in plan.scale_sizes:
        log(f"scale: {size:,} passages")
        command = [
            sys.executable,
            "-m",
            "benchmarks.synthetic",
            "--size",
            str(size),
            "--queries",
            str(plan.scale_queries),
            "--embed-limit",
            str(plan.scale_embed_limit),
            "--workdir",
            str(workdir),
            "--threads",
            "1",
        ]
        if plan.scale_exact_limit is not None:
            command += ["--exact-limit", str(plan.scale_exact_limit)]
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=plan.scale_timeout_s)
        except subprocess.TimeoutExpired:
            results.append({"passages": size, "error": f"timed out after {plan.scale_timeout_s} s"})
            continue
        if done.returncode:
            results.append({"passages": size, "error": done.stderr.strip().splitlines()[-1:]})
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (ru_maxrss survives exec, so a child would report its parent's)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def quiet_servers() -> None:
    """The servers' per-request and queue-depth logs would bury the table."""
    import logging

    import bm25s  # noqa: F401  (it sets its own logger to DEBUG when imported)

    for name, level in (("werkzeug", logging.WARNING), ("waitress.queue", logging.ERROR), ("bm25s", logging.WARNING)):
        logging.getLogger(name).setLevel(level)


def machine() -> dict:
    """What the figures were measured on, including how busy the CPU was just before."""

    def ticks() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]

    info = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform}
    try:
        total0, idle0 = ticks()
        time.sleep(1.0)
        total1, idle1 = ticks()
        info["cpu_busy_before"] = round(1 - (idle1 - idle0) / max(1, total1 - total0), 2)
        info["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return info


# ---------------------------------------------------------------- targets and output


def targets(r: dict) -> dict:
    enc = r["encode"]["p50_ms"]
    tput = r["http"]["throughput"]
    ann = [s["recall_at_10"] for s in r["scale"] if "recall_at_10" in s and s["faiss_index"] != "IndexFlatIP"]
    proxy = [s["proxy_check"]["ann_recall_model_vectors"] for s in r["scale"] if "proxy_check" in s]
    recall = min(ann + proxy) if ann + proxy else math.nan
    checks = {
        "ask_p50_over_encode_p50": (r["ask"]["p50_ms"] / enc, "<=", 1.3),
        "http_p50_ms": (r["http"]["latency"]["p50_ms"], "<=", round(1.5 * enc + 2, 3)),
        "throughput_16_over_1": (tput["16"]["answers_per_s"] / tput["1"]["answers_per_s"], ">=", 2.0),
        "cache_hit_p99_ms": (r["cache"]["p99_ms"], "<", 1.0),
        "start_to_ready_s": (r["start"]["median_s"], "<", 5.0),
        "ann_recall_at_10": (recall, ">=", 0.95),
    }
    out = {}
    for name, (value, op, limit) in checks.items():
        holds = {"<=": value <= limit, "<": value < limit, ">=": value >= limit}[op] if not math.isnan(value) else None
        out[name] = {
            "value": None if math.isnan(value) else round(value, 3),
            "op": op,
            "limit": limit,
            "holds": holds,
            "miss_by": None if holds or holds is None else round(abs(value - limit), 3),
        }
    return out


def _row(label: str, value: object, note: str = "") -> str:
    return f"  {label:<44} {value!s:>22}  {note}"


def _lat(d: dict, digits: int = 2) -> str:
    return f"{d['p50_ms']:.{digits}f} / {d['p99_ms']:.{digits}f}"


def format_table(r: dict) -> str:
    m, enc = r["machine"], r["encode"]["p50_ms"]
    lines = [
        f"qa bench ({'quick' if r['quick'] else 'full'}) {r['started_at']}  cpus={m['cpus']} "
        f"cpu busy before={m.get('cpu_busy_before')}  torch/faiss threads={r['threads']}",
        _row("figure", "value", "note"),
        "  " + "-" * 90,
    ]
    lines += [
        _row("bare model.encode p50 / p99 ms", _lat(r["encode"]), "the floor"),
        _row("service.ask (novel) p50 / p99 ms", _lat(r["ask"]), f"{r['ask']['p50_ms'] / enc:.2f}x floor"),
        _row("cache hit p50 / p99 ms", _lat(r["cache"], 3), "same question, other spelling"),
        _row("HTTP POST /api/ask, 1 client p50 / p99 ms", _lat(r["http"]["latency"]), "waitress"),
    ]
    for c, t in r["http"]["throughput"].items():
        lines.append(_row(f"throughput, {c} client(s) answers/s", t["answers_per_s"], f"p50 {t['p50_ms']:.1f} ms"))
    lines.append(
        _row(
            "throughput, 16 clients, batching off",
            r["http"]["unbatched_16"]["answers_per_s"],
            f"p50 {r['http']['unbatched_16']['p50_ms']:.1f} ms",
        )
    )
    b = r["batching"]
    lines.append(_row("encode batches / questions / largest", f"{b['batches']} / {b['items']} / {b['largest']}"))
    lines.append(
        _row(
            "index build (seeds) passages/s",
            r["build"]["passages_per_s"],
            f"{r['build']['passages']} passages + {r['build']['sentences']} sentences",
        )
    )
    s = r["start"]
    lines.append(
        _row(
            "start to first answer s (median)",
            s["median_s"],
            f"import {s['runs'][0]['import_s']} + open {s['runs'][0]['open_s']} + ask {s['runs'][0]['first_answer_s']}",
        )
    )
    lines.append(
        _row(
            "peak RSS MB: service / bench process",
            f"{s['runs'][0]['peak_rss_mb']:.0f} / {r['memory']['bench_peak_rss_mb']:.0f}",
        )
    )
    for n, t in r["threads_compare"].items():
        lines.append(
            _row(
                f"threads={n}: encode, ask p50 / p99 ms",
                f"{_lat(t['encode'])}",
                f"ask {_lat(t['ask'])}; batch of 16 {t['encode_16_ms']:.1f} ms",
            )
        )
    nv = r["naive"]
    lines += [
        _row("naive: in-process ask p50 / p99 ms", _lat(nv["ask"]), f"{nv['paragraphs']} raw paragraphs"),
        _row("naive: HTTP 1 client p50 / p99 ms", _lat(nv["http"]["latency"]), "Flask dev server, threaded"),
    ]
    for c, t in nv["http"]["throughput"].items():
        lines.append(_row(f"naive: throughput, {c} client(s) answers/s", t["answers_per_s"]))
    for name, ratio in r["vs_naive"].items():
        lines.append(_row(f"service / naive: {name}", ratio))
    for sc in r["scale"]:
        lines += _scale_rows(sc)
    lines += ["", "  targets:"]
    for name, t in r["targets"].items():
        verdict = {True: "holds", False: f"MISSES by {t['miss_by']}", None: "not measured"}[t["holds"]]
        lines.append(_row(name, t["value"], f"{t['op']} {t['limit']}: {verdict}"))
    return "\n".join(lines)


def _scale_rows(sc: dict) -> list[str]:
    if "error" in sc:
        return [_row(f"scale {sc.get('passages', '?')}", "error", str(sc["error"]))]
    n, t, lat = sc["passages"], sc["timings_s"], sc["latency"]
    rows = [
        _row(f"scale {n:,}: vectors / FAISS index", sc["vectors"], sc["faiss_index"]),
        _row(
            f"scale {n:,}: build s (vectors + write)",
            f"{t['vectors_s']} + {t['write_index_s']}",
            f"faiss {t['faiss_s']}, tokenise {t['tokenise_s']}, bm25 {t['bm25_index_s']}; load {t['load_s']}",
        ),
        _row(
            f"scale {n:,}: disk MB / RSS loaded / peak MB",
            f"{sc['disk']['total_mb']} / {sc['rss_mb']['loaded']:.0f} / {sc['rss_mb']['peak']:.0f}",
        ),
        _row(f"scale {n:,}: ask p50 / p99 ms", _lat(lat["ask"]), f"encode {_lat(lat['encode'])}"),
        _row(
            f"scale {n:,}: dense / bm25 p50 ms",
            f"{lat['dense_search']['p50_ms']:.2f} / {lat['bm25_retrieve']['p50_ms']:.2f}",
            f"recall@10 {sc['recall_at_10']}",
        ),
    ]
    if "proxy_check" in sc:
        pc = sc["proxy_check"]
        rows.append(
            _row(
                f"scale {n:,}: HNSW recall@10 model / composed",
                f"{pc['ann_recall_model_vectors']} / {pc['ann_recall_composed_vectors']}",
                "is the composed proxy fair?",
            )
        )
    return rows


def write_results(report: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = report["started_at"].replace(":", "").replace("-", "")
    path = out_dir / f"bench-{'quick-' if report['quick'] else ''}{stamp}.json"
    text = json.dumps(report, indent=1, default=str)
    path.write_text(text, "utf-8")
    tmp = out_dir / ".latest.json.tmp"
    tmp.write_text(text, "utf-8")
    os.replace(tmp, out_dir / "latest.json")
    return path


# ---------------------------------------------------------------- the run


def run_bench(
    settings: Settings,
    quick: bool = False,
    out_dir: Path = Path("benchmarks/results"),
    echo: Callable[[str], None] = print,
) -> dict:
    """Measure everything in one process run; print the table, write JSON; return the report."""
    plan = Plan.make(quick)
    quiet_servers()

    def log(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    report: dict = {
        "quick": quick,
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "plan": asdict(plan),
        "machine": machine(),
    }
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        bench_settings = settings.model_copy(
            update={
                "index_dir": Path(tmp) / "index",
                "rate_limit": "",
                "host": "127.0.0.1",
                "port": 0,
                "cache_size": max(settings.cache_size, 4096),
            }
        )
        report.update(_measure(bench_settings, plan, Path(tmp), log))
    report["memory"] = {
        "bench_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "service_peak_rss_mb": report["start"]["runs"][0]["peak_rss_mb"],
    }
    report["targets"] = targets(report)
    path = write_results(report, Path(out_dir))
    echo(format_table(report))
    echo(f"\nwritten: {path} (and latest.json)")
    return report


def _measure(settings: Settings, plan: Plan, tmp: Path, log: Callable[[str], None]) -> dict:
    from .embedding import Embedder
    from .index_store import build_index, read_manifest
    from .service import QAService

    embedder = Embedder(settings.model, settings.embed_batch_size, backend="torch")
    embedder.encode(["warm-up"])
    model = embedder.model.st
    log("building the seeds index")
    start = time.perf_counter()
    manifest = read_manifest(build_index(settings, embedder))
    build_s = time.perf_counter() - start
    r: dict = {
        "build": {
            "passages": manifest.passages,
            "sentences": manifest.sentences,
            "seconds": round(build_s, 3),
            "passages_per_s": round(manifest.passages / build_s, 1),
        }
    }
    service = QAService.open(settings, embedder=embedder)
    pool = QuestionPool(
        novel_questions([p.text for p in service.index.passages], 12 * plan.tput_max + 20 * plan.latency_n + 200)
    )
    for q in pool.take(5):
        service.ask(q)
    log("threads: 1 against all cores")
    r["threads_compare"] = thread_comparison(model, pool, plan, service)
    set_threads(1)
    r["threads"] = 1
    log("encode floor, ask, cache")
    r["encode"], r["ask"] = paired(encode_fn(model), service.ask, pool.take(plan.latency_n), pool.take(plan.latency_n))
    r["cache"] = cache_latency(service, pool.take(1)[0], plan.cache_n)
    log("HTTP: waitress, 1/4/16 clients")
    http_questions = pool.take(plan.latency_n)  # the same questions go to the naive baseline
    before = asdict(service._batcher.stats)
    r["http"] = http_section(service, settings, http_questions, pool, plan)
    after = asdict(service._batcher.stats)
    r["batching"] = {k: after[k] - before[k] if k != "largest" else after[k] for k in after}
    r["http"]["unbatched_16"] = unbatched_throughput(service, settings, pool, plan, 16)
    log("naive baseline: semantic_search behind the Flask dev server")
    r["naive"] = naive_section(model, settings, http_questions, pool, plan)
    r["vs_naive"] = {
        "ask p50": round(r["ask"]["p50_ms"] / r["naive"]["ask"]["p50_ms"], 3),
        "HTTP p50": round(r["http"]["latency"]["p50_ms"] / r["naive"]["http"]["latency"]["p50_ms"], 3),
        **{
            f"throughput {c}": round(
                r["http"]["throughput"][c]["answers_per_s"] / r["naive"]["http"]["throughput"][c]["answers_per_s"], 3
            )
            for c in r["http"]["throughput"]
        },
    }
    service.close()
    log("start to first answer (fresh processes)")
    r["start"] = start_to_ready(settings, pool.take(plan.start_runs))
    r["scale"] = scale_section(plan, tmp, log)
    return r
