"""The Qdrant backend: one collection per build with named vectors (dense + sparse BM25), behind an alias.

- Points: one per passage (id = passage id); ``dense``, the passage's unit vector (dot product, as
  FAISS's inner product); ``bm25``, a sparse vector over the build's vocabulary whose values are
  BM25's term-frequency part computed here with the project's own tokenizer (``terms.terms``) and
  bm25s's constants, the collection applying IDF (``modifier: idf``, the same formula as bm25s's), so
  a sparse search scores exactly as bm25s does; payload ``doc_id``, ``publisher`` (case-folded) and
  ``date`` (RFC 3339, midnight UTC), each with a payload index, so filters run inside the engine.
- Build and swap: a new collection ``<prefix>-<build id>`` is filled, its manifest is stored as the
  collection's metadata, then the alias ``<prefix>-current`` is moved to it in one atomic alias
  update and the collection it replaced is deleted (after requests in flight on it, when a serving
  process re-indexes).
- The passage lookup (texts, sentence vectors, analysis, documents) stays in the build folder the
  manifest names, memory-mapped, as for the local backend: the answer path reads ~100 candidates'
  sentence vectors, terms and shingles per question, micro-seconds from the page cache against a
  payload transfer per question (docs/performance.md, "Qdrant").

Every call to the engine is bounded by ``QA_QDRANT_TIMEOUT``; an engine that cannot be reached or does
not answer in time is an EngineUnavailableError (503 with a hint), and the next request tries again.
"""

from __future__ import annotations

import atexit
import logging
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from ..domain import AskOptions
from ..errors import EngineUnavailableError, IndexCorruptError, IndexMissingError, IndexReplacedError
from ..settings import Settings
from .base import BuildInput, WrittenSearch

if TYPE_CHECKING:
    from qdrant_client import QdrantClient, models

    from ..index_store import LoadedIndex, Manifest

log = logging.getLogger(__name__)
T = TypeVar("T")

DENSE = "dense"
SPARSE = "bm25"
# bm25s's defaults (BM25(k1=1.5, b=0.75, method="lucene")), which the local backend's scores use.
K1 = 1.5
B = 0.75
UPSERT_BATCH = 256
HNSW_EF = 128  # the search beam on a server (FAISS's efSearch); local mode searches exactly
REBUILD_HINT = "run `qa index --force` (or `make serve`, which rebuilds a stale index)"


# ---- connections: one client per location and process ----------------------------------------------


