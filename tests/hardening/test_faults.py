"""Faults: a broken index stops `qa serve` with one line naming the fix (or is rebuilt with --rebuild), a
killed `qa index` leaves the previous index loadable, and unreadable source files are skipped by name.

These are the local backend's files (``current``, dense.faiss, bm25/), so every test here runs on it
whatever QA_BACKEND says; the Qdrant backend's faults (a collection that is missing, stale, without
its manifest or disagreeing with it; an engine unreachable or stalled) are in tests/test_backends.py
and tests/hardening/test_engine_faults.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.runner import LiveServer, qa_command, qa_env
from qa_service import cli
from qa_service.errors import QAError
from qa_service.index_store import build_index, index_status
from qa_service.service import QAService
from qa_service.settings import Settings, load_settings
from tests.conftest import FIXTURES, ROOT, SEEDS
from tests.fakes import HashEmbedder
from tests.hardening.conftest import NORMAL_QUESTION, http_call, post_json, run_qa


@pytest.fixture(autouse=True)
def local_backend(monkeypatch) -> None:
    """The CLI, `qa` subprocesses and settings made here use the local backend."""
    monkeypatch.setenv("QA_BACKEND", "local")


@pytest.fixture
def seed_index(backend_service, tmp_path: Path) -> Path:
    """A private copy of the seed index on the local backend (built with the real model)."""
    target = tmp_path / "index"
    shutil.copytree(backend_service("local").settings.index_dir, target, symlinks=True)
    return target


def build_of(index: Path) -> Path:
    return (index / "current").resolve()


def truncate(name: str) -> Callable[[Path], None]:
    def damage(index: Path) -> None:
        path = build_of(index) / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    return damage


def flip_byte(name: str) -> Callable[[Path], None]:
    def damage(index: Path) -> None:
        path = build_of(index) / name
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))

    return damage


def delete(name: str) -> Callable[[Path], None]:
    def damage(index: Path) -> None:
        target = build_of(index) / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()

    return damage


def rewrite_manifest(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(index: Path) -> None:
        path = build_of(index) / "manifest.json"
        data = json.loads(path.read_text())
        path.write_text(json.dumps(change(data)))

    return damage


def garble_manifest(index: Path) -> None:
    (build_of(index) / "manifest.json").write_text('{"format_version": 1, "model": ')


def remove_everything(index: Path) -> None:
    shutil.rmtree(index)
    index.mkdir()


def remove_the_build(index: Path) -> None:
    shutil.rmtree(build_of(index))  # `current` now points nowhere


def current_points_at_a_file(index: Path) -> None:
    (index / "not-a-build").write_text("x")
    (index / "current").unlink()
    (index / "current").symlink_to("not-a-build")


def zero_with_matching_checksum(name: str) -> Callable[[Path], None]:
    """Overwrite a file with zeros and record their size and hash: only loading it shows the damage."""

    def damage(index: Path) -> None:
        path = build_of(index) / name
        size = path.stat().st_size
        path.write_bytes(bytes(size))
        manifest_path = build_of(index) / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest["files"][name] = {"bytes": size, "sha256": hashlib.sha256(bytes(size)).hexdigest()}
        manifest_path.write_text(json.dumps(manifest))

    return damage


def fault_id(case) -> str:
    return case.values[0] if hasattr(case, "values") else case[0]


REBUILD = "run `qa index --force` (or `make serve`, which rebuilds a stale index)"
# (id, damage, what the one line must say)
FAULTS = [
    ("no index at all", remove_everything, ["error: no index in", "run `qa index`"]),
    ("current points nowhere", remove_the_build, ["error: no index in", "run `qa index`"]),
    ("current points at a file", current_points_at_a_file, ["current points at", "not a build folder", REBUILD]),
    ("truncated dense.faiss", truncate("dense.faiss"), ["index file dense.faiss is truncated or altered", REBUILD]),
    ("truncated passages", truncate("passages.jsonl"), ["index file passages.jsonl is truncated", REBUILD]),
    ("truncated BM25", truncate("bm25/vocab.index.json"), ["bm25/vocab.index.json is truncated", REBUILD]),
    ("flipped byte", flip_byte("sentence_vectors.npy"), ["sentence_vectors.npy is corrupted (checksum", REBUILD]),
    ("flipped byte in faiss", flip_byte("dense.faiss"), ["dense.faiss is corrupted (checksum mismatch)", REBUILD]),
    ("missing vectors", delete("passage_vectors.npy"), ["index file passage_vectors.npy is missing", REBUILD]),
    ("missing BM25 folder", delete("bm25"), ["is missing", REBUILD]),
    ("missing manifest", delete("manifest.json"), ["has no manifest", REBUILD]),
    ("garbled manifest", garble_manifest, ["index manifest at", "is not valid JSON", REBUILD]),
    ("manifest lacks fields", rewrite_manifest(lambda d: {"model": d["model"]}), ["index manifest lacks", REBUILD]),
    ("manifest is a list", rewrite_manifest(lambda d: [d]), ["index manifest at", "is not a JSON object", REBUILD]),
    (
        "manifest files is a string",
        rewrite_manifest(lambda d: {**d, "files": "dense.faiss"}),
        ["index manifest has invalid fields: files: Input should be a valid dictionary", REBUILD],
    ),
    (
        "manifest dimension not an integer",
        rewrite_manifest(lambda d: {**d, "dimension": "384"}),
        ["index manifest has invalid fields: dimension: Input should be a valid integer (got '384')", REBUILD],
    ),
    (
        "zeroed dense.faiss, checksum matching",
        zero_with_matching_checksum("dense.faiss"),
        ["index file dense.faiss in", "cannot be read (RuntimeError)", REBUILD],
    ),
    (
        "zeroed vectors, checksum matching",
        zero_with_matching_checksum("passage_vectors.npy"),
        ["index file passage_vectors.npy in", "cannot be read", REBUILD],
    ),
    (
        "manifest disagrees",
        rewrite_manifest(lambda d: {**d, "passages": d["passages"] + 5}),
        ["index files disagree with the manifest", REBUILD],
    ),
]


@pytest.mark.parametrize(("name", "damage", "phrases"), FAULTS, ids=[fault_id(f) for f in FAULTS])
def test_qa_serve_refuses_a_broken_index_with_one_line(seed_index: Path, name, damage, phrases) -> None:
    damage(seed_index)
    result = run_qa("--index-dir", str(seed_index), "serve", "--port", "0", "--source", str(SEEDS), timeout=120)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback, no half-started server
    assert "Traceback" not in result.stderr and "serving on" not in result.stderr + result.stdout
    for phrase in phrases:
        assert phrase in lines[0]


def test_qa_serve_refuses_an_index_of_other_sources(seed_index: Path, source_copy: Path) -> None:
    edited = source_copy / "002_ab862d0e136790e3.txt"
    edited.write_text(edited.read_text() + "\nA sentence added after the index was built.\n")
    result = run_qa("--index-dir", str(seed_index), "serve", "--port", "0", "--source", str(source_copy))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "changed since the index was built" in result.stderr and REBUILD in result.stderr


def listening_on(port: int) -> set[str]:
    from tests.hardening.test_security import listening_addresses

    return listening_addresses(port)


@pytest.mark.parametrize(("name", "damage", "phrases"), FAULTS, ids=[fault_id(f) for f in FAULTS])
def test_qa_documents_names_a_broken_index_in_one_line(seed_index: Path, name, damage, phrases) -> None:
    damage(seed_index)
    result = CliRunner().invoke(cli.main, ["--index-dir", str(seed_index), "documents", "--source", str(SEEDS)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and result.stdout == "", result.output
    for phrase in phrases:
        assert phrase in lines[0]


@pytest.fixture
def hash_index(tmp_path: Path) -> tuple[Settings, Path]:
    """The seeds indexed with the fast stand-in model: settings and the index folder."""
    settings = load_settings(source_dir=SEEDS, index_dir=tmp_path / "hash-index", model="hash-test-model")
    build_index(settings, HashEmbedder())
    return settings, settings.index_dir


@pytest.mark.parametrize(("name", "damage", "phrases"), FAULTS, ids=[fault_id(f) for f in FAULTS])
def test_rebuild_repairs_every_index_that_cannot_be_loaded(hash_index, name, damage, phrases) -> None:
    """What `qa serve --rebuild` does (QAService.open(rebuild=True)), for each broken index above."""
    settings, index = hash_index
    damage(index)
    with pytest.raises(QAError):
        QAService.open(settings, embedder=HashEmbedder())  # without --rebuild: refused
    service = QAService.open(settings, rebuild=True, embedder=HashEmbedder())
    try:
        assert service.index.manifest.documents == 5 and service.ask("Treasuries").passages
        assert index_status(settings) is None  # and `qa index` now finds it current
    finally:
        service.close()


@pytest.mark.slow
@pytest.mark.live
def test_qa_serve_rebuild_repairs_an_index_that_only_fails_to_load_and_binds_loopback(seed_index: Path) -> None:
    """A zeroed FAISS file whose size and hash the manifest records: its files check out, it cannot be loaded."""
    old_build = build_of(seed_index)
    old_manifest = json.loads((old_build / "manifest.json").read_text())
    zero_with_matching_checksum("dense.faiss")(seed_index)
    with LiveServer.subprocess(seed_index, SEEDS, args=["--rebuild"]) as server:
        # No --host given: the default is loopback, and only loopback is listening.
        assert server.url.startswith("http://127.0.0.1:")
        if Path("/proc/net/tcp").exists():
            assert listening_on(server.port) == {"127.0.0.1"}
        assert any("building the index: index file dense.faiss in" in line for line in server.log), server.log
        health = json.loads(http_call(server.url, "GET", "/api/health").body)
        answer = post_json(server.url, "/api/ask", json.dumps({"question": NORMAL_QUESTION}))
        assert answer.status == 200 and answer.json()["abstained"] is False
    assert server.exit_code == 0, server.log  # SIGTERM stops it cleanly
    assert health["passages"] == old_manifest["passages"] and health["built_at"] >= old_manifest["built_at"]
    assert build_of(seed_index) != old_build and not old_build.exists()  # the broken build was replaced


def read_stream(stream, sink: list[str]) -> None:
    """Collect a child's stderr; tqdm redraws with carriage returns, so split on those too."""
    for chunk in iter(lambda: stream.read(256), ""):
        sink.append(chunk)


