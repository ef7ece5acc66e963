"""Build, persist and load the index: FAISS + BM25 + passages + their analysis, with a manifest, written atomically.

Loading memory-maps what it can (vectors, the flat FAISS index, BM25 and analysis arrays), so a
large index costs page cache rather than a copy per process, and nothing is computed per question
that could have been computed once here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .corpus import PIPELINE_VERSION, Corpus, build_corpus, corpus_fingerprint
from .domain import AskOptions, Document, Passage
from .embedding import Embedder, ModelIdentity, compatible, served_identity
from .errors import IndexCorruptError, IndexMissingError, IndexStaleError
from .passage_analysis import Analysis, analyse, mapped
from .settings import Settings
from .terms import idf_table, terms

log = logging.getLogger(__name__)

# 2: per-passage analysis files; the backend, model checksum and parity of the vectors in the manifest.
FORMAT_VERSION = 2
CURRENT = "current"
BUILDS = "builds"
REBUILD_HINT = "run `qa index --force` (or `make serve`, which rebuilds a stale index)"
# Files above this size are checked by size only at load; smaller ones by SHA-256 too.
HASH_LIMIT = 256 * 1024 * 1024


@dataclass(frozen=True)
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
    # What made the vectors (None for a model that is not a local folder, e.g. a test double):
    embed_backend: str | None  # "onnx", "onnx-int8" or "torch"
    model_sha256: str | None  # of the ONNX file, or of the model folder for torch
    reference_sha256: str | None  # of the model folder the backend was checked against
    parity_cosine: float | None  # lowest probe cosine between this backend's vectors and torch's

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        """The manifest in ``data`` (parsed JSON); raises IndexCorruptError naming every missing or bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise IndexCorruptError(_manifest_problems(exc), hint=REBUILD_HINT) from None

    @property
    def identity(self) -> ModelIdentity | None:
        if self.model_sha256 is None:
            return None
        return ModelIdentity(self.embed_backend, self.model_sha256, self.reference_sha256, self.parity_cosine)


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


class HalfVectors:
    """Vectors kept as stored, float16 and memory-mapped; the rows a question reads come back as float32."""

    dtype = np.dtype(np.float32)

    def __init__(self, data: np.ndarray) -> None:
        self.data = data

    def __getitem__(self, key) -> np.ndarray:
        return np.asarray(self.data[key], dtype=np.float32)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape


@dataclass(frozen=True)
class DocumentColumns:
    """Per-document columns and each passage's document: filters evaluated in numpy, not per passage in Python."""

    ids: np.ndarray  # doc_id
    dates: np.ndarray  # YYYY-MM-DD, "" when unknown
    publishers: np.ndarray  # case-folded, "" when unknown
    of_passage: np.ndarray  # index into these columns, per passage id

    @classmethod
    def of(cls, documents: dict[str, Document], passages: list[Passage]) -> DocumentColumns:
        docs = list(documents.values())
        row = {doc.doc_id: i for i, doc in enumerate(docs)}
        return cls(
            np.array([d.doc_id for d in docs], dtype=str),
            np.array([d.date or "" for d in docs], dtype=str),
            np.array([(d.publisher or "").casefold() for d in docs], dtype=str),
            np.fromiter((row[p.doc_id] for p in passages), dtype=np.int32, count=len(passages)),
        )


