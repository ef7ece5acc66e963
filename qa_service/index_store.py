"""Build, persist and load the index: FAISS + BM25 + passages, with a manifest, written atomically."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .chunking import shingles
from .corpus import PIPELINE_VERSION, Corpus, build_corpus, corpus_fingerprint
from .domain import Document, Passage
from .embedding import Embedder
from .errors import IndexCorruptError, IndexMissingError, IndexStaleError
from .settings import Settings
from .terms import idf_table, terms

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT = "current"
BUILDS = "builds"
REBUILD_HINT = "run `qa index --force` (or `make serve`, which rebuilds a stale index)"
# Files above this size are checked by size only at load; smaller ones by SHA-256 too.
HASH_LIMIT = 256 * 1024 * 1024
TERMS_CACHE = 200_000


class IndexFile(BaseModel):
    """One file of a build as the manifest records it: its size and, for checking, its SHA-256."""

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Manifest(BaseModel):
    """What an index was built from, validated on load: a malformed field is one line naming it, never a traceback.

    Strict: the manifest is written by ``write_index``, so a value of another type (``"384"`` for a
    dimension) means the file was altered, and the index is refused rather than guessed at.
    """

    model_config = ConfigDict(strict=True, frozen=True, extra="forbid", protected_namespaces=())

    format_version: int
    model: str
    dimension: int = Field(ge=1)
    documents: int = Field(ge=0)
    passages: int = Field(ge=0)
    sentences: int = Field(ge=0)
    fingerprint: str
    pipeline_version: str
    faiss_index: str
    built_at: str
    versions: dict[str, str | None]
    files: dict[str, IndexFile]

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        """The manifest in ``data`` (parsed JSON); raises IndexCorruptError naming every missing or bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise IndexCorruptError(_manifest_problems(exc), hint=REBUILD_HINT) from None


def _manifest_problems(exc: ValidationError) -> str:
    """One line: the fields that are missing, then each malformed one with what was expected."""
    missing = sorted(str(err["loc"][0]) for err in exc.errors() if err["type"] == "missing" and len(err["loc"]) == 1)
    invalid = [
        f"{'.'.join(str(p) for p in err['loc']) or 'manifest'}: {err['msg']}"
        + (f" (got {err['input']!r:.40})" if isinstance(err["input"], str | int | float | bool | None) else "")
        for err in exc.errors()
        if not (err["type"] == "missing" and len(err["loc"]) == 1)
    ]
    parts = [f"index manifest lacks {missing}"] if missing else []
    if invalid:
        parts.append(f"{'' if missing else 'index manifest '}has invalid fields: {'; '.join(invalid)}")
    return "; ".join(parts)


@dataclass
class LoadedIndex:
    """Everything a question needs, in memory, immutable once loaded (swapped whole on re-index)."""

    path: Path
    manifest: Manifest
    documents: dict[str, Document]
    passages: list[Passage]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    dense: object  # faiss.Index
    bm25: object  # bm25s.BM25
    idf: dict[str, float]
    default_idf: float

    def __post_init__(self) -> None:
        # Per-passage analysis is reused by every question that retrieves the passage; bounded so a
        # million-passage index does not grow without limit.
        self.passage_terms = lru_cache(maxsize=TERMS_CACHE)(self._passage_terms)
        self.sentence_terms = lru_cache(maxsize=TERMS_CACHE)(self._sentence_terms)
        self.passage_shingles = lru_cache(maxsize=TERMS_CACHE)(self._passage_shingles)

    @cached_property
    def passage_counts(self) -> Counter[str]:
        """Passages per document, counted once per loaded index."""
        return Counter(p.doc_id for p in self.passages)

    def _passage_terms(self, passage_id: int) -> frozenset[str]:
        return frozenset(terms(self.passages[passage_id].text))

    def _sentence_terms(self, passage_id: int) -> tuple[frozenset[str], ...]:
        passage = self.passages[passage_id]
        return tuple(frozenset(terms(passage.text[s:e])) for s, e in passage.sentences)

    def _passage_shingles(self, passage_id: int) -> frozenset[tuple[str, ...]]:
        return frozenset(shingles(self.passages[passage_id].text))


