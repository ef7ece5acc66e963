"""The persisted index: manifest, fingerprints, staleness, atomic builds and corruption handling."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from qa_service.corpus import corpus_fingerprint
from qa_service.domain import AskOptions
from qa_service.errors import IndexCorruptError, IndexMissingError, IndexStaleError
from qa_service.index_store import Manifest, build_index, current_build, index_status, load_index, read_manifest
from qa_service.service import QAService
from qa_service.settings import load_settings
from tests.conftest import ROOT, SEEDS
from tests.fakes import HashEmbedder

MODEL = "hash-test-model"


def settings_for(source: Path, tmp_path: Path, **extra):
    return load_settings(source_dir=source, index_dir=tmp_path / "index", model=MODEL, cache_size=0, **extra)


def test_manifest_records_what_the_index_was_built_from(source_copy, tmp_path):
    settings = settings_for(source_copy, tmp_path)
    build = build_index(settings, HashEmbedder())
    manifest = read_manifest(build)
    assert manifest.model == MODEL and manifest.dimension == 64
    assert manifest.documents == 5 and manifest.passages > 20 and manifest.sentences > manifest.passages
    assert manifest.fingerprint == corpus_fingerprint(settings)
    assert manifest.backend == settings.backend and manifest.build_id == build.name
    if settings.backend == "local":
        assert manifest.faiss_index == "IndexFlatIP" and manifest.collection is None
    else:
        assert manifest.collection == f"qa-{build.name}" and manifest.faiss_index.startswith(
            f"qdrant {manifest.collection}"
        )
    assert {"sentence-transformers", "faiss-cpu", "bm25s"} <= set(manifest.versions)
    assert "passage_vectors.npy" in manifest.files and manifest.built_at
    assert index_status(settings) is None


def test_same_corpus_gives_same_fingerprint_and_passages(source_copy, tmp_path):
    first = settings_for(source_copy, tmp_path / "a")
    second = settings_for(source_copy, tmp_path / "b")
    assert corpus_fingerprint(first) == corpus_fingerprint(second)
    a, b = build_index(first, HashEmbedder()), build_index(second, HashEmbedder())
    assert read_manifest(a).fingerprint == read_manifest(b).fingerprint
    assert (a / "passages.jsonl").read_text() == (b / "passages.jsonl").read_text()


def test_changed_seed_makes_the_index_stale(source_copy, tmp_path):
    settings = settings_for(source_copy, tmp_path)
    build_index(settings, HashEmbedder())
    path = source_copy / "002_ab862d0e136790e3.txt"
    path.write_text(path.read_text() + "\nOne more sentence was added to the story today.\n")
    assert "changed" in index_status(settings)
    with pytest.raises(IndexStaleError, match="changed"):
        load_index(settings)


def test_other_model_is_refused(source_copy, tmp_path):
    build_index(settings_for(source_copy, tmp_path), HashEmbedder())
    other = load_settings(source_dir=source_copy, index_dir=tmp_path / "index", model="another-model")
    with pytest.raises(IndexStaleError, match="another-model"):
        load_index(other)


def test_reindex_forgets_edited_and_deleted_text(source_copy, tmp_path):
    settings = settings_for(source_copy, tmp_path)
    service = QAService(settings, embedder=HashEmbedder())
    build_index(settings, service.embedder)
    before = service.ask("street fight brandish weapon", AskOptions(k=20, mode="bm25"))
    assert any("street fight" in p.text for p in before.passages)

    edited = source_copy / "002_ab862d0e136790e3.txt"
    edited.write_text(edited.read_text().replace("street fight", "chess match").replace("brandish", "show"))
    (source_copy / "004_4f177aa8e0bda902.txt").unlink()
    service.reindex()

    after = service.ask("street fight brandish weapon", AskOptions(k=20, mode="bm25"))
    every_text = [p.text for p in after.passages] + [p.text for p in service.index.passages]
    assert not any("street fight" in t or "brandish" in t for t in every_text)
    assert "004_4f177aa8e0bda902" not in service.index.documents
    assert all(p.doc_id != "004_4f177aa8e0bda902" for p in service.index.passages)
    assert any("chess match" in t for t in every_text)


def test_missing_index_is_a_clear_error(tmp_path):
    settings = settings_for(tmp_path / "nowhere", tmp_path)
    with pytest.raises(IndexMissingError, match="qa index"):
        current_build(settings)


@pytest.mark.parametrize("name", ["dense.faiss", "passage_vectors.npy", "passages.jsonl", "bm25/vocab.index.json"])
def test_truncated_file_is_refused_with_the_fix(source_copy, tmp_path, name):
    settings = settings_for(source_copy, tmp_path, backend="local")  # FAISS and bm25s files
    build = build_index(settings, HashEmbedder())
    target = build / name
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    with pytest.raises(IndexCorruptError, match="truncated") as err:
        load_index(settings)
    assert "qa index --force" in str(err.value)


def test_flipped_bytes_are_caught_by_checksum(source_copy, tmp_path):
    settings = settings_for(source_copy, tmp_path)
    build = build_index(settings, HashEmbedder())
    target = build / "sentence_vectors.npy"
    data = bytearray(target.read_bytes())
    data[-10] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="checksum"):
        load_index(settings)


def test_garbled_manifest_is_refused(source_copy, tmp_path):
    settings = settings_for(source_copy, tmp_path)
    build = build_index(settings, HashEmbedder())
    (build / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match="manifest"):
        load_index(settings)


def test_build_killed_halfway_leaves_previous_index_intact(source_copy, tmp_path):
    """SIGKILL during a build (after the new files start appearing) must not touch `current`."""
    settings = settings_for(source_copy, tmp_path)
    build_index(settings, HashEmbedder())
    before = current_build(settings)
    marker = tmp_path / "writing"
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        import numpy as np
        import qa_service.index_store as store
        from qa_service.settings import load_settings
        from tests.fakes import HashEmbedder
        real_save = np.save
        def slow_save(path, array, *a, **k):
            real_save(path, array, *a, **k)
            open({str(marker)!r}, "w").close()
            time.sleep(60)  # the parent kills us here, mid-build
        store.np.save = slow_save
        settings = load_settings(source_dir={str(source_copy)!r}, index_dir={str(tmp_path / "index")!r},
                                 model={MODEL!r})
        store.build_index(settings, HashEmbedder())
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), "the build never started writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert current_build(settings) == before
    loaded = load_index(settings)
    assert loaded.path == before and len(loaded.passages) == read_manifest(before).passages
    build_index(settings, HashEmbedder())  # the next build cleans the leftover temp folder
    leftovers = [p.name for p in (tmp_path / "index" / "builds").iterdir()]
    assert len(leftovers) == 1 and not leftovers[0].startswith(".tmp")


def test_manifest_is_plain_json_on_disk(source_copy, tmp_path):
    build = build_index(settings_for(source_copy, tmp_path), HashEmbedder())
    data = json.loads((build / "manifest.json").read_text())
    assert data["passages"] == sum(1 for _ in (build / "passages.jsonl").open())


def test_edited_chrome_rules_make_the_index_stale(source_copy, tmp_path, monkeypatch):
    settings = settings_for(source_copy, tmp_path)
    build_index(settings, HashEmbedder())
    import qa_service.corpus as corpus

    original = corpus.rules_bytes()
    monkeypatch.setattr(corpus, "rules_bytes", lambda: original + b"\n# a new rule\n")
    assert "changed" in index_status(settings)


def test_edited_cleaning_code_makes_the_index_stale(source_copy, tmp_path, monkeypatch):
    settings = settings_for(source_copy, tmp_path)
    build_index(settings, HashEmbedder())
    import qa_service.corpus as corpus

    assert b"def clean_document" in corpus.pipeline_code_bytes()  # the cleaning stage is in what is hashed
    original = corpus.pipeline_code_bytes()
    monkeypatch.setattr(corpus, "pipeline_code_bytes", lambda: original + b"\n# an edited rule\n")
    assert "changed" in index_status(settings)


# ---- the manifest is validated: each malformed field is one line naming it --------------------------------


@pytest.fixture(scope="module")
def manifest_data(tmp_path_factory) -> dict:
    """A real manifest, as written by a build with the stand-in model."""
    root = tmp_path_factory.mktemp("manifest")
    build = build_index(load_settings(source_dir=SEEDS, index_dir=root / "index", model=MODEL), HashEmbedder())
    return json.loads((build / "manifest.json").read_text())


def wrong_value(value: object) -> object:
    """A JSON value of another type than ``value``'s: text for a number, a number for text, text for an object."""
    return "7" if isinstance(value, int) else 7 if isinstance(value, str) else "x"