@dataclass
class LoadedIndex:
    """Everything a question needs, in memory, immutable once loaded (swapped whole on re-index)."""

    path: Path
    manifest: Manifest
    documents: dict[str, Document]
    passages: list[Passage]
    passage_vectors: np.ndarray  # float32, memory-mapped
    sentence_vectors: HalfVectors
    dense: object  # faiss.Index
    bm25: object  # bm25s.BM25
    idf: dict[str, float]
    default_idf: float
    analysis: Analysis
    exact_limit: int = field(default=20_000)  # filters that keep at most this many passages are searched exactly

    @cached_property
    def passage_counts(self) -> Counter[str]:
        """Passages per document, counted once per loaded index."""
        return Counter(p.doc_id for p in self.passages)

    @cached_property
    def document_columns(self) -> DocumentColumns:
        """Built once per loaded index, for ``filter_passages``."""
        return DocumentColumns.of(self.documents, self.passages)

    def filter_passages(self, options: AskOptions) -> np.ndarray | None:
        """Ids of the passages that pass ``options``' date, publisher and document filters (None: no filter).

        The same passages as ``retrieval.allowed_ids``, which walks every document and passage in
        Python per question (~100 ms at a million passages); this takes a few milliseconds.
        """
        if not (options.since or options.until or options.publishers or options.doc_ids):
            return None
        columns = self.document_columns
        keep = np.ones(len(columns.ids), dtype=bool)
        if options.doc_ids:
            keep &= np.isin(columns.ids, list(options.doc_ids))
        if options.publishers:
            keep &= np.isin(columns.publishers, [p.casefold() for p in options.publishers])
        if options.since:
            keep &= (columns.dates != "") & (columns.dates >= options.since)
        if options.until:
            keep &= (columns.dates != "") & (columns.dates <= options.until)
        return np.flatnonzero(keep[columns.of_passage]).astype(np.int64)

    def passage_terms(self, passage_id: int) -> frozenset[str]:
        return self.analysis.terms_of(passage_id)

    def sentence_terms(self, passage_id: int) -> tuple[frozenset[str], ...]:
        passage = self.passages[passage_id]
        return self.analysis.sentence_terms_of(passage.first_sentence, len(passage.sentences))

    def passage_shingles(self, passage_id: int) -> frozenset[int]:
        """Hashes of the passage's word 4-grams (``chunking.shingles``): only ever compared with each other."""
        return self.analysis.shingles_of(passage_id)

    def search_dense(self, qvec: np.ndarray, n: int, allowed: np.ndarray | None = None) -> dict[int, float]:
        """The ``n`` passages nearest ``qvec`` (id -> inner product), among ``allowed`` ids when given.

        A filter that keeps at most ``exact_limit`` passages is searched exactly over those passages'
        vectors: a graph (HNSW) search under a narrow filter loses recall, and a scan of a few thousand
        vectors is cheap. A wider filter goes to FAISS with an id selector (HNSW with its own efSearch).
        """
        import faiss

        query = np.ascontiguousarray(qvec, dtype=np.float32).reshape(1, -1)
        if allowed is not None and len(allowed) <= self.exact_limit:
            # FAISS's own scan, not numpy's `@`: numpy's multi-threaded BLAS took 8.7 ms for 1,200 rows
            # on two shared cores, against 0.16 ms here.
            scores, rows = faiss.knn(query, self.passage_vectors[allowed], n, metric=faiss.METRIC_INNER_PRODUCT)
            return {int(allowed[r]): float(s) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0}
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(allowed)
            hnsw = getattr(self.dense, "hnsw", None)
            if hnsw is not None:
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(hnsw.efSearch, n))
            else:
                params = faiss.SearchParameters(sel=selector)
        scores, ids = self.dense.search(query, n, params=params)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}


def _bm25s():
    """bm25s, imported late (slow) and with the DEBUG logging it switches on at import turned back off."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _versions() -> dict:
    names = ("sentence-transformers", "onnxruntime", "tokenizers", "faiss-cpu", "bm25s", "torch", "numpy", "qa-service")
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


@dataclass(frozen=True)
class WrittenIndex:
    """A complete build: its folder, and seconds per stage of writing it (``faiss_s``, ``tokenise_s``, ...)."""

    path: Path
    timings: dict[str, float]


class _Stages:
    """Seconds per named stage, for the build's own report."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[f"{name}_s"] = round(self.seconds.get(f"{name}_s", 0.0) + now - self._last, 3)
        self._last = now


