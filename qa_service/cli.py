"""The `qa` command: each subcommand parses its flags and calls one library function."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from .errors import ConfigError, QAError
from .settings import Settings, load_settings


class QAGroup(click.Group):
    """Turns any QAError into a one-line message and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except QAError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


def _settings(ctx: click.Context, **overrides: object) -> Settings:
    return load_settings(**ctx.obj, **overrides)


@click.group(cls=QAGroup)
@click.option("--model", default=None, help="Embedding model: local folder or bundled name (env QA_MODEL).")
@click.option("--index-dir", type=click.Path(path_type=Path), default=None, help="Index folder (env QA_INDEX_DIR).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def main(ctx: click.Context, model: str | None, index_dir: Path | None, verbose: bool) -> None:
    """Question answering over a folder of news sources, with citations."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")
    ctx.obj = {"model": model, "index_dir": index_dir}


@main.command()
@click.option("--source", type=click.Path(path_type=Path), default=None, help="Folder of .txt/.md/.html files.")
@click.option("--force", is_flag=True, help="Rebuild even when the index is current.")
@click.pass_context
def index(ctx: click.Context, source: Path | None, force: bool) -> None:
    """Build the index from the source folder (only when missing or stale, unless --force)."""
    from .corpus import load_documents
    from .embedding import Embedder
    from .index_store import build_index, index_status

    settings = _settings(ctx, source_dir=source)
    reason = "forced" if force else index_status(settings)
    if reason is None:
        click.echo(f"index in {settings.index_dir} is current; nothing to do (use --force to rebuild)")
        return
    for warning in load_documents(settings)[1]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"building index ({reason})", err=True)
    build = build_index(settings, Embedder.from_settings(settings), progress=True)
    from .index_store import read_manifest

    manifest = read_manifest(build)
    click.echo(f"indexed {manifest.documents} documents, {manifest.passages} passages -> {build}")


@main.command()
@click.option("--source", type=click.Path(path_type=Path), default=None, help="Folder the index was built from.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def documents(ctx: click.Context, source: Path | None, as_json: bool) -> None:
    """List the indexed documents with their metadata and passage counts."""
    from .serialize import document_row
    from .service import QAService

    service = QAService(_settings(ctx, source_dir=source))
    rows = [document_row(doc, count) for doc, count in service.documents()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        who = row["publisher"] or "?"
        by = f" by {row['author']}" if row["author"] else ""
        click.echo(f"{row['doc_id']}  {row['date'] or 'no date'}  {who}{by}  ({row['passages']} passages)")
        click.echo(f"    {row['title']}")
        if row["url"]:
            click.echo(f"    {row['url']}")
        for warning in row["warnings"]:
            click.echo(f"    warning: {warning}")


@main.command()
@click.argument("question")
@click.option("--k", type=click.IntRange(1, 20), default=5, show_default=True, help="Passages to return.")
@click.option("--mode", type=click.Choice(["hybrid", "dense", "bm25"]), default="hybrid", show_default=True)
@click.option("--since", default=None, help="Only sources dated on or after YYYY-MM-DD.")
@click.option("--until", default=None, help="Only sources dated on or before YYYY-MM-DD.")
@click.option("--publisher", "publishers", multiple=True, help="Only this publisher (repeatable).")
@click.option("--doc-id", "doc_ids", multiple=True, help="Only this document (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON answer contract.")
@click.option("--source", type=click.Path(path_type=Path), default=None, help="Folder the index was built from.")
@click.pass_context
def ask(ctx, question, k, mode, since, until, publishers, doc_ids, as_json, source) -> None:
    """Answer QUESTION from the sources, with citations."""
    from .requests import AskRequest
    from .serialize import answer_dict
    from .service import QAService

    request = AskRequest.parse(
        {
            "question": question,
            "k": k,
            "mode": mode,
            "since": since,
            "until": until,
            "publishers": list(publishers) or None,
            "doc_ids": list(doc_ids) or None,
        }
    )
    service = QAService(_settings(ctx, source_dir=source))
    result = service.ask(request.question, request.options())
    if as_json:
        click.echo(json.dumps(answer_dict(result), ensure_ascii=False, indent=2))
        return
    click.echo(format_answer(result))


@main.command(name="eval")
@click.option(
    "--set",
    "set_path",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=Path("tests/eval/qa_pairs.jsonl"),
    show_default=True,
    help="QA pairs (JSON lines).",
)
@click.option("--k", type=click.IntRange(1, 20), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.option("--source", type=click.Path(path_type=Path), default=None, help="Folder the index was built from.")
@click.option("--ingest", is_flag=True, help="Score ingestion on annotated pages instead (no model, no index).")
@click.option(
    "--pages",
    type=click.Path(path_type=Path, exists=True, file_okay=False),
    default=Path("tests/fixtures/pages"),
    show_default=True,
    help="With --ingest: a folder with annotations.json, or one whose subfolders have one (the splits).",
)
@click.option("--details", is_flag=True, help="With --ingest: list each page's misses (never for a held-out split).")
@click.option("--cv", "folds", type=click.IntRange(2, 20), default=None, help="Cross-validate over this many folds.")
@click.option(
    "--pool",
    "pool_paths",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    multiple=True,
    default=[Path(f"tests/eval/{name}.jsonl") for name in ("qa_pairs", "second_set", "third_set")],
    show_default=True,
    help="With --cv: the question sets that fitting may read (repeatable).",
)
@click.option(
    "--untouched",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("tests/eval/untouched.jsonl"),
    show_default=True,
    help="With --cv: the split no fitting reads, scored once with values fit on the whole pool.",
)
@click.option("--write", is_flag=True, help="With --cv: store the values fit on the whole pool as the defaults.")
@click.pass_context
def evaluate(ctx, set_path, k, as_json, source, ingest, pages, details, folds, pool_paths, untouched, write):
    """Score retrieval, answers, citations and refusals on fixed question/answer pairs.

    With --ingest, score titles, dates, outlets, kept body text and leaked chrome on annotated pages.
    With --cv N, fit every tuned value by stratified N-fold cross-validation and report held-out folds only.
    """
    from .evaluation import Evaluation, format_report, load_pairs
    from .service import QAService

    if ingest:
        click.echo(ingest_report(pages, as_json, details))
        return
    if folds:
        from .evaluation.cv import cross_validate, format_cv, write_fitted

        service = QAService(_settings(ctx, source_dir=source, cache_size=0, max_batch=1))
        pool = [pair for path in pool_paths for pair in load_pairs(path)]
        report = cross_validate(service, pool, load_pairs(untouched) if untouched.is_file() else [], folds)
        click.echo(json.dumps(report, indent=2) if as_json else format_cv(report))
        if write:
            click.echo(f"wrote {write_fitted(report['fitted'])}", err=True)
        return
    service = QAService(_settings(ctx, source_dir=source, cache_size=0))
    report = Evaluation.from_files(service, set_path, k).run()
    click.echo(json.dumps(report, indent=2) if as_json else format_report(report))


@main.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1; 0.0.0.0 is an explicit choice).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option("--source", type=click.Path(path_type=Path), default=None, help="Folder of sources.")
@click.option("--rebuild", is_flag=True, help="Build the index first if it is missing or stale.")
@click.pass_context
def serve(ctx, host: str | None, port: int | None, source: Path | None, rebuild: bool) -> None:
    """Serve the chat page and JSON API with a production WSGI server.

    A non-loopback --host is logged as a warning. The admin token comes only from QA_ADMIN_TOKEN.
    SIGTERM or Ctrl-C stops it: requests in flight are answered first (QA_SHUTDOWN_GRACE seconds at
    most); the exit status is 0 when all were, 1 when some had to be dropped.
    """
    from .web.server import serve as run_server

    if not run_server(_settings(ctx, host=host, port=port, source_dir=source), rebuild=rebuild):
        ctx.exit(1)


@main.command(name="settings")
@click.pass_context
def show_settings(ctx) -> None:
    """Print every setting: its value now, its environment variable, and what it does."""
    from .settings import Settings

    settings = _settings(ctx)
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = "(set)" if name == "admin_token" and value else value
        click.echo(f"{name:<20} QA_{name.upper():<22} {shown!s:<24} {field.description or ''}")


@main.command()
@click.option("--int8", is_flag=True, help="Also make the int8 copy (whatever QA_EMBED_INT8 says).")
@click.pass_context
def export(ctx, int8: bool) -> None:
    """Export the model to ONNX once (cached, with checksums and measured parity with torch); `make install` runs it."""
    from .embedding import resolve_model
    from .embedding.cache import ensure_export

    settings = _settings(ctx)
    location = resolve_model(settings.model)
    if not isinstance(location, Path):
        raise ConfigError(f"model {settings.model!r} is not a local folder; nothing to export")
    entry = ensure_export(location, settings.model_cache_dir, int8 or settings.embed_int8)
    for variant, record in entry.meta["variants"].items():
        click.echo(
            f"{variant:<10} {entry.path(variant)}  sha256 {record['sha256'][:16]}…  "
            f"parity with torch: lowest cosine {record['parity_cosine']:.7f}"
        )


@main.command()
@click.option("--quick", is_flag=True, help="Tiny sizes and few repetitions (the smoke run in `make test`).")
@click.option("--sizes", default=None, help="Scale sizes, comma-separated (default 10000,100000,1000000).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("benchmarks/results"), show_default=True)
@click.pass_context
def bench(ctx, quick: bool, sizes: str | None, out: Path) -> None:
    """Measure latency, throughput, build rate, start time and memory; print a table, write JSON.

    The harness lives in the source checkout's benchmarks/ package (`make bench` runs it).
    """
    root = Path(__file__).resolve().parent.parent
    if not (root / "benchmarks" / "bench.py").is_file():
        raise ConfigError("qa bench needs a source checkout (benchmarks/ is not next to qa_service/)")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks.bench import run_bench

    scale = tuple(int(n) for n in sizes.split(",") if n) if sizes else None
    run_bench(_settings(ctx), quick=quick, out_dir=out, sizes=scale)


def ingest_report(pages: Path, as_json: bool, details: bool) -> str:
    """Each split's figures (and, asked for, the misses of the splits that are not held out)."""
    from .errors import SourceError
    from .evaluation.ingest import evaluate_split, format_details, format_summary, is_held_out, splits, summarise

    folders = splits(pages)
    if not folders:
        raise SourceError(
            f"no annotations.json in {pages} or its subfolders", hint="see tests/fixtures/pages/README.md"
        )
    results = {folder.name: evaluate_split(folder) for folder in folders}
    held_out = {folder.name for folder in folders if is_held_out(folder)}
    if as_json:
        return json.dumps({name: summarise(found) for name, found in results.items()}, indent=2)
    lines = [format_summary(name, summarise(found)) for name, found in results.items()]
    if details:
        for name, found in results.items():
            shown = "(held out: misses are not listed)" if name in held_out else format_details(found)
            lines.append(f"\n{name}:\n{shown}")
    return "\n".join(lines)


def format_answer(result) -> str:
    lines = []
    if result.abstained:
        lines.append("The sources don't answer this.")
        if result.passages:
            lines.append("\nNearest passages:")
    elif result.confidence == "low":
        lines.append("No passage states this directly. The closest sentences:")
        lines.append(result.answer)
        lines.append("")
    else:
        lines.append(result.answer)
        lines.append("")
    for p in result.passages:
        c = p.citation
        lines.append(
            f'[{p.rank}] {c.publisher or "unknown publisher"}, "{c.title}", {c.date or "undated"}'
            f"  (score {p.score:.2f})"
        )
        for other in p.also_reported_by:
            lines.append(f"     also: {other.publisher or other.doc_id}, {other.date or 'undated'}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