# Each field given a value of another type (the embedding fields are null for the stand-in model: any text fits).
NULLABLE = {"embed_backend", "model_sha256", "reference_sha256", "parity_cosine", "collection"}
MANIFEST_CASES = [
    (name, lambda d, name=name: {**d, name: wrong_value(d[name])})
    for name in Manifest.model_fields
    if name not in NULLABLE
]
MANIFEST_CASES += [("parity_cosine", lambda d: {**d, "parity_cosine": "0.99"})]
MANIFEST_CASES += [
    ("dimension", lambda d: {**d, "dimension": 384.0}),
    ("dimension", lambda d: {**d, "dimension": True}),
    ("documents", lambda d: {**d, "documents": -1}),
    ("files.dense.faiss.bytes", lambda d: {**d, "files": {**d["files"], "dense.faiss": {"bytes": -5, "sha256": "0"}}}),
    ("files.dense.faiss", lambda d: {**d, "files": {**d["files"], "dense.faiss": [1, 2]}}),
    ("files.idf.json.sha256", lambda d: {**d, "files": {**d["files"], "idf.json": {"bytes": 1, "sha256": None}}}),
    ("versions.numpy", lambda d: {**d, "versions": {**d["versions"], "numpy": 2}}),
]


@pytest.mark.parametrize(("field", "change"), MANIFEST_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(MANIFEST_CASES)])
def test_every_malformed_manifest_field_is_one_line_naming_it(manifest_data, tmp_path, field, change):
    (tmp_path / "manifest.json").write_text(json.dumps(change(manifest_data)))
    with pytest.raises(IndexCorruptError) as refused:
        read_manifest(tmp_path)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("index manifest has invalid fields: ")
    assert f" {field}: " in message and "qa index --force" in message