class _Connections:
    """One client per Qdrant location, shared by the process (embedded local mode allows one per folder).

    Local mode is pure Python over in-memory arrays and is not documented as thread-safe, so its calls
    are serialised; a server's client is used from every thread at once.
    """

    def __init__(self) -> None:
        self._clients: dict[str, QdrantClient] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def client(self, settings: Settings) -> tuple[QdrantClient, threading.Lock | None]:
        key = str(settings.qdrant_location)
        with self._lock:
            client = self._clients.get(key)
            if client is None or _closed(client):
                client = _open(settings)
                self._clients[key] = client
                self._locks.setdefault(key, threading.Lock())
            return client, None if settings.qdrant_url else self._locks[key]

    def close(self, settings: Settings) -> None:
        """Close this process's client for ``settings``' location (the next call opens a new one)."""
        with self._lock:
            client = self._clients.pop(str(settings.qdrant_location), None)
        if client is not None:
            client.close()

    def close_all(self) -> None:
        """At exit: release embedded storage folders while the interpreter can still do so cleanly."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


CONNECTIONS = _Connections()
atexit.register(CONNECTIONS.close_all)


def _closed(client: QdrantClient) -> bool:
    return bool(getattr(client._client, "closed", False) or getattr(client._client, "_closed", False))


def where(settings: Settings) -> str:
    """The engine, as messages name it."""
    if settings.qdrant_url:
        return f"Qdrant at {settings.qdrant_url}"
    return f"embedded Qdrant at {settings.qdrant_location}"


def _open(settings: Settings) -> QdrantClient:
    from qdrant_client import QdrantClient

    if settings.qdrant_url:
        return QdrantClient(url=settings.qdrant_url, timeout=settings.qdrant_timeout, check_compatibility=False)
    path = Path(settings.qdrant_location)
    try:
        path.mkdir(parents=True, exist_ok=True)
        return QdrantClient(path=str(path))
    except (RuntimeError, OSError) as exc:  # another process holds the folder's lock, or it cannot be made
        raise EngineUnavailableError(
            f"{where(settings)} cannot be opened: {exc}",
            hint="embedded local mode serves one process at a time; set QA_QDRANT_URL to share a Qdrant server",
        ) from None


def call(settings: Settings, fn: Callable[[QdrantClient], T], collection: str | None = None) -> T:
    """``fn(client)``, with the engine's failures as this service's errors.

    Unreachable, timed out or failing (5xx): EngineUnavailableError. ``collection`` gone (404): another
    process's build replaced it, IndexReplacedError.
    """
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    client, lock = CONNECTIONS.client(settings)
    hint = (
        "the service retries on every request; check that the Qdrant server is running and reachable "
        "(QA_QDRANT_URL, QA_QDRANT_TIMEOUT)"
    )
    try:
        if lock is None:
            return fn(client)
        with lock:
            return fn(client)
    except UnexpectedResponse as exc:
        if exc.status_code == 404 and collection:
            raise IndexReplacedError(f"collection {collection} is gone from {where(settings)}") from None
        raise EngineUnavailableError(f"{where(settings)} answered HTTP {exc.status_code}", hint=hint) from None
    except ResponseHandlingException as exc:
        raise EngineUnavailableError(_failure(settings, getattr(exc, "source", None) or exc), hint=hint) from None
    except RuntimeError as exc:  # local mode: the client was closed
        CONNECTIONS.close(settings)
        raise EngineUnavailableError(f"{where(settings)} is closed ({exc})", hint=hint) from None
    except ValueError as exc:  # local mode: "Collection ... not found"
        if collection and "not found" in str(exc):
            raise IndexReplacedError(f"collection {collection} is gone from {where(settings)}") from None
        raise


def _failure(settings: Settings, cause: BaseException) -> str:
    """One line on why the engine did not answer: not reachable, too slow, or the transport's own reason."""
    import httpx

    reason = str(cause) or type(cause).__name__
    if isinstance(cause, httpx.TimeoutException):
        return f"{where(settings)} did not answer within {settings.qdrant_timeout} s"
    if isinstance(cause, httpx.ConnectError | httpx.RemoteProtocolError | httpx.ReadError):
        return f"{where(settings)} cannot be reached ({reason})"
    return f"{where(settings)} failed ({reason})"


# ---- BM25 as sparse vectors ------------------------------------------------------------------------------


def bm25_vectors(passage_terms: Sequence[Sequence[str]], vocab: dict[str, int]) -> Iterator[tuple[list, list]]:
    """Each passage's (term ids, BM25 term-frequency weights): ``tf / (tf + k1 * (1 - b + b * len / avg len))``.

    Multiplied by the collection's IDF (``modifier: idf``: ``ln(1 + (N - df + 0.5) / (df + 0.5))``) and
    summed over the query's terms, this is bm25s's "lucene" score, term for term.
    """
    lengths = np.fromiter((len(t) for t in passage_terms), dtype=np.float64, count=len(passage_terms))
    average = float(lengths.mean()) if len(lengths) else 1.0
    for found, length in zip(passage_terms, lengths, strict=True):
        counts = Counter(found)
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        weights = tf / (K1 * ((1 - B) + B * length / average) + tf)
        yield [vocab[t] for t in counts], weights.tolist()


def query_vector(qterms: Sequence[str], vocab: dict[str, int]) -> tuple[list[int], list[float]]:
    """The question's sparse vector: each known term with its count (bm25s adds a repeated term twice)."""
    counts = Counter(vocab[t] for t in qterms if t in vocab)
    return list(counts), [float(c) for c in counts.values()]


# ---- the searcher ----------------------------------------------------------------------------------------


