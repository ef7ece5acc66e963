"""The ONNX export of a model folder, cached on disk with its checksums and its measured parity with torch.

An entry is ``<cache>/onnx/<folder name>-<key>/`` holding ``model.onnx`` (fp32), optionally
``model.int8.onnx``, the tokenizer, and ``export.json``: the SHA-256 of every file, the SHA-256 of
the source folder the export came from, and for each variant the lowest cosine between its vectors and
sentence-transformers' on the parity probes. The key is a digest of the source folder's path, file
sizes and modification times, so a changed model folder gets a new entry. Nothing here imports torch:
a missing or damaged entry is (re)made by ``python -m qa_service.embedding.export`` in a child process.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ModelError

log = logging.getLogger(__name__)

# Bump when the exported graph or the export's layout changes: every cache entry is made again.
EXPORT_VERSION = "1"
# Two sets of vectors are the same model for serving when every probe agrees to at least this cosine.
PARITY_MIN = 0.9999
VARIANT_FILES = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}
META = "export.json"
EXPORT_TIMEOUT_S = 900


@dataclass(frozen=True)
class ModelIdentity:
    """What makes an index's vectors: the backend, the SHA-256 of its model file, and its parity with torch.

    ``reference_sha256`` names the source model folder (weights, tokenizer, configs) that torch runs;
    ``parity_cosine`` is the lowest cosine between this backend's vectors and torch's on the probes
    (1.0 for torch itself).
    """

    backend: str
    sha256: str
    reference_sha256: str
    parity_cosine: float


def compatible(built: ModelIdentity | None, served: ModelIdentity | None) -> str | None:
    """None when vectors of ``served`` may be compared with an index built by ``built``; else why not.

    The same model file always may. Otherwise both must come from the same source weights, and the
    angles of both to torch, added (the worst case on the sphere), must stay within PARITY_MIN.
    """
    if built is None or served is None or built.sha256 == served.sha256:
        return None
    if built.reference_sha256 != served.reference_sha256:
        return f"index vectors come from other model weights than the {served.backend} backend serves"
    angle = math.acos(min(1.0, built.parity_cosine)) + math.acos(min(1.0, served.parity_cosine))
    bound = math.cos(angle)
    if bound >= PARITY_MIN:
        return None
    return (
        f"index was built with the {built.backend} backend; {served.backend} vectors agree with it only to "
        f"cosine {bound:.4f} (< {PARITY_MIN})"
    )


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "qa-service"


def sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@lru_cache(maxsize=64)
def _checked_sha256(path: Path, size: int, mtime_ns: int) -> str:
    """A file's SHA-256, computed once per process for as long as its size and modification time stand."""
    return sha256_file(path)


def current_sha256(path: Path) -> str:
    stat = path.stat()
    return _checked_sha256(path, stat.st_size, stat.st_mtime_ns)


def _source_files(location: Path) -> list[Path]:
    return sorted(p for p in location.rglob("*") if p.is_file() and not p.name.startswith("."))


def source_key(location: Path) -> str:
    """A cheap digest of the model folder (path, names, sizes, modification times) naming its cache entry."""
    digest = hashlib.sha256(f"{EXPORT_VERSION}|{location.resolve()}".encode())
    for path in _source_files(location):
        stat = path.stat()
        digest.update(f"|{path.relative_to(location)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def source_sha256(location: Path) -> str:
    """SHA-256 over every file of the model folder: the identity of the weights torch runs."""
    digest = hashlib.sha256()
    for path in _source_files(location):
        digest.update(f"{path.relative_to(location)}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Export:
    """One valid cache entry: its folder and the contents of its export.json."""

    folder: Path
    meta: dict

    def has(self, variant: str) -> bool:
        return variant in self.meta.get("variants", {})

    def path(self, variant: str) -> Path:
        return self.folder / VARIANT_FILES[variant]

    @property
    def tokenizer(self) -> Path:
        return self.folder / "tokenizer.json"

    def identity(self, variant: str) -> ModelIdentity:
        record = self.meta["variants"][variant]
        return ModelIdentity(variant, record["sha256"], self.meta["source_sha256"], record["parity_cosine"])


def entry_folder(location: Path, cache_dir: Path | None) -> Path:
    root = (cache_dir or default_cache_dir()) / "onnx"
    return root / f"{location.resolve().name}-{source_key(location)}"


def read_export(folder: Path, variants: tuple[str, ...] | None = None) -> Export | None:
    """The entry at ``folder`` when its export.json is readable and the files it lists have their checksums:
    all of them, or (``variants`` given) the tokenizer and those variants' models."""
    try:
        meta = json.loads((folder / META).read_text("utf-8"))
        if meta.get("export_version") != EXPORT_VERSION:
            return None
        names = list(meta["files"])
        if variants is not None:
            names = ["tokenizer.json", *(VARIANT_FILES[v] for v in variants if v in meta["variants"])]
        for name in names:
            expected = meta["files"][name]
            path = folder / name
            if (
                not path.is_file()
                or path.stat().st_size != expected["bytes"]
                or current_sha256(path) != expected["sha256"]
            ):
                log.warning("cached model export %s: %s is missing or altered; exporting again", folder, name)
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Export(folder, meta)


@contextmanager
def locked(folder: Path):
    """One exporter per entry at a time, across processes."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_export(location: Path, cache_dir: Path | None, int8: bool = False) -> Export:
    """The cache entry for ``location`` with the fp32 variant (and int8 when asked), exporting what is missing.

    The export runs torch in a child process (a minute or so, once per model folder and cache).
    Raises ModelError when it fails.
    """
    folder = entry_folder(location, cache_dir)
    wanted = ["onnx", *(["onnx-int8"] if int8 else [])]
    found = read_export(folder, tuple(wanted))
    if found and all(found.has(v) for v in wanted):
        return found
    with locked(folder):
        found = read_export(folder, tuple(wanted))  # another process may have made it while we waited
        if found and all(found.has(v) for v in wanted):
            return found
        log.warning("exporting %s to ONNX in %s (once per model and cache)", location, folder)
        command = [sys.executable, "-m", "qa_service.embedding.export", str(location), str(folder)]
        done = subprocess.run(
            command + (["--int8"] if int8 else []), capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S
        )
        found = read_export(folder, tuple(wanted))
    if done.returncode or not found or not all(found.has(v) for v in wanted):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(
            f"exporting {location} to ONNX failed: {last}", hint="set QA_EMBED_BACKEND=torch to serve without ONNX"
        )
    served_identity.cache_clear()
    return found


@lru_cache(maxsize=16)
def served_identity(name: str, variant: str, cache_dir: Path | None) -> ModelIdentity | None:
    """The identity of ``variant`` of model ``name`` (exporting it if needed); None when it is not a folder."""
    from . import resolve_model

    location = resolve_model(name)
    if not isinstance(location, Path):
        return None
    if variant == "torch":
        cached = read_export(entry_folder(location, cache_dir), ())  # saves hashing the weights again
        sha = cached.meta["source_sha256"] if cached else source_sha256(location)
        return ModelIdentity("torch", sha, sha, 1.0)
    return ensure_export(location, cache_dir, variant == "onnx-int8").identity(variant)