def larger_source(folder: Path, copies: int = 2) -> Path:
    """The seeds and ``copies`` renamed copies of each: three times the embedding work of the seeds."""
    shutil.copytree(SEEDS, folder)
    for path in sorted(SEEDS.glob("*.txt")):
        for n in range(copies):
            (folder / f"copy{n}_{path.name}").write_bytes(path.read_bytes())
    return folder


@pytest.mark.slow
def test_sigkill_of_qa_index_mid_embedding_leaves_the_previous_index(seed_index: Path, tmp_path: Path) -> None:
    before = build_of(seed_index)
    source = larger_source(tmp_path / "larger")  # the index of the seeds is stale for it: a build starts
    command = [*qa_command(), "--index-dir", str(seed_index), "index", "--source", str(source)]
    process = subprocess.Popen(
        command, cwd=ROOT, env=qa_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    output: list[str] = []
    reader = threading.Thread(target=read_stream, args=(process.stderr, output), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 180
        while "Batches" not in "".join(output) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        embedding = "Batches" in "".join(output) and process.poll() is None
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
        reader.join(10)
    text = "".join(output)
    assert embedding, f"qa index never reached the embedding step:\n{text[-2000:]}"
    assert "building index (sources in" in text and "indexed" not in text  # killed before it finished
    assert process.returncode == -signal.SIGKILL
    assert build_of(seed_index) == before  # `current` still points at the previous build
    result = run_qa("--index-dir", str(seed_index), "documents", "--source", str(SEEDS), "--json")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 5
    builds = [p.name for p in (seed_index / "builds").iterdir()]
    assert builds == [before.name]  # killed before writing: no half-written build was left either


@pytest.mark.slow
def test_qa_index_skips_unreadable_files_by_name_and_builds(tmp_path: Path) -> None:
    source = tmp_path / "sources"
    shutil.copytree(FIXTURES / "mixed", source)
    (source / "empty.txt").write_bytes(b"")
    (source / "binary.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50)
    (source / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me: a story about harbours and ferries.".encode("latin-1"))
    (source / "huge.md").write_bytes(b"word " * (2 << 20))  # 10 MiB, over QA_MAX_FILE_BYTES (5 MB)
    (source / "utf16-no-bom.txt").write_bytes("A story told in UTF-16 without a byte order mark.".encode("utf-16-le"))
    index = tmp_path / "index"
    result = CliRunner().invoke(cli.main, ["--index-dir", str(index), "index", "--source", str(source)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    for expected in [
        "warning: skipped empty.txt: empty file",
        "warning: skipped binary.html: binary content (NUL bytes)",
        "warning: skipped latin1.txt: unknown encoding (not UTF-8 at byte 3)",
        "warning: skipped huge.md: too large (10,485,760 bytes > 5,000,000)",
        "warning: skipped utf16-no-bom.txt: binary content (NUL bytes)",
    ]:
        assert expected in warnings, (expected, warnings)
    assert "indexed 2 documents" in result.stdout
    listed = CliRunner().invoke(cli.main, ["--index-dir", str(index), "documents", "--source", str(source), "--json"])
    assert {row["doc_id"] for row in json.loads(listed.stdout)} == {"harbour-report", "orchard"}
