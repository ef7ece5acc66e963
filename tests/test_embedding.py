"""The ONNX Runtime backend: the same vectors as torch, the same evaluation, a cached export, no torch when serving."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from qa_service.cli import main
from qa_service.conversation import resolve
from qa_service.embedding import Embedder, ModelIdentity, compatible
from qa_service.embedding.cache import PARITY_MIN, ensure_export, entry_folder, read_export
from qa_service.errors import ConfigError, IndexStaleError
from qa_service.evaluation import Evaluation, load_pairs
from qa_service.index_store import build_index, index_status, load_index, read_manifest
from qa_service.service import QAService
from qa_service.settings import Settings, load_settings
from tests.conftest import ROOT, SEEDS

EVAL_SETS = sorted((Path(__file__).parent / "eval").glob("*.jsonl"))
HEAVY = ("torch", "sentence_transformers", "transformers", "sklearn")


def evaluation_texts() -> list[str]:
    """Every question of the evaluation sets, the earlier turns, and the follow-ups as resolved for search."""
    texts: dict[str, None] = {}
    for path in EVAL_SETS:
        for pair in load_pairs(path):
            texts[pair.question] = None
            texts.update((turn.content, None) for turn in pair.history)
            if pair.history:
                texts[resolve(pair.question, list(pair.history))] = None
    return list(texts)


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(load_settings().model, backend="torch")


def lowest_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum(axis=1).min())


@pytest.mark.slow
def test_onnx_and_torch_agree_on_every_seed_passage_sentence_and_question(seed_service, embedder, torch_embedder):
    index = seed_service.index
    passages = [p.text for p in index.passages]
    sentences = [p.text[s:e] for p in index.passages for s, e in p.sentences]
    questions = evaluation_texts()
    assert len(passages) > 30 and len(questions) > 120
    for texts in (passages, sentences, questions):
        reference = torch_embedder.encode(texts)
        assert lowest_cosine(embedder.encode(texts), reference) >= PARITY_MIN  # in batches, as when indexing
    one_by_one = np.vstack([embedder.encode([q]) for q in questions])  # as when serving
    assert lowest_cosine(one_by_one, torch_embedder.encode(questions)) >= PARITY_MIN


@pytest.fixture(scope="module")
def torch_service(tmp_path_factory, seed_settings: Settings, torch_embedder: Embedder) -> QAService:
    """The seeds indexed and served with the torch backend."""
    settings = seed_settings.model_copy(
        update={"index_dir": tmp_path_factory.mktemp("torch-index") / "index", "embed_backend": "torch"}
    )
    build_index(settings, torch_embedder)
    return QAService.open(settings, embedder=torch_embedder)


@pytest.mark.slow
@pytest.mark.parametrize("eval_set", EVAL_SETS, ids=[p.stem for p in EVAL_SETS])
def test_qa_eval_gives_identical_metrics_on_both_backends(seed_service, torch_service, eval_set):
    onnx_report = Evaluation.from_files(seed_service, eval_set).run()
    torch_report = Evaluation.from_files(torch_service, eval_set).run()
    assert onnx_report == torch_report


@pytest.mark.slow
def test_the_manifest_records_backend_checksum_and_parity(seed_service, torch_service):
    onnx = read_manifest(seed_service.index.path)
    export = read_export(entry_folder(_model_dir(), seed_service.settings.model_cache_dir))
    assert onnx.embed_backend == "onnx" and onnx.model_sha256 == export.meta["files"]["model.onnx"]["sha256"]
    assert onnx.reference_sha256 == export.meta["source_sha256"] and onnx.parity_cosine >= PARITY_MIN
    torch = read_manifest(torch_service.index.path)
    assert torch.embed_backend == "torch" and torch.parity_cosine == 1.0
    assert torch.model_sha256 == torch.reference_sha256 == onnx.reference_sha256


def _model_dir() -> Path:
    from qa_service.embedding import resolve_model

    return resolve_model(load_settings().model)


@pytest.mark.slow
def test_an_index_built_with_torch_is_served_by_onnx_because_parity_holds(torch_service):
    onnx_settings = torch_service.settings.model_copy(update={"embed_backend": "onnx"})
    assert index_status(onnx_settings) is None
    loaded = load_index(onnx_settings)
    assert loaded.manifest.embed_backend == "torch"


@pytest.mark.slow
def test_an_int8_index_is_refused_by_fp32_with_one_line(seed_settings, tmp_path):
    index_dir = tmp_path / "index"
    built = CliRunner().invoke(
        main, ["--index-dir", str(index_dir), "index", "--source", str(SEEDS)], env={"QA_EMBED_INT8": "1"}
    )
    assert built.exit_code == 0, built.output
    manifest = read_manifest((index_dir / "current").resolve())
    assert manifest.embed_backend == "onnx-int8" and manifest.parity_cosine < PARITY_MIN
    asked = CliRunner().invoke(main, ["--index-dir", str(index_dir), "ask", "anything", "--source", str(SEEDS)])
    assert asked.exit_code == 1 and asked.output.count("\n") == 1 and "Traceback" not in asked.output
    assert "built with the onnx-int8 backend; onnx vectors agree with it only to cosine" in asked.output
    with pytest.raises(IndexStaleError, match="onnx-int8"):
        load_index(load_settings(index_dir=index_dir, source_dir=SEEDS))
    assert "onnx-int8" in index_status(load_settings(index_dir=index_dir, source_dir=SEEDS))  # `qa index` rebuilds


def identity(backend: str, sha: str, cosine: float, reference: str = "weights") -> ModelIdentity:
    return ModelIdentity(backend, sha, reference, cosine)


def test_vectors_are_compatible_only_with_recorded_parity():
    torch = identity("torch", "weights", 1.0)
    onnx = identity("onnx", "a", 0.9999995)
    reexported = identity("onnx", "b", 0.9999993)
    int8 = identity("onnx-int8", "c", 0.98)
    assert compatible(onnx, onnx) is None and compatible(torch, onnx) is None and compatible(onnx, torch) is None
    assert compatible(onnx, reexported) is None  # both within parity of the same weights
    assert "agree with it only to cosine 0.98" in compatible(torch, int8)
    assert "onnx-int8 backend" in compatible(int8, onnx)
    assert "other model weights" in compatible(identity("onnx", "z", 1.0, "other"), onnx)
    assert compatible(None, onnx) is None and compatible(onnx, None) is None  # a test double: names decide


def test_int8_needs_the_onnx_backend():
    with pytest.raises(ConfigError, match="embed_int8 needs embed_backend=onnx"):
        load_settings(embed_backend="torch", embed_int8=True)


@pytest.mark.slow
def test_a_damaged_export_is_not_used(embedder, tmp_path):
    """A cached export whose files no longer match their checksums is made again, never loaded."""
    _ = embedder.dimension  # the session's export exists
    source = entry_folder(_model_dir(), None)
    copy = tmp_path / "entry"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("*.int8.onnx"))
    meta = json.loads((copy / "export.json").read_text())
    meta["files"].pop("model.int8.onnx", None)
    meta["variants"].pop("onnx-int8", None)
    (copy / "export.json").write_text(json.dumps(meta))
    assert read_export(copy) is not None
    data = bytearray((copy / "tokenizer.json").read_bytes())
    data[100] ^= 0x01
    (copy / "tokenizer.json").write_bytes(bytes(data))
    assert read_export(copy) is None
    assert ensure_export(_model_dir(), None).meta["variants"]["onnx"]["parity_cosine"] >= PARITY_MIN


SERVE_SCRIPT = textwrap.dedent("""
    import json, sys
    from qa_service.settings import load_settings
    from qa_service.web.server import make_server
    from qa_service.web import create_app
    from qa_service.service import QAService
    settings = load_settings(index_dir=sys.argv[1], source_dir=sys.argv[2], port=0, rate_limit="")
    service = QAService.open(settings)  # what `qa serve` does, up to listening
    app = create_app(settings, service)
    server = make_server(app, settings)
    answer = app.test_client().post("/api/ask", json={"question": "Did Japan threaten to sell its Treasuries?"})
    server.close()
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in %r)
    print(json.dumps({"status": answer.status_code, "heavy": heavy, "backend": service.embedder.variant}))
""")


@pytest.mark.slow
def test_serving_imports_no_torch_sentence_transformers_or_sklearn(backend_service):
    """On the local backend (the default): nor qdrant-client, which only QA_BACKEND=qdrant imports."""
    local = backend_service("local").settings
    done = subprocess.run(
        [sys.executable, "-c", SERVE_SCRIPT % ((*HEAVY, "qdrant_client"),), str(local.index_dir), str(SEEDS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("QA_")},
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"status": 200, "heavy": [], "backend": "onnx"}
