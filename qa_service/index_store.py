"""Build, persist and load the index: passages + their analysis + a backend's search, with a manifest, atomically.

The build folder (documents, passages, vectors, analysis, IDF) is the same for every backend; the
backend (``backends/``: local FAISS + bm25s files, or a Qdrant collection) holds the search and makes a
build current. Loading memory-maps what it can (vectors, the flat FAISS index, BM25 and analysis
arrays), so a large index costs page cache rather than a copy per process, and nothing is computed per
question that could have been computed once here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .backends import BuildInput, Searcher, WrittenSearch, backend_for
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
    # Where it is searched (backends/): the build folder's own FAISS + bm25s files, or a Qdrant collection.
    backend: Literal["local", "qdrant"] = "local"
    collection: str | None = None  # the Qdrant collection (None for local)
    build_id: str | None = None  # the folder under builds/ (a Qdrant collection's manifest names its folder)

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


class Leases:
    """The requests using one loaded index, so what only it needs is dropped once the last of them ends."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()
        self._on_idle: Callable[[], None] | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._lock:
            self._count += 1
        try:
            yield
        finally:
            with self._lock:
                self._count -= 1
                run, self._on_idle = (self._on_idle, None) if self._count == 0 else (None, self._on_idle)
            if run is not None:
                run()

    def when_idle(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` once no request holds this index: now, or in the thread of the last one as it ends."""
        with self._lock:
            if self._count:
                self._on_idle = fn
                return
        fn()


@dataclass
class LoadedIndex:
    """Everything a question needs, in memory, immutable once loaded (swapped whole on re-index).

    The passage lookup (documents, passages, vectors, analysis) is the build folder's; finding candidates
    is the ``searcher``'s, whichever backend it is (``backends/``).
    """

    path: Path
    manifest: Manifest
    documents: dict[str, Document]
    passages: list[Passage]
    passage_vectors: np.ndarray  # float32, memory-mapped
    sentence_vectors: HalfVectors
    idf: dict[str, float]
    default_idf: float
    analysis: Analysis
    searcher: Searcher | None = None  # set by the backend's ``open`` once the rest is loaded
    leases: Leases = field(default_factory=Leases, compare=False)

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

    # ---- search: the backend's ------------------------------------------------------------------------

    def restrict(self, options: AskOptions) -> object | None:
        """``options``' filters in the backend's form: None (no filter), NOTHING (keeps none), or a restriction."""
        return self.searcher.restrict(options)

    def search_dense(self, qvec: np.ndarray, n: int, restriction: object | None = None) -> dict[int, float]:
        """The ``n`` passages nearest ``qvec`` (id -> inner product) that pass ``restriction`` (or an id array)."""
        return self.searcher.dense(qvec, n, restriction)

    def search_sparse(self, qterms: Sequence[str], n: int, restriction: object | None = None) -> dict[int, float]:
        """The ``n`` passages with the best BM25 scores for ``qterms`` (id -> score > 0) that pass ``restriction``."""
        return self.searcher.sparse(qterms, n, restriction)

    def check(self) -> None:
        """EngineUnavailableError when the backend's engine cannot answer now."""
        self.searcher.check()


def _versions() -> dict:
    names = ("sentence-transformers", "onnxruntime", "tokenizers", "faiss-cpu", "bm25s", "torch", "numpy", "qa-service")
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


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
    """A complete build: its folder, seconds per stage of writing it (``faiss_s``, ``tokenise_s``, ...), and what
    it replaced (a Qdrant collection kept for the caller to drop, when asked to keep it)."""

    path: Path
    timings: dict[str, float]
    replaced: str | None = None


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
    keep_replaced: bool = False,
) -> WrittenIndex:
    """Write a complete build into a fresh folder, let the backend add its search, then publish it atomically.

    ``identity`` records which backend and model file made the vectors (None: not known). Publishing is
    one atomic step (the ``current`` symlink, or the Qdrant alias); what it replaced is deleted unless
    ``keep_replaced`` (a serving process drops it once its requests on it are done).
    """
    backend = backend_for(settings)
    stages = _Stages()
    root = settings.index_dir
    builds = root / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    build_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = builds / f".tmp-{build_id}"
    tmp.mkdir()
    written: WrittenSearch | None = None
    try:
        np.save(tmp / "passage_vectors.npy", passage_vectors)
        np.save(tmp / "sentence_vectors.npy", sentence_vectors.astype(np.float16))
        stages.done("vectors_write")
        passage_terms = [terms(p.text) for p in corpus.passages]
        stages.done("tokenise")
        _write_json(tmp / "idf.json", idf_table(passage_terms))
        analysis = analyse(corpus.passages, passage_terms)
        analysis.save(tmp)
        stages.done("analysis")
        vocab = {term: i for i, term in enumerate(analysis.vocab)}
        del analysis
        written = backend.write(
            BuildInput(build_id, tmp, corpus, passage_vectors, passage_terms, vocab, settings, stages.done)
        )
        del passage_terms, vocab
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
            faiss_index=written.label,
            built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            versions=_versions(),
            files=files,
            embed_backend=identity.backend if identity else None,
            model_sha256=identity.sha256 if identity else None,
            reference_sha256=identity.reference_sha256 if identity else None,
            parity_cosine=identity.parity_cosine if identity else None,
            backend=backend.name,
            collection=written.collection,
            build_id=build_id,
        )
        _write_json(tmp / "manifest.json", manifest.model_dump(mode="json"))  # written last: marks completeness
        for path in tmp.rglob("*"):
            if path.is_file():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        final = builds / build_id
        tmp.rename(final)
        replaced = backend.publish(manifest, final, settings)
        stages.done("commit")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if written is not None:  # publishing moves the alias last: a failed build's collection serves nothing
            backend.discard(written, settings)
        raise
    _prune(builds, keep=final)
    if replaced and not keep_replaced:
        backend.drop(replaced, settings)
        replaced = None
    return WrittenIndex(final, stages.seconds, replaced)


def point_current(root: Path, build: Path) -> None:
    """Point ``root/current`` at ``build`` in one atomic rename: readers see the old build or the new one."""
    link = root / CURRENT
    tmp_link = root / f".{CURRENT}-{uuid.uuid4().hex[:6]}"
    tmp_link.symlink_to(build.relative_to(root))
    os.replace(tmp_link, link)  # atomic on POSIX


def _prune(builds: Path, keep: Path) -> None:
    """Remove older builds and leftovers of crashed ones (the kept build stays)."""
    for path in builds.iterdir():
        if path != keep:
            shutil.rmtree(path, ignore_errors=True)


def build_index(settings: Settings, embedder: Embedder, progress: bool = False, keep_replaced: bool = False) -> Path:
    """Read, clean, chunk and embed the sources, then write the build; returns its folder.

    ``keep_replaced``: leave the replaced Qdrant collection for the caller to drop (``QAService.reindex``
    does once the requests still on it have finished).
    """
    fingerprint = corpus_fingerprint(settings)
    corpus = build_corpus(settings)
    sentences = [p.text[s:e] for p in corpus.passages for s, e in p.sentences]
    log.info("embedding %d passages and %d sentences", len(corpus.passages), len(sentences))
    identity = getattr(embedder, "identity", None)  # test doubles have none
    passage_vectors = embedder.encode([p.text for p in corpus.passages], progress=progress)
    sentence_vectors = embedder.encode(sentences, progress=progress)
    written = write_index(
        corpus, passage_vectors, sentence_vectors, settings, embedder.name, fingerprint, identity, keep_replaced
    )
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
    return parse_manifest(data, f"index manifest at {build}")


def parse_manifest(data: object, where: str) -> Manifest:
    """A manifest read from a file or a Qdrant collection's metadata, validated the same way."""
    if not isinstance(data, dict):
        raise IndexCorruptError(f"{where} is not a JSON object", hint=REBUILD_HINT)
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
    if manifest.backend != settings.backend:
        return f"index was built for the {manifest.backend} backend, settings ask for {settings.backend}"
    if manifest.model != settings.model:
        return f"index was built with model {manifest.model!r}, settings ask for {settings.model!r}"
    if manifest.fingerprint != corpus_fingerprint(settings):
        changed = f"sources in {settings.source_dir}, or the rules and code that clean them, changed"
        return f"{changed} since the index was built"
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
def reading(build: Path, name: str) -> Iterator[None]:
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
    """Load the current build, refusing one that is corrupt or was built for other sources, model or backend.

    The backend finds the current build (the ``current`` symlink, or the Qdrant alias and the manifest
    stored with its collection) and opens its search; the build folder is read the same way for both.
    """
    backend = backend_for(settings)
    build, manifest = backend.locate(settings)
    check_files(build, manifest)
    reason = staleness(settings, manifest) if check_sources else None
    if reason:
        raise IndexStaleError(reason, hint=REBUILD_HINT)
    with reading(build, "documents.json"):
        documents = {
            d["doc_id"]: Document(**{**d, "warnings": tuple(d["warnings"])})
            for d in json.loads((build / "documents.json").read_text("utf-8"))
        }
    with reading(build, "passages.jsonl"):
        passages = []
        with (build / "passages.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                data = json.loads(line)
                data["sentences"] = tuple(tuple(s) for s in data["sentences"])
                passages.append(Passage(**data))
    with reading(build, "passage_vectors.npy"):
        passage_vectors = mapped(build / "passage_vectors.npy")
    with reading(build, "sentence_vectors.npy"):
        sentence_vectors = HalfVectors(mapped(build / "sentence_vectors.npy"))
    with reading(build, "idf.json"):
        idf = {str(term): float(value) for term, value in json.loads((build / "idf.json").read_text("utf-8")).items()}
    with reading(build, "analysis"):
        analysis = Analysis.load(build)
    shapes = (len(passages), passage_vectors.shape, len(sentence_vectors))
    if shapes != (manifest.passages, (manifest.passages, manifest.dimension), manifest.sentences):
        raise IndexCorruptError("index files disagree with the manifest", hint=REBUILD_HINT)
    index = LoadedIndex(
        path=build,
        manifest=manifest,
        documents=documents,
        passages=passages,
        passage_vectors=passage_vectors,
        sentence_vectors=sentence_vectors,
        idf=idf,
        default_idf=max(idf.values(), default=1.0),
        analysis=analysis,
    )
    index.searcher = backend.open(index, settings)
    return index
