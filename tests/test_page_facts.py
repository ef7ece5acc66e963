"""Dates, titles, outlets and wire sources on tiny pages, one shape each, through clean_document.

Every rule here is general: none names a site. A wrong date is worse than none, so the ambiguous
cases must come back as None with a warning.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_service.cleaning import clean_document
from qa_service.domain import Document, RawFile

BODY = (
    "The harbour board approved a new fee schedule at its meeting, raising berth charges by 4% from next month. "
    "Board chair Ana Ruiz said the increase was needed to pay for dredging.\n\n"
    '"We have not raised fees in six years and the channel is silting up," Ruiz said. The board also agreed to '
    "study a second ferry terminal, with a report due in the autumn.\n\n"
    "Shipping lines said they would pass some of the cost on to customers, but welcomed the dredging plan, which "
    "should let larger vessels call at the port."
)


def page(text: str, suffix: str = ".txt") -> Document:
    return clean_document(RawFile(Path(f"page{suffix}"), "page", suffix, text))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Published: 14 March 2024\nUpdated: 15 March 2024", "2024-03-14"),
        ("Updated: 15 March 2024\nPublished: 14 March 2024", "2024-03-14"),
        ("Updated July 8, 2024, 6:15 p.m. | first published July 4, 2024, 7:30 a.m.", "2024-07-04"),
        ("Tuesday, 12 March 2024 17.05 GMT", "2024-03-12"),
        ("22.11.2021 | 09:47 GMT", "2021-11-22"),
        ("Apr - 07 - 2024", "2024-04-07"),
        ("Posted 3 Mar 24", "2024-03-03"),
        ("2024-03-14T08:00:00Z", "2024-03-14"),
    ],
)
def test_the_publication_date_in_a_header(header: str, expected: str) -> None:
    doc = page(f"Harbour fees rise to pay for dredging\n{header}\n\n{BODY}")
    assert doc.date == expected


def test_only_an_update_date_is_no_publication_date() -> None:
    doc = page(f"Harbour fees rise to pay for dredging\nLast updated: 15 March 2024\n\n{BODY}")
    assert doc.date is None
    assert any("only an update date" in w for w in doc.warnings)


def test_an_ambiguous_numeric_date_without_evidence_is_none_with_a_warning() -> None:
    doc = page(f"Harbour fees rise to pay for dredging\nPublished 05/06/2024\n\n{BODY}")
    assert doc.date is None
    assert any("ambiguous date '05/06/2024'" in w for w in doc.warnings)


def test_a_weekday_the_story_names_settles_a_numeric_date() -> None:
    # 02/05/2025 is Friday 2 May (day first) or Wednesday 5 February (month first).
    body = BODY.replace("at its meeting", "at its meeting on Friday")
    assert page(f"Harbour fees rise to pay for dredging\nPublished 02/05/2025\n\n{body}").date == "2025-05-02"
    body = BODY.replace("at its meeting", "at its meeting on Wednesday")
    assert page(f"Harbour fees rise to pay for dredging\nPublished 02/05/2025\n\n{body}").date == "2025-02-05"


def test_how_the_page_writes_other_dates_settles_a_numeric_date() -> None:
    body = (
        BODY
        + "\n\nThe new fees take effect on 28 June, and the council will review them in September. "
        + "The colour scheme and the centre of the harbour are unchanged."
    )
    assert page(f"Harbour fees rise to pay for dredging\nPublished 03/06/2024\n\n{body}").date == "2024-06-03"


def test_a_date_later_than_the_page_header_date_is_not_taken() -> None:
    header = (
        "Retrieved 15 January 2024 from example.org\nHarbour fees rise to pay for dredging\nPublished: 20 March 2024"
    )
    doc = page(f"{header}\n\n{BODY}")
    assert doc.date is None


@pytest.mark.parametrize(
    "text",
    [
        "Thursday, June 6, 2024\nSpringfield 21°C Sunny\nHarbour fees rise to pay for dredging\n\n"
        + BODY
        + "\n\n© 2023 Example Post",
        f"Harbour fees rise to pay for dredging\n\n{BODY}\n\nMost Read\n12.03.2024 Bridge reopens after repairs\n"
        "11.03.2024 Council elects new mayor",
    ],
    ids=["today's date and copyright", "dates of other stories"],
)
def test_crawl_list_and_copyright_dates_are_never_the_publication_date(text: str) -> None:
    assert page(text).date is None


def test_a_date_after_the_body_counts_when_it_says_it_is_the_publication() -> None:
    doc = page(f"Harbour fees rise\n\n{BODY}\n\nPublished in The Valley Courier, May 23rd, 2018\n")
    assert (doc.date, doc.publisher) == ("2018-05-23", "The Valley Courier")


def test_dates_inside_the_story_are_not_its_date() -> None:
    body = BODY.replace("at its meeting", "at its meeting on 12 March 2024")
    assert page(f"Harbour fees rise to pay for dredging\n\n{body}").date is None


def test_a_sentence_with_a_temperature_or_price_is_body_text() -> None:
    body = BODY + "\n\nTemperatures reached 41°C on Tuesday, and diesel sold for $1.89 a litre at the quay."
    doc = page(f"Harbour fees rise to pay for dredging\n\n{body}")
    assert "Temperatures reached 41°C on Tuesday" in doc.text


def test_the_headline_is_the_last_headline_shaped_line_above_the_story_not_a_list_item() -> None:
    text = (
        "TRENDING\nBridge reopens after repairs\nCouncil elects new mayor\nSchool wins award\n"
        f"Harbour fees rise to pay for dredging\n\n{BODY}"
    )
    assert page(text).title == "Harbour fees rise to pay for dredging"


def test_a_standfirst_under_the_headline_is_not_the_title() -> None:
    text = (
        "Business\nHarbour fees rise to pay for dredging\n"
        "Shipping lines say they will pass on some of the cost to customers as the channel silts up\n"
        f"By Kim Lee\n14 March 2024\n\n{BODY}"
    )
    doc = page(text)
    assert (doc.title, doc.author, doc.date) == ("Harbour fees rise to pay for dredging", "Kim Lee", "2024-03-14")


def test_a_page_without_a_headline_has_no_title_and_says_so() -> None:
    doc = page(f"Home\nNews\nSport\nWeather\n\n{BODY}")
    assert doc.title is None
    assert "no title found" in doc.warnings


def test_a_site_suffix_is_cut_from_the_title_and_names_the_outlet() -> None:
    text = f"Harbour fees rise to pay for dredging - The Harbor Ledger\nHarbour fees rise to pay for dredging\n\n{BODY}"
    doc = page(text)
    assert (doc.title, doc.publisher) == ("Harbour fees rise to pay for dredging", "The Harbor Ledger")


@pytest.mark.parametrize(
    ("dateline", "footer", "publisher", "source"),
    [
        ("TOKYO (Reuters) - ", "© 2024 Example Post. All rights reserved.", "Example Post", "Reuters"),
        ("(Bloomberg) -- ", "", "Bloomberg", "Bloomberg"),
        (
            "CHICAGO (AP) — ",
            "Copyright 2024 The Associated Press. All rights reserved.",
            "Associated Press",
            "Associated Press",
        ),
        ("NEW DELHI, Jan 4 (PTI) ", "", "PTI", "PTI"),
        (
            "",
            "All contents © copyright 2023 Associated Press. All rights reserved.",
            "Associated Press",
            "Associated Press",
        ),
    ],
)
def test_wire_copy_names_its_agency_as_source_and_the_outlet_as_publisher(dateline, footer, publisher, source) -> None:
    doc = page(f"Harbour fees rise to pay for dredging\n\n{dateline}{BODY}\n\n{footer}")
    assert (doc.publisher, doc.source) == (publisher, source)


def test_a_wire_named_in_the_prose_is_not_the_source() -> None:
    body = BODY.replace("Board chair", "AP News reported that board chair")
    assert page(f"Harbour fees rise to pay for dredging\n\n{body}").source is None


def test_html_metadata_gives_title_date_outlet_and_address() -> None:
    html = f"""<html><head><title>Harbour fees rise | The Ledger</title>
    <meta property="og:title" content="Harbour fees rise to pay for dredging">
    <meta property="og:site_name" content="The Ledger">
    <meta property="article:published_time" content="2024-03-14T08:00:00+00:00">
    <meta property="article:modified_time" content="2024-03-16T08:00:00+00:00">
    <link rel="canonical" href="https://ledger.example/2024/03/14/harbour-fees"></head>
    <body><nav><a href="/">Home</a></nav><h1>Harbour fees rise to pay for dredging</h1>
    {"".join(f"<p>{p}</p>" for p in BODY.split(chr(10) + chr(10)))}
    <aside><h3>Most read</h3><ul><li><a href="/a">Bridge reopens after repairs</a></li></ul></aside></body></html>"""
    doc = page(html, ".html")
    assert (doc.title, doc.date, doc.publisher, doc.url) == (
        "Harbour fees rise to pay for dredging",
        "2024-03-14",
        "The Ledger",
        "https://ledger.example/2024/03/14/harbour-fees",
    )
    assert "Bridge reopens" not in doc.text and "study a second ferry terminal" in doc.text


def test_hard_wrapped_text_without_blank_lines_keeps_every_line() -> None:
    words = BODY.replace("\n\n", " ").split()
    lines, line = [], ""
    for word in words:
        if len(line) + len(word) + 1 > 62:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    doc = page("HARBOUR FEES RISE\n" + "\n".join(lines))
    assert " ".join(BODY.replace("\n\n", " ").split()) in " ".join(doc.text.split())


def test_british_spelling_alone_does_not_settle_a_numeric_date() -> None:
    """Canadian pages spell "centre" and "licence" and write the month first."""
    body = BODY + "\n\nThe centre needs drivers with a clean licence, and the programme is run by volunteers."
    doc = page(f"Harbour fees rise to pay for dredging\nPublished 05/06/2024\n\n{body}")
    assert doc.date is None
    assert any("ambiguous date" in w for w in doc.warnings)


def test_a_weekday_among_several_is_no_evidence_for_the_day_after_it() -> None:
    # 03/04/2019 is Wednesday 3 April or Monday 4 March; "Tuesday" alone would point at the Wednesday.
    body = BODY + "\n\nVolunteers collect donations on Tuesday and Friday mornings."
    assert page(f"Harbour fees rise to pay for dredging\nPosted 03/04/2019\n\n{body}").date is None


@pytest.mark.parametrize("stamp", ["Updated 52 minutes ago", "Published 3 hours ago", "Posted yesterday"])
def test_a_relative_time_is_a_date_line_not_the_headline(stamp: str) -> None:
    doc = page(f"NEWS\nHarbour fees rise to pay for dredging\n{stamp}\n\n{BODY}")
    assert doc.title == "Harbour fees rise to pay for dredging"
    assert doc.date is None


def test_a_hard_wrapped_sentence_ending_in_a_capitalised_line_is_joined() -> None:
    wrapped = (
        "Harbour fees rise to pay for dredging\n"
        "The harbour board approved a new fee schedule at its meeting\n"
        "this week, raising berth charges by four percent, officials said on\n"
        "Friday.\n"
        "The increase will pay for dredging of the channel, which the board\n"
        "said had been delayed by a dispute with the Regional Port\n"
        "Authority.\n"
        "Shipping lines said they would pass some of the cost on to their\n"
        "customers but welcomed the plan, which should let larger vessels\n"
        "call at the port from next spring, the chair of the board said.\n"
    )
    doc = page(wrapped)
    paragraphs = doc.text.split("\n\n")
    assert paragraphs[0].endswith("officials said on Friday.")
    assert "delayed by a dispute with the Regional Port Authority." in paragraphs[1]


def test_the_authors_role_under_the_byline_does_not_hide_the_headline() -> None:
    doc = page(f"Rural > Farming\n\nHarbour fees rise to pay for dredging\n\nBy Ana Ruiz\nRural reporter\n\n{BODY}")
    assert doc.title == "Harbour fees rise to pay for dredging"


def test_a_copyright_line_after_footer_links_names_the_outlet() -> None:
    footer = "Privacy · Terms · © 2024 The Harbour Courier. All rights reserved."
    doc = page(f"THE HARBOUR COURIER\nHarbour fees rise to pay for dredging\nBy Ana Ruiz\n\n{BODY}\n\n{footer}")
    assert doc.publisher == "The Harbour Courier"


def test_a_label_on_the_line_above_names_the_date_under_it() -> None:
    header = "Updated\nMay 29, 2024, 11:20 AM\nPublished\nMay 28, 2024, 05:00 PM"
    assert page(f"Harbour fees rise to pay for dredging\n{header}\n\n{BODY}").date == "2024-05-28"


def test_a_post_date_over_the_headline_under_the_date_of_today() -> None:
    top = "Wednesday, September 13, 2023\nThe Harbour Post\nHome | News | Sport\n\nSeptember 12, 2023\nNews"
    doc = page(f"{top}\nHarbour fees rise to pay for dredging\nBy Ana Ruiz\n\n{BODY}")
    assert (doc.title, doc.date) == ("Harbour fees rise to pay for dredging", "2023-09-12")


def test_the_date_of_today_alone_over_the_headline_is_not_the_date() -> None:
    doc = page(f"Wednesday, September 13, 2023\nNews\nHarbour fees rise to pay for dredging\nBy Ana Ruiz\n\n{BODY}")
    assert doc.date is None


@pytest.mark.parametrize(
    "byline", ["By Reuters News Service 00", "World News | Agence France-Presse | Updated: June 05, 2024 6:12 pm"]
)
def test_a_byline_naming_an_agency_makes_it_the_source(byline: str) -> None:
    doc = page(f"Harbour fees rise to pay for dredging\n{byline}\n\n{BODY}")
    assert doc.title == "Harbour fees rise to pay for dredging"
    assert doc.source in ("Reuters", "AFP")


@pytest.mark.parametrize(
    "between", ["Read Time: 3 mins", "Video player loading…", "FULL STORY", "Source:\nHarbour Board"]
)
def test_lines_between_the_headline_and_the_story_are_stepped_over(between: str) -> None:
    doc = page(f"THE HARBOUR POST\nHarbour fees rise to pay for dredging\n{between}\n\n{BODY}")
    assert doc.title == "Harbour fees rise to pay for dredging"


def test_a_repeated_outlet_credit_is_not_the_headline() -> None:
    headline = "Harbour fees rise to pay for dredging at the port"
    doc = page(f"{headline}\n{headline}\nWestern Radio News\n2 days ago\n\n{BODY}\n\nWestern Radio News")
    assert doc.title == headline


def test_a_sentence_about_a_place_is_not_an_authors_bio() -> None:
    closing = "Chile is the world's second-largest producer of lithium, a metal used in batteries for cars."
    doc = page(f"Harbour fees rise to pay for dredging\nBy Reuters News Service\n\n{BODY}\n\n{closing}")
    assert closing in doc.text


def test_the_masthead_linking_home_names_the_outlet_and_a_byline_does_not() -> None:
    text = (
        "[The Harbour Courier](https://www.harbourcourier.example/)\n\n"
        "# Harbour fees rise to pay for dredging\n\n**Ana Ruiz** – Harbour Correspondent\n\n"
        f"{BODY}\n\nAna Ruiz is harbour correspondent at the paper."
    )
    doc = page(text, ".md")
    assert doc.publisher == "The Harbour Courier"


@pytest.mark.parametrize(
    "line",
    [
        "(This is an unedited and auto-generated story from a syndicated feed.)",
        "Materials provided by the Harbour Institute. Note: Content may be edited for style and length.",
        "The Harbour Post is not responsible for the content of external internet sites.",
        "Residents wait for the ferry at the terminal. (Representational)",
    ],
)
def test_closing_notes_and_captions_are_chrome(line: str) -> None:
    doc = page(f"Harbour fees rise to pay for dredging\nBy Ana Ruiz\n\n{BODY}\n\n{line}")
    assert line[:30] not in doc.text


@pytest.mark.parametrize(
    "line",
    [
        "We're a nonprofit newsroom, and readers like you make this reporting possible.",
        "When you purchase through links on our site, we may earn an affiliate commission.",
        "This article is for subscribers. Subscribe now from $1 a week to keep reading.",
        "An earlier version of this story misstated the harbour master's first name.",
        "This video can not be played. To play this video you need to enable JavaScript.",
        "We and our 142 partners store and access information on your device.",
        "This article is republished from The Harbour Review under a Creative Commons license.",
    ],
)
def test_prose_shaped_chrome_inside_or_after_the_story_is_dropped(line: str) -> None:
    paragraphs = BODY.split("\n\n")
    text = "\n\n".join([paragraphs[0], line, *paragraphs[1:]])
    doc = page(f"Harbour fees rise to pay for dredging\nBy Ana Ruiz\n\n{text}")
    assert line[:30] not in doc.text
    assert paragraphs[-1][:40] in doc.text


def test_a_cached_pages_snapshot_date_is_not_its_publication_date() -> None:
    cache = "This is a cache of https://example.org/story. It is a snapshot of the page as it appeared on 18 Sep 2021."
    doc = page(f"{cache}\n\nHarbour fees rise to pay for dredging\nBy Ana Ruiz\nPublished Sep. 16, 2021\n\n{BODY}")
    assert doc.date == "2021-09-16"


@pytest.mark.parametrize("tail", ["as it happened", "full details", "live updates"])
def test_a_lower_case_tail_after_a_dash_is_part_of_the_headline(tail: str) -> None:
    headline = f"Harbour fees rise to pay for dredging – {tail}"
    assert page(f"{headline}\nBy Ana Ruiz\n\n{BODY}").title == headline


def test_a_front_matter_source_that_is_an_address_is_the_url_not_the_outlet() -> None:
    front = '---\ntitle: "Harbour fees rise to pay for dredging"\nsource: "https://harbour.example/fees"\n---\n\n'
    doc = page(front + BODY, ".md")
    assert doc.url == "https://harbour.example/fees"
    assert doc.publisher != "https://harbour.example/fees"
