"""The chat page and the API docs page work in Chromium under the Content-Security-Policy, which is enforced.

Chromium reports a CSP violation as a console error, so "works under the policy" means: the page did its
job and logged no error. Playwright runs on its own thread here: tests/browser keeps a sync Playwright
open on the main thread for the whole session, and a second one cannot share that thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from qa_service.web.security import CONTENT_SECURITY_POLICY
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, MISSING

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class BrowserThread:
    """Chromium driven by Playwright's sync API on one dedicated thread; ``run`` executes a step there."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
        self._pool.submit(self._start).result(timeout=120)

    def _start(self) -> None:
        from playwright.sync_api import expect, sync_playwright

        self._playwright = sync_playwright().start()
        self.browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        expect.set_options(timeout=20_000)

    def run(self, step: Callable, *args):
        return self._pool.submit(step, self.browser, *args).result(timeout=300)

    def close(self) -> None:
        def stop() -> None:
            self.browser.close()
            self._playwright.stop()

        self._pool.submit(stop).result(timeout=60)
        self._pool.shutdown()


@pytest.fixture(scope="module")
def chromium() -> Iterator[BrowserThread]:
    if not CHROMIUM.exists():
        pytest.skip(MISSING)
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install)")
    thread = BrowserThread()
    yield thread
    thread.close()


def open_page(browser, url: str):
    """A fresh page at ``url``, its console errors and page errors collected; returns (context, page, errors)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(url)
    return context, page, response, errors


def chat_page_session(browser, url: str) -> tuple[dict, list[str]]:
    from playwright.sync_api import expect

    context, page, response, errors = open_page(browser, url)
    try:
        page.fill("#question", "What did Kato tell the press conference in Milan?")
        page.press("#question", "Enter")
        answer = page.locator(".turn-assistant .answer").last
        expect(answer.locator(".answer-text")).to_be_visible()
        card = answer.locator(".card").first
        expect(card.locator(".passage mark").first).to_be_visible()  # styles from chat.css
        card.locator(".card-title button").click()
        expect(page.locator("#doc-dialog mark.cited-passage")).to_be_visible()  # fetch() of /api/documents/...
        expect(page.locator("#corpus-summary")).to_contain_text("indexed article")  # fetch() of /api/health
        return response.headers, errors
    finally:
        context.close()


def docs_page_session(browser, url: str) -> tuple[dict, list[str], str]:
    from playwright.sync_api import expect

    context, page, response, errors = open_page(browser, f"{url}/api/docs")
    try:
        expect(page.locator("#docs")).to_have_attribute("aria-busy", "false")
        expect(page.locator("#endpoints-section")).to_be_visible()
        return response.headers, errors, page.locator("#endpoints").inner_text()
    finally:
        context.close()


def enforcement_session(browser, url: str) -> tuple[bool, str, str]:
    """Inject an inline script (it must not run) and frame the page (it must be refused)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        with page.expect_console_message(lambda m: "Content Security Policy" in m.text) as refused:
            ran = page.evaluate(
                """() => {
                    const s = document.createElement("script");
                    s.textContent = "window.__inlineRan = true";
                    document.head.appendChild(s);
                    return window.__inlineRan === true;
                }"""
            )
        framing = context.new_page()
        with framing.expect_console_message(lambda m: "frame-ancestors" in m.text) as framed:
            framing.set_content(f'<iframe src="{url}/"></iframe>')
        return ran, refused.value.text, framed.value.text
    finally:
        context.close()


def test_the_chat_page_works_under_the_policy(chromium: BrowserThread, live) -> None:
    headers, errors = chromium.run(chat_page_session, live.url)
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert errors == []


def test_the_docs_page_works_under_the_policy(chromium: BrowserThread, live) -> None:
    headers, errors, endpoints = chromium.run(docs_page_session, live.url)
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "/api/ask" in endpoints and "/api/admin/reindex" not in endpoints  # this server has no admin token
    assert errors == []


def test_the_policy_is_enforced(chromium: BrowserThread, live) -> None:
    ran, script_report, frame_report = chromium.run(enforcement_session, live.url)
    assert ran is False and "script-src" in script_report
    assert "frame-ancestors 'none'" in frame_report