def _bm25s():
    """bm25s, imported late (slow) and with the DEBUG logging it switches on at import turned back off."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _versions() -> dict:
    names = ("sentence-transformers", "faiss-cpu", "bm25s", "torch", "numpy", "qa-service")
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def choose_faiss_index(vectors: np.ndarray, exact_limit: int):
    """Exact inner product up to ``exact_limit`` passages, HNSW above it; returns the index and its manifest label.

    HNSW with M=24 and efConstruction=40 builds about 3x faster on two cores than M=32/80 did
    (100k passages: 13 s against 45 s) at the same recall@10 (0.996 at efSearch=128, measured by
    `qa bench`; see docs/performance.md). HNSW rather than IVF, which built about as fast, because
    an IVF index refuses the plain ``faiss.SearchParameters`` that filtered retrieval passes.
    """
    import faiss

    n, dim = vectors.shape
    if n <= exact_limit:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index, "IndexFlatIP"
    index = faiss.IndexHNSWFlat(dim, 24, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 40
    index.hnsw.efSearch = 128
    index.add(vectors)
    return index, "IndexHNSWFlat(M=24,efConstruction=40,efSearch=128)"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), "utf-8")


def write_index(
    corpus: Corpus,
    passage_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    settings: Settings,
    model_name: str,
    fingerprint: str,
) -> Path:
    """Write a complete build into a fresh folder, then point ``current`` at it atomically."""
    import faiss

    bm25s = _bm25s()
    root = settings.index_dir
    builds = root / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = builds / f".tmp-{build_id}"
    tmp.mkdir()
    try:
        dense, dense_kind = choose_faiss_index(passage_vectors, settings.exact_index_limit)
        faiss.write_index(dense, str(tmp / "dense.faiss"))
        np.save(tmp / "passage_vectors.npy", passage_vectors)
        np.save(tmp / "sentence_vectors.npy", sentence_vectors.astype(np.float16))
        passage_terms = [terms(p.text) for p in corpus.passages]
        retriever = bm25s.BM25()
        retriever.index(passage_terms, show_progress=False)
        retriever.save(str(tmp / "bm25"), show_progress=False)
        _write_json(tmp / "idf.json", idf_table(passage_terms))
        _write_json(tmp / "documents.json", [dataclasses.asdict(d) for d in corpus.documents])
        with (tmp / "passages.jsonl").open("w", encoding="utf-8") as fh:
            for passage in corpus.passages:
                fh.write(json.dumps(dataclasses.asdict(passage), ensure_ascii=False) + "\n")
        files = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            files[str(path.relative_to(tmp))] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            model=model_name,
            dimension=int(passage_vectors.shape[1]),
            documents=len(corpus.documents),
            passages=len(corpus.passages),
            sentences=int(sentence_vectors.shape[0]),
            fingerprint=fingerprint,
            pipeline_version=PIPELINE_VERSION,
            faiss_index=dense_kind,
            built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            versions=_versions(),
            files=files,
        )
        _write_json(tmp / "manifest.json", manifest.model_dump(mode="json"))  # written last: marks completeness
        for path in tmp.rglob("*"):
            if path.is_file():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        final = builds / build_id
        tmp.rename(final)
        _point_current(root, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(builds, keep=final)
    return final


def _point_current(root: Path, build: Path) -> None:
    link = root / CURRENT
    tmp_link = root / f".{CURRENT}-{uuid.uuid4().hex[:6]}"
    tmp_link.symlink_to(build.relative_to(root))
    os.replace(tmp_link, link)  # atomic on POSIX: readers see the old build or the new one


def _prune(builds: Path, keep: Path) -> None:
    """Remove older builds and leftovers of crashed ones (the kept build stays)."""
    for path in builds.iterdir():
        if path != keep:
            shutil.rmtree(path, ignore_errors=True)


def build_index(settings: Settings, embedder: Embedder, progress: bool = False) -> Path:
    fingerprint = corpus_fingerprint(settings)
    corpus = build_corpus(settings)
    sentences = [p.text[s:e] for p in corpus.passages for s, e in p.sentences]
    log.info("embedding %d passages and %d sentences", len(corpus.passages), len(sentences))
    passage_vectors = embedder.encode([p.text for p in corpus.passages], progress=progress)
    sentence_vectors = embedder.encode(sentences, progress=progress)
    return write_index(corpus, passage_vectors, sentence_vectors, settings, embedder.name, fingerprint)


def current_build(settings: Settings) -> Path:
    """The build folder ``current`` points at; IndexMissingError when there is none, IndexCorruptError when
    it points at something that is not a folder."""
    link = settings.index_dir / CURRENT
    if not link.exists():
        raise IndexMissingError(f"no index in {settings.index_dir}", hint="run `qa index` (or `make serve`)")
    build = link.resolve()
    if not build.is_dir():
        raise IndexCorruptError(f"{link} points at {build}, which is not a build folder", hint=REBUILD_HINT)
    return build


def read_manifest(build: Path) -> Manifest:
    try:
        data = json.loads((build / "manifest.json").read_text("utf-8"))
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"index at {build} has no manifest", hint=REBUILD_HINT) from exc
    except OSError as exc:
        raise IndexCorruptError(
            f"index manifest at {build} cannot be read ({exc.strerror})", hint=REBUILD_HINT
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"index manifest at {build} is not valid JSON", hint=REBUILD_HINT) from exc
    if not isinstance(data, dict):
        raise IndexCorruptError(f"index manifest at {build} is not a JSON object", hint=REBUILD_HINT)
    return Manifest.from_json(data)


def check_files(build: Path, manifest: Manifest) -> None:
    for name, expected in manifest.files.items():
        path = build / name
        if not path.is_file():
            raise IndexCorruptError(f"index file {name} is missing", hint=REBUILD_HINT)
        if path.stat().st_size != expected.bytes:
            raise IndexCorruptError(
                f"index file {name} is truncated or altered ({path.stat().st_size} of {expected.bytes} bytes)",
                hint=REBUILD_HINT,
            )
        if expected.bytes <= HASH_LIMIT and _sha256(path) != expected.sha256:
            raise IndexCorruptError(f"index file {name} is corrupted (checksum mismatch)", hint=REBUILD_HINT)


def staleness(settings: Settings, manifest: Manifest) -> str | None:
    """Why an index cannot serve these settings, or None when it can."""
    if manifest.format_version != FORMAT_VERSION:
        return f"index format {manifest.format_version} is not {FORMAT_VERSION}"
    if manifest.model != settings.model:
        return f"index was built with model {manifest.model!r}, settings ask for {settings.model!r}"
    if manifest.fingerprint != corpus_fingerprint(settings):
        return f"sources in {settings.source_dir} changed since the index was built"
    return None


def index_status(settings: Settings) -> str | None:
    """None when the current index loads and serves these settings; otherwise the reason it must be (re)built.

    It is loaded, not just checked against its manifest: a file can match its checksum and still not load.
    """
    try:
        load_index(settings)
    except (IndexMissingError, IndexCorruptError, IndexStaleError) as exc:
        return exc.message
    return None


@contextmanager
def _reading(build: Path, name: str) -> Iterator[None]:
    """Any failure to read file ``name`` of ``build`` as one IndexCorruptError naming it.

    A file can match its recorded size and checksum and still not load (written zeroed, or by another
    library version); each library raises its own kind of error for that, so every kind is caught here.
    """
    try:
        yield
    except Exception as exc:
        raise IndexCorruptError(
            f"index file {name} in {build} cannot be read ({exc.__class__.__name__})", hint=REBUILD_HINT
        ) from exc


def load_index(settings: Settings, check_sources: bool = True) -> LoadedIndex:
    """Load the current build, refusing one that is corrupt or was built for other sources or model."""
    import faiss

    bm25s = _bm25s()
    build = current_build(settings)
    manifest = read_manifest(build)
    check_files(build, manifest)
    reason = staleness(settings, manifest) if check_sources else None
    if reason:
        raise IndexStaleError(reason, hint=REBUILD_HINT)
    with _reading(build, "documents.json"):
        documents = {
            d["doc_id"]: Document(**{**d, "warnings": tuple(d["warnings"])})
            for d in json.loads((build / "documents.json").read_text("utf-8"))
        }
    with _reading(build, "passages.jsonl"):
        passages = []
        with (build / "passages.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                data = json.loads(line)
                data["sentences"] = tuple(tuple(s) for s in data["sentences"])
                passages.append(Passage(**data))
    with _reading(build, "passage_vectors.npy"):
        passage_vectors = np.load(build / "passage_vectors.npy")
    with _reading(build, "sentence_vectors.npy"):
        sentence_vectors = np.load(build / "sentence_vectors.npy").astype(np.float32)
    with _reading(build, "dense.faiss"):
        dense = faiss.read_index(str(build / "dense.faiss"))
    with _reading(build, "bm25"):
        bm25 = bm25s.BM25.load(str(build / "bm25"), show_progress=False, verbosity=0)
    with _reading(build, "idf.json"):
        idf = {str(term): float(value) for term, value in json.loads((build / "idf.json").read_text("utf-8")).items()}
    shapes = (len(passages), passage_vectors.shape, dense.ntotal, dense.d, len(sentence_vectors))
    expected = (manifest.passages, (manifest.passages, manifest.dimension), manifest.passages, manifest.dimension)
    if shapes != (*expected, manifest.sentences):
        raise IndexCorruptError("index files disagree with the manifest", hint=REBUILD_HINT)
    return LoadedIndex(
        path=build,
        manifest=manifest,
        documents=documents,
        passages=passages,
        passage_vectors=passage_vectors,
        sentence_vectors=sentence_vectors,
        dense=dense,
        bm25=bm25,
        idf=idf,
        default_idf=max(idf.values(), default=1.0),
    )