class QdrantSearcher:
    """Dense and sparse search in one collection, filtered by payload conditions inside the engine."""

    def __init__(self, settings: Settings, collection: str, vocab: dict[str, int]) -> None:
        self.settings = settings
        self.collection = collection
        self.vocab = vocab

    def restrict(self, options: AskOptions) -> models.Filter | None:
        from qdrant_client import models

        must: list[models.Condition] = []
        if options.doc_ids:
            must.append(models.FieldCondition(key="doc_id", match=models.MatchAny(any=list(options.doc_ids))))
        if options.publishers:
            publishers = sorted({p.casefold() for p in options.publishers})
            must.append(models.FieldCondition(key="publisher", match=models.MatchAny(any=publishers)))
        if options.since or options.until:
            span = models.DatetimeRange(
                gte=f"{options.since}T00:00:00Z" if options.since else None,
                lte=f"{options.until}T00:00:00Z" if options.until else None,
            )
            must.append(models.FieldCondition(key="date", range=span))
        return models.Filter(must=must) if must else None

    def _filter(self, restriction: object | None) -> models.Filter | None:
        """A Filter as given; an array of passage ids (as the local backend's filters are) as a has-id filter."""
        from qdrant_client import models

        if restriction is None or isinstance(restriction, models.Filter):
            return restriction
        ids = [int(i) for i in np.asarray(restriction).tolist()]
        return models.Filter(must=[models.HasIdCondition(has_id=ids)])

    def _query(self, query, using: str, n: int, restriction: object | None) -> dict[int, float]:
        from qdrant_client import models

        flt = self._filter(restriction)
        # A server's HNSW beam; local mode searches exactly and warns about any search parameter.
        params = models.SearchParams(hnsw_ef=max(HNSW_EF, n)) if using == DENSE and self.settings.qdrant_url else None
        found = call(
            self.settings,
            lambda c: c.query_points(
                self.collection,
                query=query,
                using=using,
                limit=n,
                query_filter=flt,
                search_params=params,
                with_payload=False,  # ids and scores only: the passage lookup is the build folder's
            ),
            self.collection,
        )
        return {int(p.id): float(p.score) for p in found.points}

    def dense(self, qvec: np.ndarray, n: int, restriction: object | None = None) -> dict[int, float]:
        return self._query(np.asarray(qvec, dtype=np.float32).tolist(), DENSE, n, restriction)

    def sparse(self, qterms: Sequence[str], n: int, restriction: object | None = None) -> dict[int, float]:
        from qdrant_client import models

        indices, values = query_vector(qterms, self.vocab)
        if not indices:
            return {}
        scores = self._query(models.SparseVector(indices=indices, values=values), SPARSE, n, restriction)
        return {pid: score for pid, score in scores.items() if score > 0}

    def check(self) -> None:
        call(self.settings, lambda c: c.get_collection(self.collection), self.collection)

    def retire(self) -> None:
        QdrantBackend().drop(self.collection, self.settings)


# ---- the backend ---------------------------------------------------------------------------------------


def alias(settings: Settings) -> str:
    return f"{settings.qdrant_collection}-current"


def collection_name(settings: Settings, build_id: str) -> str:
    return f"{settings.qdrant_collection}-{build_id}"


def _current_target(client: QdrantClient, name: str) -> str | None:
    return next((a.collection_name for a in client.get_aliases().aliases if a.alias_name == name), None)


