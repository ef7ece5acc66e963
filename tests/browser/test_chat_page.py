"""The chat page in a real Chromium against the real app, model and index (served by waitress)."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ABSTAIN = "The sources don't answer this"
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def expect(*args, **kwargs):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(*args, **kwargs)


def ask(page, question: str) -> None:
    """Type a question, press Enter, and wait until its answer (or abstention) is on the page."""
    before = page.locator(".turn-assistant").count()
    page.fill("#question", question)
    page.press("#question", "Enter")
    reply = page.locator(".turn-assistant").nth(before)
    expect(reply.locator(".answer, .error-text")).to_be_visible()
    expect(page.locator("#conversation")).to_have_attribute("aria-busy", "false")


def last_answer(page):
    return page.locator(".turn-assistant").last.locator(".answer")


def test_ask_shows_an_answer_with_dated_citations(page, seed_server) -> None:
    page.goto(seed_server.url)
    expect(page.locator("label[for=question]")).to_have_text("Your question")
    pending = []
    page.route("**/api/chat", lambda route: pending.append(route))
    page.fill("#question", "What did Kato say on Friday?")
    page.press("#question", "Enter")
    # While the request is held: a loading state, aria-busy, the button disabled, the question shown.
    expect(page.locator("#conversation")).to_have_attribute("aria-busy", "true")
    expect(page.locator(".turn-assistant.loading")).to_be_visible()
    expect(page.locator("#send")).to_be_disabled()
    expect(page.locator(".turn-user .bubble")).to_have_text("What did Kato say on Friday?")
    expect(page.locator("#question")).to_have_value("")
    assert len(pending) == 1
    pending[0].continue_()

    answer = last_answer(page)
    expect(answer.locator(".answer-text")).to_be_visible()
    expect(page.locator("#conversation")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#send")).to_be_enabled()
    assert "Kato" in answer.locator(".answer-text").inner_text()
    assert answer.locator(".cite-marker").count() >= 1
    dates = answer.locator(".card time.date-badge")
    assert dates.count() >= 1
    assert all(ISO_DAY.match(dates.nth(i).get_attribute("datetime")) for i in range(dates.count()))
    card = answer.locator(".card").first
    expect(card.locator(".publisher")).not_to_be_empty()
    expect(card.locator(".card-title button")).not_to_be_empty()
    assert card.locator(".passage mark").count() >= 1  # the answering sentences are highlighted


def test_a_marker_scrolls_to_and_focuses_its_card(page, seed_server) -> None:
    page.goto(seed_server.url)
    ask(page, "Did Japan threaten to sell its US Treasuries?")
    marker = last_answer(page).locator(".cite-marker").last
    rank = re.search(r"\d+", marker.inner_text()).group()
    marker.click()
    card = last_answer(page).locator(f'.card[data-rank="{rank}"]')
    expect(card).to_be_focused()
    expect(card).to_be_in_viewport()


def test_enter_sends_and_shift_enter_adds_a_line(page, seed_server) -> None:
    page.goto(seed_server.url)
    box = page.locator("#question")
    box.click()
    page.keyboard.type("Did Japan threaten")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("to sell Treasuries?")
    expect(box).to_have_value("Did Japan threaten\nto sell Treasuries?")
    assert page.locator(".turn").count() == 0
    page.keyboard.press("Enter")
    expect(last_answer(page)).to_be_visible()
    expect(box).to_be_focused()


def test_a_follow_up_sends_the_earlier_turns(page, seed_server) -> None:
    page.goto(seed_server.url)
    ask(page, "What did Kato say on Friday?")
    first_answer = last_answer(page).locator(".answer-text").inner_text()
    with page.expect_request("**/api/chat") as sent:
        page.fill("#question", "What did he say two days later?")
        page.press("#question", "Enter")
    messages = json.loads(sent.value.post_data)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"] == "What did Kato say on Friday?"
    assert messages[1]["content"].split() == first_answer.split()
    assert messages[2]["content"] == "What did he say two days later?"
    follow_up = page.locator(".turn-assistant").nth(1).locator(".answer")
    expect(follow_up).to_be_visible()
    # The page shows what was searched: the pronoun's question made self-contained with the earlier turn.
    expect(follow_up.locator(".resolved")).to_contain_text("Kato")
    assert page.locator(".turn-user").count() == 2


def test_a_citation_opens_the_source_with_the_passage_highlighted(page, seed_server) -> None:
    page.goto(seed_server.url)
    ask(page, "What did Kato tell the press conference in Milan?")
    card = last_answer(page).locator(".card").first
    title = card.locator(".card-title button")
    title_text = title.inner_text()
    passage_text = card.locator(".passage").inner_text()
    title.click()
    dialog = page.locator("#doc-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#doc-title")).to_have_text(title_text)
    cited = dialog.locator("mark.cited-passage")
    expect(cited).to_be_visible()
    expect(cited).to_be_in_viewport()
    assert cited.inner_text().split() == passage_text.split()
    assert len(dialog.locator("#doc-text").inner_text()) > len(passage_text)  # the whole article, not the passage
    assert cited.locator("mark.answer-sentence").count() >= 1
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(title).to_be_focused()  # focus goes back to where the reader was


def test_an_abstention_says_so_with_the_nearest_passages_collapsed(page, seed_server) -> None:
    page.goto(seed_server.url)
    ask(page, "What is the capital of France?")
    answer = last_answer(page)
    expect(answer.locator(".abstain-text")).to_have_text(ABSTAIN)
    assert answer.locator(".answer-text").count() == 0
    details = answer.locator("details.nearest")
    expect(details).to_have_count(1)
    expect(details.locator(".card").first).to_be_hidden()
    details.locator("summary").click()
    expect(details.locator(".card").first).to_be_visible()


def test_an_uncertain_answer_says_no_passage_states_it_and_shows_the_passages_open(page, seed_server) -> None:
    """The middle outcome (confidence "low"): distinct from an answer and from a refusal."""
    page.goto(seed_server.url)
    ask(page, "Who replaced Kato as finance minister?")
    answer = last_answer(page)
    expect(answer.locator(".uncertain-text")).to_contain_text("No passage states this directly")
    expect(answer).to_have_class(re.compile(r"\buncertain\b"))
    assert answer.locator(".abstain-text").count() == 0
    expect(answer.locator(".evidence-heading")).to_contain_text("Nearest passages")
    expect(answer.locator(".evidence .card").first).to_be_visible()  # open, not collapsed


def test_order_by_date_makes_a_timeline(page, seed_server) -> None:
    page.goto(seed_server.url)
    ask(page, "Did Japan threaten to sell its US Treasuries in trade talks?")
    cards = last_answer(page).locator(".evidence .card")

    def ranks() -> list[int]:
        return [int(r) for r in cards.evaluate_all("cards => cards.map(c => c.dataset.rank)")]

    def dates() -> list[str]:
        return [d or "9999" for d in cards.evaluate_all("cards => cards.map(c => c.dataset.date)")]

    assert ranks() == sorted(ranks())
    page.get_by_label("Order by date").check()
    assert dates() == sorted(dates())
    expect(last_answer(page).locator(".evidence")).to_have_class(re.compile(r"\btimeline\b"))
    page.get_by_label("Order by date").uncheck()
    assert ranks() == sorted(ranks())


def test_the_page_fits_a_375_px_screen(page, seed_server) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(seed_server.url)
    ask(page, "Did Japan threaten to sell its US Treasuries?")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    last_answer(page).locator(".card-title button").first.click()
    box = page.locator("#doc-dialog").bounding_box()
    assert box["x"] >= 0 and box["width"] <= 375


def test_source_markup_renders_as_inert_text(page, xss_server, watch) -> None:
    page.goto(xss_server.url)
    ask(page, "What did the harbour council clerk paste into the lighthouse bulletin?")
    answer = last_answer(page)
    expect(answer.locator(".answer-text")).to_contain_text('<script>window.__xss = "script ran"</script>')
    expect(answer.locator(".evidence")).to_contain_text("<img src=x onerror=")
    expect(answer.locator(".card .publisher").first).to_have_text("Port Verity <i>Gazette</i>")
    expect(answer.locator(".card-title").first).to_contain_text("<b>raw markup</b>")

    answer.locator(".card-title button").first.click()
    dialog = page.locator("#doc-dialog")
    expect(dialog.locator("#doc-text")).to_contain_text("<img src=x onerror=")
    expect(page.locator("#doc-title")).to_contain_text("<b>raw markup</b>")
    expect(dialog.locator(".original-link")).to_have_count(0)  # a javascript: url never becomes a link

    assert page.evaluate("window.__xss") is None
    assert page.locator("img, b, i, a[href^='javascript']").count() == 0
    assert page.locator("script").count() == 1  # only chat.js
    assert watch.dialogs == []
