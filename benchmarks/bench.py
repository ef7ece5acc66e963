"""`make bench`: what a question costs on top of one encode of it, against torch, ONNX Runtime and a naive baseline.

One run measures, side by side and in one process: the bare encode of a question by torch
(sentence-transformers), ONNX Runtime fp32 and its int8 copy, timed in turns with ``QAService.ask``;
the answer cache; ``POST /api/ask`` through waitress, in turns with a torch encode, and 1, 4 and 16
clients (the load generator, ``benchmarks.load``, runs in its own process); the build rate with each
backend; start to ready (import, index load, model load and warm-up, first answer) in fresh processes
and `qa serve` to a healthy ``/api/health``, with its peak memory; the naive baseline behind Flask's
development server; and the synthetic scale runs (``benchmarks.synthetic``). It prints a table,
writes JSON and compares the figures with the targets of issue 12.

``python -m benchmarks.bench [--quick]``; ``qa bench`` calls the same ``run_bench``.
"""

from __future__ import annotations

import argparse
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
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from qa_service.settings import Settings, load_settings

from .load import Sample, generate
from .naive import naive_app, split_paragraphs
from .runner import ROOT, healthy_after, memory_kib, running_server, serve_flask_dev, serve_service
from .stats import alternated, summary, timed

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
VARIANTS = ("torch", "onnx", "onnx-int8")


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
    def make(cls, quick: bool, sizes: tuple[int, ...] | None = None) -> Plan:
        if quick:
            return cls(True, 12, 30, 1.0, 24, (1, 4, 16), 1, sizes or (1_000,), 0, 10, 300, 1)
        return cls(
            False, 200, 500, 10.0, 600, (1, 4, 16), 3, sizes or (10_000, 100_000, 1_000_000), 10_000, 100, 3600, None
        )


# ---------------------------------------------------------------- questions


def novel_questions(texts: Iterable[str], n: int, seed: int = SEED) -> list[str]:
    """``n`` distinct questions (templates x names and words of the corpus), none normalising to another."""
    from qa_service.lexicon import load_lexicon

    STOPWORDS = load_lexicon().stopwords

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


# ---------------------------------------------------------------- HTTP


class Poster:
    """One keep-alive client in this process, for latency timed in turns with an encode."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def __call__(self, question: str) -> None:
        body = json.dumps({"question": question}).encode()
        self.conn.request("POST", "/api/ask", body, {"Content-Type": "application/json"})
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:200]!r}")

    def close(self) -> None:
        self.conn.close()


def throughput(port: int, questions: list[str], warmup: list[str], clients: int, seconds: float) -> dict:
    """Closed-loop clients from the load generator's own process: latency summary and answers per second."""
    job = {
        "host": "127.0.0.1",
        "port": port,
        "clients": clients,
        "seconds": seconds,
        "requests": [["/api/ask", {"question": q}] for q in questions],
        "warmup": [["/api/ask", {"question": q}] for q in warmup],
    }
    samples, elapsed = generate(job)
    failed = [s for s in samples if s.error]
    if failed:
        raise RuntimeError(f"{len(failed)} requests failed, e.g. {failed[0].error}")
    return {**_summary(samples), "clients": clients, "answers_per_s": round(len(samples) / elapsed, 2)}


def _summary(samples: list[Sample]) -> dict:
    return summary(s.seconds for s in samples)


def http_figures(port: int, torch_encode: Callable, pool: QuestionPool, plan: Plan) -> dict:
    """One client's latency in turns with a torch encode, then throughput at each client count."""
    poster = Poster(port)
    try:
        poster(pool.take(1)[0])
        encode, latency = alternated([torch_encode, poster], [pool.take(plan.latency_n), pool.take(plan.latency_n)])
    finally:
        poster.close()
    levels = {
        str(c): throughput(port, pool.take(plan.tput_max), pool.take(c), c, plan.tput_seconds) for c in plan.clients
    }
    return {"latency": latency, "torch_encode": encode, "throughput": levels}