class QdrantBackend:
    name = "qdrant"

    def write(self, build: BuildInput) -> WrittenSearch:
        settings = build.settings
        name = collection_name(settings, build.build_id)
        call(settings, lambda c: self._drop_unserved(c, settings))
        call(settings, lambda c: self._create(c, name, build.passage_vectors.shape[1]))
        build.stage("qdrant_create")
        documents = {d.doc_id: d for d in build.corpus.documents}
        batch: list = []
        weights = bm25_vectors(build.passage_terms, build.vocab)
        for passage, (indices, values) in zip(build.corpus.passages, weights, strict=True):
            batch.append(self._point(passage, documents[passage.doc_id], build.passage_vectors, indices, values))
            if len(batch) == UPSERT_BATCH:
                self._upsert(settings, name, batch)
                batch = []
        if batch:
            self._upsert(settings, name, batch)
        build.stage("qdrant_upsert")
        label = f"qdrant {name}: dense Dot HNSW(m=16,ef_construct=100,ef={HNSW_EF}) + sparse bm25 idf"
        return WrittenSearch(label, name)

    @staticmethod
    def _point(passage, doc, vectors: np.ndarray, indices: list, values: list):
        from qdrant_client import models

        payload = {"doc_id": doc.doc_id}
        if doc.publisher:
            payload["publisher"] = doc.publisher.casefold()
        if doc.date:
            payload["date"] = f"{doc.date}T00:00:00Z"
        vector = {
            DENSE: vectors[passage.passage_id].tolist(),
            SPARSE: models.SparseVector(indices=indices, values=values),
        }
        return models.PointStruct(id=passage.passage_id, vector=vector, payload=payload)

    @staticmethod
    def _upsert(settings: Settings, name: str, points: list) -> None:
        call(settings, lambda c: c.upsert(name, points=points, wait=True))

    @staticmethod
    def _create(client: QdrantClient, name: str, dimension: int) -> None:
        from qdrant_client import models

        client.create_collection(
            name,
            vectors_config={
                DENSE: models.VectorParams(
                    size=dimension,
                    distance=models.Distance.DOT,  # unit vectors: the inner product FAISS uses, not renormalised
                    hnsw_config=models.HnswConfigDiff(m=16, ef_construct=100),
                )
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        schema = {
            "doc_id": models.PayloadSchemaType.KEYWORD,
            "publisher": models.PayloadSchemaType.KEYWORD,
            "date": models.PayloadSchemaType.DATETIME,
        }
        with warnings.catch_warnings():  # local mode says payload indexes have no effect there; a server uses them
            warnings.simplefilter("ignore")
            for field, kind in schema.items():
                client.create_payload_index(name, field, kind, wait=True)

    @staticmethod
    def _drop_unserved(client: QdrantClient, settings: Settings) -> None:
        """Collections of ours that the alias does not serve: builds that crashed before publishing, and
        replaced ones whose deletion failed (the engine was away). A request still on one is answered
        again from the alias's collection (IndexReplacedError)."""
        prefix, served = f"{settings.qdrant_collection}-", _current_target(client, alias(settings))
        for found in client.get_collections().collections:
            if found.name.startswith(prefix) and found.name != served:
                log.warning("deleting collection %s, which no alias serves", found.name)
                client.delete_collection(found.name)

    def publish(self, manifest: Manifest, folder: Path, settings: Settings) -> str | None:
        from qdrant_client import models

        from ..index_store import point_current

        name, current = manifest.collection, alias(settings)
        assert name is not None
        call(settings, lambda c: c.update_collection(name, metadata={"manifest": manifest.model_dump(mode="json")}))
        point_current(settings.index_dir, folder)  # for people and tools; loading follows the alias
        replaced = call(settings, lambda c: _current_target(c, current))
        operations: list = [
            models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=name, alias_name=current))
        ]
        if replaced is not None:
            operations.insert(0, models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=current)))
        call(settings, lambda c: c.update_collection_aliases(change_aliases_operations=operations))  # atomic, last
        return replaced if replaced != name else None

    def discard(self, written: WrittenSearch, settings: Settings) -> None:
        if written.collection:
            self.drop(written.collection, settings)

    def drop(self, replaced: str, settings: Settings) -> None:
        try:
            call(settings, lambda c: c.delete_collection(replaced))
        except EngineUnavailableError as exc:  # the next build deletes collections that the alias does not serve
            log.warning("could not delete collection %s: %s", replaced, exc.message)

    def locate(self, settings: Settings) -> tuple[Path, Manifest]:
        from ..index_store import BUILDS, parse_manifest, read_manifest

        current = alias(settings)
        target = call(settings, lambda c: _current_target(c, current))
        if target is None:
            raise IndexMissingError(
                f"no index in {where(settings)} (no alias {current})", hint="run `qa index` (or `make serve`)"
            )
        info = call(settings, lambda c: c.get_collection(target), target)
        data = (info.config.metadata or {}).get("manifest")
        if data is None:
            raise IndexCorruptError(f"collection {target} has no manifest", hint=REBUILD_HINT)
        manifest = parse_manifest(data, f"collection {target}")
        folder = settings.index_dir / BUILDS / str(manifest.build_id)
        if manifest.build_id is None or not folder.is_dir():
            raise IndexCorruptError(f"the build folder {folder} of collection {target} is missing", hint=REBUILD_HINT)
        if read_manifest(folder) != manifest:
            raise IndexCorruptError(
                f"collection {target} and build folder {folder} hold different manifests", hint=REBUILD_HINT
            )
        return folder, manifest

    def open(self, index: LoadedIndex, settings: Settings) -> QdrantSearcher:
        from qdrant_client import models

        manifest = index.manifest
        name = str(manifest.collection)
        info = call(settings, lambda c: c.get_collection(name), name)
        dense = (info.config.params.vectors or {}).get(DENSE) if isinstance(info.config.params.vectors, dict) else None
        sparse = (info.config.params.sparse_vectors or {}).get(SPARSE)
        problems = []
        if info.points_count != manifest.passages:
            problems.append(f"{info.points_count} points for {manifest.passages} passages")
        if dense is None or dense.size != manifest.dimension:
            problems.append(f"dense vectors of size {getattr(dense, 'size', None)}, not {manifest.dimension}")
        if sparse is None or sparse.modifier != models.Modifier.IDF:
            problems.append("no sparse bm25 vectors with the idf modifier")
        if problems:
            raise IndexCorruptError(
                f"collection {name} disagrees with its manifest: {'; '.join(problems)}", hint=REBUILD_HINT
            )
        vocab = {term: i for i, term in enumerate(index.analysis.vocab)}
        return QdrantSearcher(settings, name, vocab)
