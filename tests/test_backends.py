"""The Qdrant backend against the local one: the same searches, builds swapped by alias, the same answers.

Qdrant runs in qdrant-client's embedded local mode (no server). The plumbing tests use the stand-in
model; the parity test runs the evaluation sets on both backends with the real model.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from benchmarks.parity import compare, figures
from qa_service.backends.qdrant import CONNECTIONS, alias
from qa_service.domain import AskOptions
from qa_service.errors import ConfigError, IndexCorruptError, IndexMissingError, IndexStaleError
from qa_service.index_store import BUILDS, build_index, index_status, load_index, read_manifest
from qa_service.service import QAService
from qa_service.settings import Settings, load_settings
from qa_service.terms import terms
from tests.fakes import HashEmbedder

MODEL = "hash-test-model"
EVAL = Path(__file__).parent / "eval"
SETS = [EVAL / "qa_pairs.jsonl", EVAL / "second_set.jsonl", EVAL / "untouched.jsonl"]
QUESTIONS = ["Japan Treasury holdings", "Kato card", "tariffs on steel", "what did the minister say on Friday"]
NEW_DOC = "Zebra crossings were repainted in Osaka on Tuesday, city officials said, after complaints from parents."


def qdrant_settings(source: Path, tmp_path: Path, **extra) -> Settings:
    return load_settings(
        source_dir=source,
        index_dir=tmp_path / "index",
        model=MODEL,
        cache_size=0,
        backend="qdrant",
        qdrant_path=tmp_path / "qdrant",
        **extra,
    )


@pytest.fixture
def qdrant(source_copy: Path, tmp_path: Path):
    """Settings for the seeds on an embedded Qdrant in ``tmp_path`` (its client closed afterwards)."""
    settings = qdrant_settings(source_copy, tmp_path)
    yield settings
    CONNECTIONS.close(settings)


def engine(settings: Settings):
    return CONNECTIONS.client(settings)[0]


def collections(settings: Settings) -> set[str]:
    return {c.name for c in engine(settings).get_collections().collections}


def target(settings: Settings) -> str | None:
    return next(
        (a.collection_name for a in engine(settings).get_aliases().aliases if a.alias_name == alias(settings)), None
    )


def test_a_build_is_a_collection_behind_the_alias_and_replaces_the_last_one(qdrant, source_copy, monkeypatch):
    from qdrant_client import QdrantClient

    indexed: list[str] = []
    create_payload_index = QdrantClient.create_payload_index
    monkeypatch.setattr(
        QdrantClient,
        "create_payload_index",
        lambda self, name, field, *a, **k: indexed.append(field) or create_payload_index(self, name, field, *a, **k),
    )
    first = build_index(qdrant, HashEmbedder())
    manifest = read_manifest(first)
    assert (
        manifest.backend == "qdrant" and manifest.collection == f"qa-{first.name}" and manifest.build_id == first.name
    )
    assert target(qdrant) == manifest.collection and collections(qdrant) == {manifest.collection}
    info = engine(qdrant).get_collection(manifest.collection)
    assert info.points_count == manifest.passages
    assert info.config.metadata["manifest"] == manifest.model_dump(mode="json")  # stored with the collection
    assert sorted(indexed) == ["date", "doc_id", "publisher"]
    assert not (first / "dense.faiss").exists() and not (first / "bm25").exists()

    (source_copy / "zebra.txt").write_text(NEW_DOC, "utf-8")
    assert index_status(qdrant) is not None  # stale: the sources changed
    second = build_index(qdrant, HashEmbedder())
    renewed = read_manifest(second)
    assert target(qdrant) == renewed.collection and collections(qdrant) == {renewed.collection}
    assert not first.exists() and sorted(p.name for p in (qdrant.index_dir / BUILDS).iterdir()) == [second.name]
    assert load_index(qdrant).manifest == renewed and index_status(qdrant) is None


def test_a_stale_or_mismatched_collection_is_refused_in_one_line(qdrant, source_copy):
    build = build_index(qdrant, HashEmbedder())
    name = read_manifest(build).collection
    for settings, phrase in [
        (qdrant.model_copy(update={"model": "another-model"}), "built with model 'hash-test-model'"),
        (qdrant.model_copy(update={"backend": "local"}), "built for the qdrant backend"),
    ]:
        with pytest.raises(IndexStaleError, match=phrase) as caught:
            load_index(settings)
        assert "\n" not in str(caught.value)
    engine(qdrant).delete(name, points_selector=[0, 1], wait=True)
    with pytest.raises(IndexCorruptError, match=r"disagrees with its manifest: \d+ points for \d+ passages"):
        load_index(qdrant)
    engine(qdrant).update_collection(name, metadata={"manifest": None})
    with pytest.raises(IndexCorruptError, match="has no manifest"):
        load_index(qdrant)
    engine(qdrant).delete_collection(name)
    with pytest.raises(IndexMissingError, match="no alias qa-current"):
        load_index(qdrant)
    service = QAService.open(qdrant, rebuild=True, embedder=HashEmbedder())  # `qa serve --rebuild`
    try:
        assert service.ask("Japan Treasury holdings").passages and collections(qdrant) == {target(qdrant)}
    finally:
        service.close()


def test_searches_score_as_the_local_backend_does(source_copy, tmp_path):
    """Dense: the same inner products; sparse: BM25 as sparse vectors with the idf modifier equals bm25s."""
    local = load_settings(
        source_dir=source_copy, index_dir=tmp_path / "local", model=MODEL, cache_size=0, backend="local"
    )
    remote = qdrant_settings(source_copy, tmp_path)
    try:
        embedder = HashEmbedder()
        indexes = []
        for settings in (local, remote):
            build_index(settings, embedder)
            indexes.append(load_index(settings))
        near, far = indexes
        options = AskOptions(k=20, since="2025-05-02", publishers=("the western journal", "TRT World"))
        for question in QUESTIONS:
            qvec = embedder.encode([question])[0]
            dense = (near.search_dense(qvec, 10), far.search_dense(qvec, 10))
            assert dense[0].keys() == dense[1].keys()
            assert np.allclose([dense[0][i] for i in dense[0]], [dense[1][i] for i in dense[0]], atol=1e-5)
            sparse = (near.search_sparse(terms(question), 10), far.search_sparse(terms(question), 10))
            assert sparse[0] and sparse[0].keys() == sparse[1].keys(), question
            assert np.allclose([sparse[0][i] for i in sparse[0]], [sparse[1][i] for i in sparse[0]], rtol=1e-4)
            filtered = (
                near.search_dense(qvec, 50, near.restrict(options)),
                far.search_dense(qvec, 50, far.restrict(options)),
            )
            assert filtered[0] and filtered[0].keys() == filtered[1].keys()
    finally:
        CONNECTIONS.close(remote)


def test_a_reindex_drops_the_replaced_collection_only_after_requests_on_it_end(qdrant, source_copy):
    """Every request runs on one snapshot: the old collection stays searchable until no request holds it."""
    build_index(qdrant, HashEmbedder())
    service = QAService.open(qdrant, embedder=HashEmbedder())
    try:
        with service.snapshot() as old:  # a request that began before the re-index
            (source_copy / "zebra.txt").write_text(NEW_DOC, "utf-8")
            worker = threading.Thread(target=service.reindex)
            worker.start()
            worker.join(120)
            assert not worker.is_alive() and service.index is not old  # live without waiting for the request
            assert target(qdrant) == service.index.manifest.collection != old.manifest.collection
            assert old.manifest.collection in collections(qdrant)  # still held: not dropped
            assert old.search_sparse(terms("Japan Treasury"), 5)  # the old request still searches its own build
        assert collections(qdrant) == {service.index.manifest.collection}  # dropped as the request ended
        assert "zebra" in {p.citation.doc_id for p in service.ask("zebra crossings Osaka").passages}
    finally:
        service.close()


def test_a_build_published_by_another_process_is_followed(qdrant, source_copy):
    """The collection a server was using is deleted by another build: the server loads the alias's new one,
    at its next question or its next health check."""
    build_index(qdrant, HashEmbedder())
    service = QAService.open(qdrant, embedder=HashEmbedder())
    try:
        before = service.index.manifest.collection
        (source_copy / "zebra.txt").write_text(NEW_DOC, "utf-8")
        build_index(qdrant, HashEmbedder())  # as `qa index` would: the replaced collection is deleted at once
        assert before not in collections(qdrant)
        answer = service.ask("zebra crossings Osaka")
        assert service.index.manifest.collection == target(qdrant) != before
        assert "zebra" in {p.citation.doc_id for p in answer.passages}
        before = service.index.manifest.collection
        (source_copy / "zebra.txt").unlink()
        build_index(qdrant, HashEmbedder())
        assert service.health().manifest.collection == target(qdrant) != before
    finally:
        service.close()


@pytest.mark.slow
def test_evaluation_parity_between_the_backends(backend_service):
    """`qa eval` on both backends: every question's ranks (per mode) and confidence agree, but for one at most.

    Qdrant's local mode searches exactly, as FAISS's flat index does, and the sparse vectors carry
    bm25s's scores, so the only room for a difference is float rounding between tied candidates.
    """
    services = {name: backend_service(name) for name in ("local", "qdrant")}
    differ = {}
    for set_path in SETS:
        result = compare(services, set_path)
        local, qdrant = (figures(result["reports"][b]) for b in ("local", "qdrant"))
        print(f"\n{set_path.name}: {result['questions']} questions")
        for name in local:
            print(f"  {name:<28} local {local[name]:.3f}  qdrant {qdrant[name]:.3f}")
        if not result["differ"]:
            assert local == qdrant, set_path.name
        differ |= {f"{set_path.name}:{qid}": outcome for qid, outcome in result["differ"].items()}
    print(f"questions whose outcome differs: {differ or 'none'}")
    assert len(differ) <= 1, differ


@pytest.mark.parametrize(
    ("env", "phrase"),
    [
        ({"QA_BACKEND": "elastic"}, "backend: Input should be 'local' or 'qdrant'"),
        ({"QA_QDRANT_URL": "http://127.0.0.1:6333", "QA_QDRANT_PATH": "/tmp/q"}, "not both"),
        ({"QA_QDRANT_TIMEOUT": "0"}, "qdrant_timeout: Input should be greater than or equal to 1"),
        ({"QA_QDRANT_COLLECTION": "qa current"}, "qdrant_collection: String should match pattern"),
    ],
)
def test_backend_settings_are_checked_at_start(monkeypatch, env, phrase):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=phrase) as caught:
        load_settings()
    assert "\n" not in str(caught.value)