# ---------------------------------------------------------------- sections


def encoders(settings: Settings) -> dict:
    """The model three ways, one thread each (torch's and FAISS's too), warmed up."""
    from qa_service.embedding import Embedder

    made = {
        "torch": Embedder(settings.model, threads=1, backend="torch"),
        "onnx": Embedder(settings.model, threads=1, cache_dir=settings.model_cache_dir),
        "onnx-int8": Embedder(settings.model, threads=1, int8=True, cache_dir=settings.model_cache_dir),
    }
    for embedder in made.values():
        embedder.encode(["warm-up"])
    return made


def one(embedder) -> Callable[[str], object]:
    """The floor: the bare model on one question, nothing of the service around it."""
    return lambda q: embedder.encode([q])


def build_rates(settings: Settings, made: dict, tmp: Path) -> dict:
    """Build the seeds index with each backend (the service's own build) and time it."""
    from qa_service.index_store import build_index, read_manifest

    rates = {}
    for variant in ("onnx", "torch"):
        variant_settings = settings.model_copy(
            update={"index_dir": tmp / f"index-{variant}", "embed_backend": variant, "embed_int8": False}
        )
        start = time.perf_counter()
        manifest = read_manifest(build_index(variant_settings, made[variant]))
        seconds = time.perf_counter() - start
        rates[variant] = {
            "passages": manifest.passages,
            "sentences": manifest.sentences,
            "seconds": round(seconds, 3),
            "passages_per_s": round(manifest.passages / seconds, 1),
        }
    return rates