def write_index(
    corpus: Corpus,
    passage_vectors: np.ndarray,
    sentence_vectors: np.ndarray,
    settings: Settings,
    model_name: str,
    fingerprint: str,
    identity: ModelIdentity | None = None,
) -> WrittenIndex:
    """Write a complete build into a fresh folder, then point ``current`` at it atomically.

    ``identity`` records which backend and model file made the vectors (None: not known).
    """
    import faiss

    bm25s = _bm25s()
    stages = _Stages()
    root = settings.index_dir
    builds = root / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = builds / f".tmp-{build_id}"
    tmp.mkdir()
    try:
        dense, dense_kind = choose_faiss_index(passage_vectors, settings.exact_index_limit)
        stages.done("faiss")
        faiss.write_index(dense, str(tmp / "dense.faiss"))
        del dense
        np.save(tmp / "passage_vectors.npy", passage_vectors)
        np.save(tmp / "sentence_vectors.npy", sentence_vectors.astype(np.float16))
        stages.done("vectors_write")
        passage_terms = [terms(p.text) for p in corpus.passages]
        stages.done("tokenise")
        retriever = bm25s.BM25()
        retriever.index(passage_terms, show_progress=False)
        retriever.save(str(tmp / "bm25"), show_progress=False)
        del retriever
        _write_json(tmp / "idf.json", idf_table(passage_terms))
        stages.done("bm25")
        analyse(corpus.passages, passage_terms).save(tmp)
        del passage_terms
        stages.done("analysis")
        _write_json(tmp / "documents.json", [dataclasses.asdict(d) for d in corpus.documents])
        with (tmp / "passages.jsonl").open("w", encoding="utf-8") as fh:
            for passage in corpus.passages:
                fh.write(json.dumps(dataclasses.asdict(passage), ensure_ascii=False) + "\n")
        stages.done("passages_write")
        files = {}
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            files[str(path.relative_to(tmp))] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        stages.done("checksums")
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
            embed_backend=identity.backend if identity else None,
            model_sha256=identity.sha256 if identity else None,
            reference_sha256=identity.reference_sha256 if identity else None,
            parity_cosine=identity.parity_cosine if identity else None,
        )
        _write_json(tmp / "manifest.json", manifest.model_dump(mode="json"))  # written last: marks completeness
        for path in tmp.rglob("*"):
            if path.is_file():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        final = builds / build_id
        tmp.rename(final)
        _point_current(root, final)
        stages.done("commit")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(builds, keep=final)
    return WrittenIndex(final, stages.seconds)


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
    """Read, clean, chunk and embed the sources, then write the build; returns its folder."""
    fingerprint = corpus_fingerprint(settings)
    corpus = build_corpus(settings)
    sentences = [p.text[s:e] for p in corpus.passages for s, e in p.sentences]
    log.info("embedding %d passages and %d sentences", len(corpus.passages), len(sentences))
    identity = getattr(embedder, "identity", None)  # test doubles have none
    passage_vectors = embedder.encode([p.text for p in corpus.passages], progress=progress)
    sentence_vectors = embedder.encode(sentences, progress=progress)
    written = write_index(corpus, passage_vectors, sentence_vectors, settings, embedder.name, fingerprint, identity)
    log.info("index written to %s (%s)", written.path, written.timings)
    return written.path


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
    version = data.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version != FORMAT_VERSION:
        raise IndexStaleError(f"index format {version} is not {FORMAT_VERSION}", hint=REBUILD_HINT)
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
    variant = "onnx-int8" if settings.embed_int8 else settings.embed_backend
    return compatible(manifest.identity, served_identity(settings.model, variant, settings.model_cache_dir))


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


def _mmap_flag() -> int:
    """FAISS reads its index in place from the page cache where this build of FAISS can (zero-copy mmap)."""
    import faiss

    return getattr(faiss, "IO_FLAG_MMAP_IFC", faiss.IO_FLAG_MMAP)


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
        passage_vectors = mapped(build / "passage_vectors.npy")
    with _reading(build, "sentence_vectors.npy"):
        sentence_vectors = HalfVectors(mapped(build / "sentence_vectors.npy"))
    with _reading(build, "dense.faiss"):
        dense = faiss.read_index(str(build / "dense.faiss"), _mmap_flag())
    with _reading(build, "bm25"):
        bm25 = bm25s.BM25.load(str(build / "bm25"), show_progress=False, verbosity=0, mmap=True)
    with _reading(build, "idf.json"):
        idf = {str(term): float(value) for term, value in json.loads((build / "idf.json").read_text("utf-8")).items()}
    with _reading(build, "analysis"):
        analysis = Analysis.load(build)
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
        analysis=analysis,
        exact_limit=settings.filter_exact_limit,
    )