def test_missing_and_malformed_manifest_fields_are_named_together(manifest_data, tmp_path):
    data = {k: v for k, v in manifest_data.items() if k not in ("model", "files")} | {"dimension": "384"}
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    with pytest.raises(IndexCorruptError, match=r"lacks \['files', 'model'\]; has invalid fields: dimension: "):
        read_manifest(tmp_path)


def test_current_pointing_at_a_file_is_a_corrupt_index(source_copy, tmp_path):
    settings = settings_for(source_copy, tmp_path, backend="local")  # `current` is how it finds a build
    build_index(settings, HashEmbedder())
    (settings.index_dir / "stray").write_text("x")
    (settings.index_dir / "current").unlink()
    (settings.index_dir / "current").symlink_to("stray")
    with pytest.raises(IndexCorruptError, match="which is not a build folder"):
        load_index(settings)
    assert "not a build folder" in index_status(settings)


def test_analysis_is_built_once_and_matches_the_text(source_copy, tmp_path):
    """Terms, sentence terms and shingles come from the build's files, equal to analysing the text again."""
    from qa_service.chunking import shingles
    from qa_service.terms import terms

    settings = settings_for(source_copy, tmp_path)
    build_index(settings, HashEmbedder())
    loaded = load_index(settings)
    passages = loaded.passages
    for p in passages:
        assert loaded.passage_terms(p.passage_id) == frozenset(terms(p.text))
        assert loaded.sentence_terms(p.passage_id) == tuple(frozenset(terms(p.text[s:e])) for s, e in p.sentences)
    for a in passages:  # shingle hashes give the same overlaps as the shingles themselves
        for b in passages:
            grams = len(shingles(a.text) & shingles(b.text))
            hashed = len(loaded.passage_shingles(a.passage_id) & loaded.passage_shingles(b.passage_id))
            assert grams == hashed
    assert {"analysis/vocab.json", "analysis/shingles.values.npy"} <= set(loaded.manifest.files)


def test_vectors_are_memory_mapped_and_read_as_float32(source_copy, tmp_path):
    settings = settings_for(source_copy, tmp_path)
    build_index(settings, HashEmbedder())
    loaded = load_index(settings)
    assert not loaded.passage_vectors.flags.owndata and not loaded.passage_vectors.flags.writeable
    assert loaded.sentence_vectors.data.dtype == np.float16  # kept as stored
    rows = loaded.sentence_vectors[0:3]
    assert rows.dtype == np.float32 and rows.shape == (3, 64)


def test_a_narrow_filter_is_searched_exactly_even_over_hnsw(source_copy, tmp_path):
    settings = settings_for(source_copy, tmp_path, exact_index_limit=1, backend="local")  # HNSW even for the seeds
    build_index(settings, HashEmbedder())
    loaded = load_index(settings)
    assert loaded.manifest.faiss_index.startswith("IndexHNSW")
    allowed = np.arange(0, len(loaded.passages), 3, dtype=np.int64)
    qvec = HashEmbedder().encode(["Japan Treasuries trade talks"])[0]
    found = loaded.search_dense(qvec, 5, allowed)
    scores = loaded.passage_vectors[allowed] @ qvec
    expected = {int(allowed[i]) for i in np.argsort(-scores)[:5]}
    assert set(found) == expected and set(found) <= set(allowed.tolist())


def test_an_index_of_an_older_format_is_stale(source_copy, tmp_path):
    settings = settings_for(source_copy, tmp_path)
    build = build_index(settings, HashEmbedder())
    data = json.loads((build / "manifest.json").read_text())
    (build / "manifest.json").write_text(json.dumps({**data, "format_version": 1}))
    assert index_status(settings) == "index format 1 is not 2"
    with pytest.raises(IndexStaleError, match="index format 1 is not 2"):
        load_index(settings)


@pytest.mark.parametrize(
    "options",
    [
        AskOptions(),
        AskOptions(since="2025-05-04"),
        AskOptions(until="2025-05-02"),
        AskOptions(since="2025-05-03", until="2025-05-05"),
        AskOptions(publishers=("reuters", "TRT World")),
        AskOptions(publishers=("nobody",)),
        AskOptions(doc_ids=("000_aff2b0a0751f274a", "no-such-id"), since="2025-01-01"),
    ],
    ids=["none", "since", "until", "range", "publishers", "no publisher", "ids and date"],
)
def test_filter_passages_keeps_what_allowed_ids_keeps(source_copy, tmp_path, options):
    from qa_service.retrieval import allowed_ids

    settings = settings_for(source_copy, tmp_path)
    build_index(settings, HashEmbedder())
    loaded = load_index(settings)
    expected = allowed_ids(loaded, options)
    found = loaded.filter_passages(options)
    if expected is None:
        assert found is None
    else:
        assert found.tolist() == expected.tolist()