def thread_comparison(made: dict, pool: QuestionPool, plan: Plan) -> dict:
    """ONNX Runtime encode at 1 thread and at all cores: what QA_TORCH_THREADS should be."""
    from qa_service.embedding import Embedder

    found = {}
    cores = os.cpu_count() or 1
    base = made["onnx"]
    for n in sorted({1, cores}):
        embedder = Embedder(base.name, threads=n, cache_dir=base.cache_dir)
        embedder.encode(["warm-up"])
        batch = pool.take(16)
        found[str(n)] = {
            "encode": timed(one(embedder), pool.take(plan.latency_n // 2)),
            "encode_16_ms": timed(embedder.encode, [batch] * 3)["p50_ms"],
        }
    import faiss

    faiss.omp_set_num_threads(1)
    return found


def cache_latency(service, question: str, n: int) -> dict:
    """A question already answered, asked again in other spellings (case, spacing): served from the cache."""
    service.ask(question)
    variants = [question, question.upper(), f"  {question}  ", question.replace(" ", "  ")]
    return timed(service.ask, [variants[i % len(variants)] for i in range(n)])


def unbatched_throughput(service, settings: Settings, pool: QuestionPool, plan: Plan, clients: int) -> dict:
    """The same load with batching off (max_batch=1): what the micro-batcher is worth."""
    from qa_service.service import QAService

    plain = QAService(settings.model_copy(update={"max_batch": 1}), embedder=service.embedder, index=service.index)
    served = serve_service(plain, settings)
    try:
        return throughput(served.port, pool.take(plan.tput_max), pool.take(clients), clients, plan.tput_seconds)
    finally:
        served.stop()
        plain.close()


def naive_section(model, torch_encode: Callable, settings: Settings, pool: QuestionPool, plan: Plan) -> dict:
    start = time.perf_counter()
    paragraphs = split_paragraphs(settings.source_dir)
    app, ask = naive_app(model, paragraphs)
    build_s = time.perf_counter() - start
    in_process = timed(ask, pool.take(plan.latency_n))
    served = serve_flask_dev(app)
    try:
        http = http_figures(served.port, torch_encode, pool, plan)
    finally:
        served.stop()
    return {"paragraphs": len(paragraphs), "build_s": round(build_s, 3), "ask": in_process, "http": http}


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
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers", "sklearn") if m in sys.modules)
print(json.dumps({"import_s": t1 - t0, **service.startup, "first_answer_s": t3 - t2, "peak_rss_mb": peak / 1024,
                  "heavy_modules": heavy}), flush=True)
"""


def start_to_ready(settings: Settings, questions: list[str]) -> dict:
    """Fresh processes: wall time to the first answer (import, index load, model load, warm-up, one ask
    timed separately inside), then `qa serve` to its first healthy /api/health and its peak memory."""
    runs = []
    for question in questions:
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", START_SCRIPT, str(settings.index_dir), str(settings.source_dir), question],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = child.stdout.readline()
        wall = time.perf_counter() - start
        child.stdout.close()
        if child.wait(timeout=300) or not line:
            raise RuntimeError(f"the start-to-answer process failed (exit status {child.returncode})")
        figures = json.loads(line)
        runs.append(
            {"wall_s": round(wall, 3), **{k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}}
        )
    serve = serve_to_healthy(settings, questions)
    walls = [r["wall_s"] for r in runs]
    return {"median_s": round(statistics.median(walls), 3), "first_s": walls[0], "runs": runs, "serve": serve}


def serve_to_healthy(settings: Settings, questions: list[str]) -> dict:
    """`qa serve` as people start it: seconds to a healthy /api/health, and peak RSS after answering questions."""
    started = time.perf_counter()
    with running_server(settings.index_dir, settings.source_dir) as server:
        healthy = healthy_after(server.url, started)
        poster = Poster(server.port)
        try:
            for question in questions * 3:
                poster(question)
        finally:
            poster.close()
        memory = memory_kib(server.process.pid)
    return {
        "healthy_s": round(healthy, 3),
        "serving_line_s": round(server.started_s, 3),
        "rss_mb": round(memory["VmRSS"] / 1024, 1),
        "peak_rss_mb": round(memory["VmHWM"] / 1024, 1),
    }


def scale_section(plan: Plan, workdir: Path, log: Callable[[str], None]) -> list[dict]:
    """Each size in its own process (clean peak memory), via benchmarks/synthetic.py."""
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


def quiet_servers() -> None:
    """The servers' per-request and queue-depth logs would bury the table."""
    import logging

    for name, level in (("werkzeug", logging.WARNING), ("waitress.queue", logging.ERROR), ("bm25s", logging.WARNING)):
        logging.getLogger(name).setLevel(level)


# ---------------------------------------------------------------- targets and output


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else math.nan


def targets(r: dict) -> dict:
    enc = r["encode"]
    tput = r["http"]["throughput"]
    recalls = [
        s[key]
        for s in r["scale"]
        for key in ("recall_at_10", "filtered_recall_at_10")
        if key in s and s.get("faiss_index", "").startswith("IndexHNSW")
    ]
    overhead = {s["passages"]: s["overhead_ms"] for s in r["scale"] if "overhead_ms" in s}
    beats = [v for k, v in r["vs_naive"].items() if k.endswith("p50")] + [
        1 / v for k, v in r["vs_naive"].items() if k.startswith("throughput") and v
    ]
    checks = {
        "http_p50_over_torch_encode_p50": (r["http"]["over_torch_encode"], "<=", 0.6),
        "ask_p50_over_onnx_encode_p50": (_ratio(r["ask"]["p50_ms"], enc["onnx"]["p50_ms"]), "<=", 1.25),
        "start_to_ready_s": (r["start"]["median_s"], "<=", 1.5),
        "throughput_16_over_1": (_ratio(tput["16"]["answers_per_s"], tput["1"]["answers_per_s"]), ">=", 2.5),
        "service_over_naive_worst": (max(beats) if beats else math.nan, "<", 1.0),
        "overhead_ms_100k": (overhead.get(100_000, math.nan), "<=", 5.0),
        "overhead_ms_1m": (overhead.get(1_000_000, math.nan), "<=", 15.0),
        "ann_recall_at_10_worst": (min(recalls) if recalls else math.nan, ">=", 0.95),
        "serve_peak_rss_mb": (r["start"]["serve"]["peak_rss_mb"], "<=", 260.0),
        "cache_hit_p99_ms": (r["cache"]["p99_ms"], "<", 1.0),
    }
    out = {}
    for name, (value, op, limit) in checks.items():
        known = value is not None and not math.isnan(value)
        holds = {"<=": value <= limit, "<": value < limit, ">=": value >= limit}[op] if known else None
        out[name] = {
            "value": round(value, 3) if known else None,
            "op": op,
            "limit": limit,
            "holds": holds,
            "miss_by": None if holds or holds is None else round(abs(value - limit), 3),
        }
    return out


def _row(label: str, value: object, note: str = "") -> str:
    return f"  {label:<46} {value!s:>22}  {note}"


def _lat(d: dict, digits: int = 2) -> str:
    return f"{d['p50_ms']:.{digits}f} / {d['p99_ms']:.{digits}f}"


def format_table(r: dict) -> str:
    m, enc = r["machine"], r["encode"]
    lines = [
        f"qa bench ({'quick' if r['quick'] else 'full'}) {r['started_at']}  cpus={m['cpus']} "
        f"cpu busy before={m.get('cpu_busy_before')}  model/faiss threads=1",
        _row("figure", "value", "note"),
        "  " + "-" * 92,
    ]
    for variant in VARIANTS:
        vs_torch = _ratio(enc[variant]["p50_ms"], enc["torch"]["p50_ms"])
        note = "the torch floor" if variant == "torch" else f"{vs_torch}x torch"
        lines.append(_row(f"encode {variant} p50 / p99 ms", _lat(enc[variant]), note))
    lines += [
        _row(
            "service.ask (novel) p50 / p99 ms",
            _lat(r["ask"]),
            f"{_ratio(r['ask']['p50_ms'], enc['onnx']['p50_ms'])}x onnx encode",
        ),
        _row("cache hit p50 / p99 ms", _lat(r["cache"], 3), "same question, other spelling"),
        _row(
            "HTTP POST /api/ask, 1 client p50 / p99 ms",
            _lat(r["http"]["latency"]),
            f"{r['http']['over_torch_encode']}x torch encode (in turns: {r['http']['torch_encode']['p50_ms']:.2f})",
        ),
    ]
    for c, t in r["http"]["throughput"].items():
        lines.append(_row(f"throughput, {c} client(s) answers/s", t["answers_per_s"], f"p50 {t['p50_ms']:.1f} ms"))
    unbatched = r["http"]["unbatched_16"]
    lines.append(
        _row("throughput, 16 clients, batching off", unbatched["answers_per_s"], f"p50 {unbatched['p50_ms']:.1f} ms")
    )
    b = r["batching"]
    lines.append(_row("encode batches / questions / largest", f"{b['batches']} / {b['items']} / {b['largest']}"))
    for variant, rate in r["build"].items():
        lines.append(
            _row(
                f"index build (seeds), {variant} passages/s",
                rate["passages_per_s"],
                f"{rate['passages']} passages + {rate['sentences']} sentences in {rate['seconds']} s",
            )
        )
    s = r["start"]
    first = s["runs"][0]
    lines += [
        _row(
            "start to first answer s (median)",
            s["median_s"],
            f"import {first['import_s']} + index {first['index_load_s']} + model {first['model_load_s']} + "
            f"warm-up {first['warm_up_s']} + ask {first['first_answer_s']}",
        ),
        _row("modules loaded when serving", ", ".join(first["heavy_modules"]) or "none heavy", "torch/ST/sklearn?"),
        _row("qa serve to healthy /api/health s", s["serve"]["healthy_s"], f"log line {s['serve']['serving_line_s']}"),
        _row(
            "peak RSS MB: qa serve / fresh ask / bench",
            f"{s['serve']['peak_rss_mb']:.0f} / {first['peak_rss_mb']:.0f} / {r['memory']['bench_peak_rss_mb']:.0f}",
        ),
    ]
    for n, t in r["threads_compare"].items():
        lines.append(
            _row(f"threads={n}: onnx encode p50 / p99 ms", _lat(t["encode"]), f"batch of 16 {t['encode_16_ms']:.1f} ms")
        )
    nv = r["naive"]
    lines += [
        _row("naive: in-process ask p50 / p99 ms", _lat(nv["ask"]), f"{nv['paragraphs']} raw paragraphs, torch"),
        _row("naive: HTTP 1 client p50 / p99 ms", _lat(nv["http"]["latency"]), "Flask dev server, threaded"),
    ]
    for c, t in nv["http"]["throughput"].items():
        lines.append(_row(f"naive: throughput, {c} client(s) answers/s", t["answers_per_s"]))
    for name, ratio in r["vs_naive"].items():
        lines.append(_row(f"service / naive: {name}", ratio))
    for sc in r["scale"]:
        lines += _scale_rows(sc)
    lines += ["", "  targets (issue 12):"]
    for name, t in r["targets"].items():
        verdict = {True: "holds", False: f"MISSES by {t['miss_by']}", None: "not measured"}[t["holds"]]
        lines.append(_row(name, t["value"], f"{t['op']} {t['limit']}: {verdict}"))
    return "\n".join(lines)


def _scale_rows(sc: dict) -> list[str]:
    if "error" in sc:
        return [_row(f"scale {sc.get('passages', '?')}", "error", str(sc["error"]))]
    n, t, lat = sc["passages"], sc["timings_s"], sc["latency"]
    write = sc["write_timings_s"]
    rows = [
        _row(f"scale {n:,}: vectors / FAISS index", sc["vectors"], sc["faiss_index"]),
        _row(
            f"scale {n:,}: build s (vectors + write)",
            f"{t['vectors_s']} + {t['write_index_s']}",
            ", ".join(f"{k.removesuffix('_s')} {v}" for k, v in write.items()) + f"; load {t['load_s']}",
        ),
        _row(
            f"scale {n:,}: disk MB / RSS loaded / peak MB",
            f"{sc['disk']['total_mb']} / {sc['rss_mb']['loaded']:.0f} / {sc['rss_mb']['peak']:.0f}",
        ),
        _row(
            f"scale {n:,}: ask p50 / p99 ms",
            _lat(lat["ask"]),
            f"encode {_lat(lat['encode'])}; overhead {sc['overhead_ms']} ms",
        ),
        _row(
            f"scale {n:,}: dense / bm25 p50 ms",
            f"{lat['dense_search']['p50_ms']:.2f} / {lat['bm25_retrieve']['p50_ms']:.2f}",
            f"recall@10 {sc['recall_at_10']}",
        ),
        _row(
            f"scale {n:,}: 1% filter recall@10 / p50 ms",
            f"{sc['filtered_recall_at_10']} / {lat['filtered_dense']['p50_ms']:.2f}",
            f"{sc['filter']['passages']} passages; FAISS selector alone: recall {sc['selector_recall_at_10']}",
        ),
        _row(
            f"scale {n:,}: 1% filter ask p50 / p99 ms",
            _lat(lat["filtered_ask"]),
            f"passage ids: allowed_ids {lat['filter_ids_allowed_ids']['p50_ms']:.2f} ms, "
            f"filter_passages {lat['filter_ids_filter_passages']['p50_ms']:.2f} ms",
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
    out_dir: Path = ROOT / "benchmarks" / "results",
    echo: Callable[[str], None] = print,
    sizes: tuple[int, ...] | None = None,
) -> dict:
    """Measure everything in one process run; print the table, write JSON; return the report."""
    if settings.backend == "qdrant" and not settings.qdrant_url:
        from qa_service.errors import ConfigError

        raise ConfigError(
            "qa bench starts servers beside itself, and embedded Qdrant serves one process",
            hint="set QA_QDRANT_URL to a server, or QA_BACKEND=local; python -m benchmarks.backends compares the two",
        )
    plan = Plan.make(quick, sizes)
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
                "embed_backend": "onnx",
                "embed_int8": False,
            }
        )
        report.update(_measure(bench_settings, plan, Path(tmp), log))
    report["memory"] = {"bench_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    report["targets"] = targets(report)
    path = write_results(report, Path(out_dir))
    echo(format_table(report))
    echo(f"\nwritten: {path} (and latest.json)")
    return report


def _measure(settings: Settings, plan: Plan, tmp: Path, log: Callable[[str], None]) -> dict:
    from qa_service.index_store import build_index
    from qa_service.service import QAService

    made = encoders(settings)
    torch_encode = one(made["torch"])
    log("building the seeds index with each backend")
    r: dict = {"build": build_rates(settings, made, tmp)}
    build_index(settings, made["onnx"])
    service = QAService.open(settings, embedder=made["onnx"])
    pool = QuestionPool(
        novel_questions([p.text for p in service.index.passages], 14 * plan.tput_max + 24 * plan.latency_n + 200)
    )
    for q in pool.take(5):
        service.ask(q)
    log("threads: 1 against all cores")
    r["threads_compare"] = thread_comparison(made, pool, plan)
    log("encode floors (torch, onnx, int8) and ask, in turns")
    timings = alternated(
        [*(one(made[v]) for v in VARIANTS), service.ask], [pool.take(plan.latency_n) for _ in range(len(VARIANTS) + 1)]
    )
    r["encode"] = dict(zip(VARIANTS, timings[:-1], strict=True))
    r["ask"] = timings[-1]
    r["cache"] = cache_latency(service, pool.take(1)[0], plan.cache_n)
    log("HTTP: waitress, 1/4/16 clients")
    before = asdict(service._batcher.stats)
    served = serve_service(service, settings)
    try:
        r["http"] = http_figures(served.port, torch_encode, pool, plan)
    finally:
        served.stop()
    after = asdict(service._batcher.stats)
    r["batching"] = {k: after[k] - before[k] if k != "largest" else after[k] for k in after}
    r["http"]["over_torch_encode"] = _ratio(r["http"]["latency"]["p50_ms"], r["http"]["torch_encode"]["p50_ms"])
    r["http"]["unbatched_16"] = unbatched_throughput(service, settings, pool, plan, 16)
    service.close()
    log("naive baseline: semantic_search on torch behind the Flask dev server")
    r["naive"] = naive_section(made["torch"].model.st, torch_encode, settings, pool, plan)
    r["vs_naive"] = {
        "ask p50": _ratio(r["ask"]["p50_ms"], r["naive"]["ask"]["p50_ms"]),
        "HTTP p50": _ratio(r["http"]["latency"]["p50_ms"], r["naive"]["http"]["latency"]["p50_ms"]),
        **{
            f"throughput {c}": _ratio(
                r["http"]["throughput"][c]["answers_per_s"], r["naive"]["http"]["throughput"][c]["answers_per_s"]
            )
            for c in r["http"]["throughput"]
        },
    }
    del made
    log("start to ready (fresh processes)")
    r["start"] = start_to_ready(settings, pool.take(plan.start_runs))
    r["scale"] = scale_section(plan, tmp, log)
    return r


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Tiny sizes and few repetitions (the smoke run).")
    parser.add_argument("--sizes", default=None, help="Scale sizes, comma-separated (default 10000,100000,1000000).")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(",") if s) if args.sizes else None
    run_bench(load_settings(), quick=args.quick, out_dir=args.out, sizes=sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
