"""The `qa` command through click's runner: documents, ask, index, and errors as one line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from qa_service.cli import main
from tests.conftest import SEEDS
from tests.test_ingestion import EXPECTED

KEYS = ["doc_id", "title", "publisher", "source", "author", "date", "url", "passages", "warnings"]


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_documents_json_lists_the_seeds(seed_service, seed_settings):
    result = run("--index-dir", str(seed_settings.index_dir), "documents", "--source", str(SEEDS), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert all(list(row) == KEYS for row in rows)  # the contract's names and order, `source` added
    by_id = {row["doc_id"]: row for row in rows}
    for doc_id, expected in EXPECTED.items():
        assert {k: by_id[doc_id][k] for k in ("title", "publisher", "date")} == {
            k: expected[k] for k in ("title", "publisher", "date")
        }
        assert by_id[doc_id]["passages"] > 0 and by_id[doc_id]["warnings"] == []


def test_documents_table_is_readable(seed_service, seed_settings):
    result = run("--index-dir", str(seed_settings.index_dir), "documents", "--source", str(SEEDS))
    assert result.exit_code == 0
    assert "2025-05-04  TRT World" in result.output and "Japan says no plan to threaten" in result.output


def test_ask_prints_answer_and_numbered_citations(seed_service, seed_settings):
    result = run(
        "--index-dir",
        str(seed_settings.index_dir),
        "ask",
        "did Japan threaten to sell Treasuries?",
        "--source",
        str(SEEDS),
    )
    assert result.exit_code == 0, result.output
    assert (
        '[1] TRT World, "Japan says no plan to threaten $1T+ Treasuries sale in US trade talks", 2025-05-04'
        in result.output
    )


def test_ask_json_is_the_contract(seed_service, seed_settings):
    result = run(
        "--index-dir",
        str(seed_settings.index_dir),
        "ask",
        "what tariff did Trump put on Japan?",
        "--json",
        "--k",
        "3",
        "--source",
        str(SEEDS),
    )
    data = json.loads(result.output)
    assert list(data) == ["question", "abstained", "confidence", "answer", "passages"]
    assert data["confidence"] in (("none",) if data["abstained"] else ("high", "low"))
    assert len(data["passages"]) == 3 and data["passages"][0]["rank"] == 1


def test_missing_index_is_one_line_and_exit_1(tmp_path):
    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path / "none"), "documents"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "run `qa index`" in result.output
    assert "Traceback" not in result.output


def test_corrupt_index_is_one_line_and_exit_1(seed_settings, tmp_path):
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(seed_settings.index_dir, copy, symlinks=True)
    build = (copy / "current").resolve()
    (build / "passages.jsonl").write_bytes(b"garbage")  # read on either backend
    result = CliRunner().invoke(main, ["--index-dir", str(copy), "ask", "anything", "--source", str(SEEDS)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "passages.jsonl" in result.output and "qa index --force" in result.output


def test_index_is_skipped_when_current(seed_service, seed_settings):
    result = run("--index-dir", str(seed_settings.index_dir), "index", "--source", str(SEEDS))
    assert result.exit_code == 0 and "current; nothing to do" in result.output


def test_bad_setting_is_one_line(monkeypatch):
    monkeypatch.setenv("QA_PORT", "not-a-port")
    result = CliRunner().invoke(main, ["documents"])
    assert result.exit_code == 1 and "port" in result.output and "Traceback" not in result.output
