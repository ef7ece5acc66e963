"""Browser fixtures: the real app served by waitress on 127.0.0.1 in a thread, and Debian's Chromium via Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask

from benchmarks.runner import LiveServer
from qa_service.embedding import Embedder
from qa_service.index_store import build_index
from qa_service.service import QAService
from qa_service.settings import Settings, load_settings
from qa_service.web import create_app
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, MISSING

XSS_SOURCES = Path(__file__).resolve().parents[1] / "fixtures" / "xss"


def live(app: Flask, settings: Settings) -> Iterator[LiveServer]:
    with LiveServer.in_thread(app, settings) as server:
        yield server


@pytest.fixture(scope="session")
def seed_server(seed_service: QAService) -> Iterator[LiveServer]:
    yield from live(create_app(seed_service.settings, seed_service), seed_service.settings)


@pytest.fixture(scope="session")
def xss_server(tmp_path_factory, embedder: Embedder) -> Iterator[LiveServer]:
    """A separate index of one page whose text and metadata hold live-looking markup."""
    settings = load_settings(source_dir=XSS_SOURCES, index_dir=tmp_path_factory.mktemp("xss") / "index", cache_size=0)
    build_index(settings, embedder)
    service = QAService.open(settings, embedder=embedder)
    yield from live(create_app(settings, service), settings)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(MISSING)
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        sync_api.expect.set_options(timeout=20_000)  # the first answers on a small CPU can take a few seconds
        yield browser
        browser.close()


@dataclass
class PageWatch:
    """What the page did that a test must not allow: dialogs (alert/confirm), errors thrown, console errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> PageWatch:
    return PageWatch()


@pytest.fixture
def page(browser, watch: PageWatch):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()

    def on_dialog(dialog) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.on("console", lambda msg: watch.errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert watch.dialogs == [], f"the page opened dialogs: {watch.dialogs}"
    assert watch.errors == [], f"the page logged errors: {watch.errors}"
