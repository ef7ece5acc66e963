"""Ingestion costs time in proportion to a page's size, whatever the page holds.

A user's folder may hold a single 5 MB line, minified HTML, a base64 blob, thousands of short lines or
a run of digits. Each kind of page is cleaned and cut into passages at several sizes; the per-byte cost
of the largest may be at most a few times that of one an eighth of its size (a quadratic stage costs
eight times more). Each figure is the best of a few runs. The bad-input cases below check that such
files are ingested with a warning and that the rest of the folder still is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qa_service.chunking import chunk_documents
from qa_service.cleaning import clean_document
from qa_service.corpus import load_documents
from qa_service.domain import RawFile
from qa_service.settings import load_settings

SIZES = [20_000, 40_000, 80_000, 160_000]
FLAT = 3.0
REPEATS = 2
SENTENCE = "The council said on Tuesday that the budget of $4.5 million would rise by 3% next year. "


def _page(body: str, suffix: str = ".txt") -> RawFile:
    return RawFile(Path(f"page{suffix}"), "page", suffix, body)


PAGES: dict[str, Callable[[int], RawFile]] = {
    "one long line of prose": lambda n: _page(SENTENCE * (n // len(SENTENCE))),
    "many short lines": lambda n: _page("Latest headline here\n" * (n // 21)),
    "hard-wrapped prose": lambda n: _page(
        "\n".join(SENTENCE[i : i + 60] for i in range(0, len(SENTENCE), 60)) * (n // len(SENTENCE))
    ),
    "a blob without spaces": lambda n: _page("Title of the page\n\n" + "QUJD" * (n // 4)),
    "words without spaces between digits": lambda n: _page("1234567890" * (n // 10)),
    "email-like runs": lambda n: _page(("a" * 250 + " ") * (n // 251)),
    "minified html": lambda n: _page(
        "<html><body>" + ("<div><p>" + SENTENCE + "</p><span>x</span></div>") * (n // 120) + "</body></html>", ".html"
    ),
    "broken html": lambda n: _page("<html><body><p>" + ("<b>" + SENTENCE + "<i>") * (n // 100), ".html"),
}


def _cost(page: RawFile) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        doc = clean_document(page)
        if doc.text:
            chunk_documents([doc], 40, 120)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PAGES))
def test_cleaning_and_chunking_cost_grows_linearly(name: str) -> None:
    pages = {size: PAGES[name](size) for size in SIZES}
    seconds = {size: _cost(page) for size, page in pages.items()}
    print(f"\n{name}: " + ", ".join(f"{s // 1000} KB {seconds[s] * 1e3:.0f} ms" for s in SIZES))
    per_byte = {s: seconds[s] / len(pages[s].text) for s in SIZES}
    if seconds[SIZES[-1]] > 0.05:
        growth = per_byte[SIZES[-1]] / per_byte[SIZES[0]]
        assert growth < FLAT, f"{name}: per-byte cost grows {growth:.1f}x from {SIZES[0]:,} to {SIZES[-1]:,} bytes"


def test_a_single_huge_line_is_cut_with_a_warning_and_the_folder_still_ingests(tmp_path: Path) -> None:
    (tmp_path / "huge.txt").write_text("Huge page\n\n" + SENTENCE * 60_000, "utf-8")  # 5.2 MB, one line
    (tmp_path / "blob.md").write_text("# Data\n\n" + "QUJD" * 100_000 + "\n\n" + SENTENCE * 3, "utf-8")
    (tmp_path / "normal.txt").write_text("A normal page\n\n" + SENTENCE * 5, "utf-8")
    documents, warnings = load_documents(load_settings(source_dir=tmp_path, max_file_bytes=10_000_000))
    found = {d.doc_id: d for d in documents}
    assert set(found) == {"huge", "blob", "normal"}
    assert any("cut into lines" in w for w in found["huge"].warnings)
    assert any("without a space" in w for w in found["blob"].warnings)
    assert "QUJD" not in found["blob"].text and "budget of $4.5 million" in found["blob"].text
    assert any(w.startswith("huge:") for w in warnings)


def test_mixed_line_endings_a_bom_and_broken_markup_are_read(tmp_path: Path) -> None:
    body = "Ferry fares rise\r\n\r\n" + SENTENCE * 3 + "\r" + SENTENCE * 2 + "\n"
    (tmp_path / "endings.txt").write_bytes(b"\xef\xbb\xbf" + body.encode())
    (tmp_path / "broken.html").write_text(
        "<html><head><title>Ferry fares rise</title><body><p>" + SENTENCE * 3 + "<div><p><b>" + SENTENCE, "utf-8"
    )
    documents, _ = load_documents(load_settings(source_dir=tmp_path))
    found = {d.doc_id: d for d in documents}
    assert "\r" not in found["endings"].text and "\ufeff" not in found["endings"].text
    assert found["endings"].text.count("budget of $4.5 million") == 5
    assert "budget of $4.5 million" in found["broken"].text


def test_a_page_of_only_chrome_is_skipped_and_named(tmp_path: Path) -> None:
    (tmp_path / "chrome.txt").write_text(
        "Home | News | Sport | Weather\nMost Read\nFire at warehouse\nNew bridge opens\nTrain delays continue\n"
        "We use cookies to improve your experience.\n© 2024 Example Times. All rights reserved.\n",
        "utf-8",
    )
    (tmp_path / "story.txt").write_text("Ferry fares rise\n\n" + SENTENCE * 5, "utf-8")
    documents, warnings = load_documents(load_settings(source_dir=tmp_path))
    assert [d.doc_id for d in documents] == ["story"]
    assert "skipped chrome.txt: no article text after cleaning" in warnings


def test_a_very_short_article_is_kept_with_a_warning(tmp_path: Path) -> None:
    (tmp_path / "brief.txt").write_text("Road closed\n\nThe bridge on Mill Road will close on Monday for repairs.\n")
    documents, _ = load_documents(load_settings(source_dir=tmp_path))
    (doc,) = documents
    assert doc.text == "The bridge on Mill Road will close on Monday for repairs."
    assert any(w.startswith("very short article text") for w in doc.warnings)
