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


def with_paragraph(line: str) -> Document:
    """The tiny story with ``line`` as its second paragraph."""
    paragraphs = BODY.split("\n\n")
    text = "\n\n".join([paragraphs[0], line, *paragraphs[1:]])
    return page(f"Harbour fees rise to pay for dredging\nBy Ana Ruiz\n\n{text}")


LAST_PARAGRAPH = BODY.split("\n\n")[-1]


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


@pytest.mark.parametrize(
    "line",
    ["Volunteers collect donations on Tuesday and Friday mornings.", "The board announced the plan on Tuesday."],
)
def test_a_weekday_before_one_reading_is_no_evidence_for_it(line: str) -> None:
    # 03/04/2019 is Wednesday 3 April or Monday 4 March: a story posted on either could name a Tuesday.
    body = BODY + "\n\n" + line
    doc = page(f"Harbour fees rise to pay for dredging\nPosted 03/04/2019\n\n{body}")
    assert doc.date is None
    assert any("ambiguous date" in w for w in doc.warnings)


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
        "A dredger works the channel in August 2024. Photo by Kyle Brannigan, Harbour Photo Services.",
        "Volunteers fill sandbags at the harbour on Tuesday. (Photo courtesy of the Harbour Board)",
        "The channel five months after the storm. (Supplied: Harbour Landcare)",
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
        "Watch Ana Ruiz's full report from the harbour in the player above.",
        "Stay updated: join the Harbour Daily Viber community for storm alerts.",
        "Listen to Quayside Talks, our shipping podcast, episode 86.",
        "This story was produced in partnership with the Coastal Reporting Fellowship.",
        "The views expressed here do not necessarily reflect the views of the Harbour Post.",
    ],
)
def test_prose_shaped_chrome_inside_or_after_the_story_is_dropped(line: str) -> None:
    doc = with_paragraph(line)
    assert line[:30] not in doc.text
    assert LAST_PARAGRAPH[:40] in doc.text


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


def test_a_two_sentence_headline_marked_up_as_one_is_kept() -> None:
    headline = "The harbour stopped taking cruise ships. Now the cafes are empty."
    html = f"<html><body><p>Local</p><h1>{headline}</h1><p>By Ana Ruiz, June 12, 2024</p>"
    html += "".join(f"<p>{p}</p>" for p in BODY.split("\n\n")) + "</body></html>"
    assert page(html, ".html").title == headline


def test_a_caption_with_its_credit_over_the_story_and_a_name_line_are_stepped_over() -> None:
    caption = "*Dredgers work in the harbour channel at dawn. Ana Ruiz/Harbour Review, CC BY-ND*"
    md = "# Harbour Review\n\n## Harbour fees rise. Here's why that matters for shipping\n\n"
    md += "**Ana Ruiz**, Professor of Maritime Economics, Portside University\n\n*Published 9 October 2023*\n\n"
    assert page(md + caption + "\n\n" + BODY, ".md").title == "Harbour fees rise. Here's why that matters for shipping"


def test_a_caption_credited_after_a_dash_is_not_the_headline() -> None:
    caption = "A view of the harbour channel that will be dredged under the first phase of the plan. - AGENCY file pic"
    doc = page(f"Harbour fees rise to pay for dredging\n14/08/2024 03:12 PM\nSource: AGENCY\n\n{caption}\n\n{BODY}")
    assert doc.title == "Harbour fees rise to pay for dredging"


def test_highlights_and_a_provided_by_label_under_a_release_headline_are_stepped_over() -> None:
    head = "Harbour Board Reports Record Third Quarter Revenue; Raises Outlook\n\n"
    head += (
        "- Revenue of $41.2 million, up 14% year over year\n- Berth occupancy of 93%\n- Raises full-year outlook\n\n"
    )
    head += "News provided by\n\nHarbour Board Inc.\n\nOct 24, 2024, 16:05 ET\n\n"
    assert page(head + BODY).title == "Harbour Board Reports Record Third Quarter Revenue; Raises Outlook"


def test_the_address_slug_picks_the_headline_over_the_standfirst() -> None:
    head = "This is a cache of https://news.example/local/harbour-fees-rise-to-pay-for-dredging-4471209.\n\n"
    head += "Harbour fees rise to pay for dredging\nShipping lines say the new charges put the winter season at risk\n"
    head += "Ana Ruiz\nPublished Sep. 16, 2021 at 5:45 p.m.\n\n"
    assert page(head + BODY).title == "Harbour fees rise to pay for dredging"


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>The Harbour Review - Local News</title><link>https://www.harbourreview.example/news/</link>
<lastBuildDate>Tue, 08 Oct 2024 02:14:51 +1100</lastBuildDate>
{items}
</channel></rss>"""
ITEM = """<item><title>{title}</title><link>https://www.harbourreview.example/news/{slug}/</link>
<dc:creator><![CDATA[Ana Ruiz]]></dc:creator><pubDate>Mon, 07 Oct 2024 06:30:00 +1100</pubDate>
<content:encoded><![CDATA[{html}]]></content:encoded></item>"""


def test_an_rss_feed_saved_as_text_is_its_items_story() -> None:
    html = "".join(f"<p>{p}</p>" for p in BODY.split("\n\n"))
    doc = page(FEED.format(items=ITEM.format(title="Harbour fees rise", slug="harbour-fees-rise", html=html)))
    assert (doc.title, doc.date, doc.publisher) == ("Harbour fees rise", "2024-10-07", "The Harbour Review")
    assert doc.url == "https://www.harbourreview.example/news/harbour-fees-rise/"
    assert doc.author == "Ana Ruiz"
    assert "Shipping lines said" in doc.text and "lastBuildDate" not in doc.text
    assert not doc.warnings


def test_a_feed_of_several_items_keeps_the_full_story_and_says_so() -> None:
    html = "".join(f"<p>{p}</p>" for p in BODY.split("\n\n"))
    items = ITEM.format(title="Ferry timetable changes", slug="b", html="<p>The ferry will leave at nine.</p>")
    items += ITEM.format(title="Harbour fees rise", slug="a", html=html)
    doc = page(FEED.format(items=items))
    assert doc.title == "Harbour fees rise"
    assert "ferry will leave at nine" not in doc.text
    assert any("a feed of 2 items: only the one with the most text is indexed" in w for w in doc.warnings)


def test_a_front_matter_date_the_page_labels_as_the_update_is_not_the_publication_date() -> None:
    front = '---\ntitle: "Harbour fees rise to pay for dredging"\ndate: 2025-03-05 10:02:00 +0530\n---\n\n'
    header = "*Published: Mar 4, 2025, 18:30 IST | Updated: Mar 5, 2025, 10:02 IST*\n\n"
    assert page(front + header + BODY, ".md").date == "2025-03-04"


def test_a_relative_time_with_a_machine_date_in_its_markup_gives_that_date() -> None:
    html = "<html><body><h1>Harbour fees rise to pay for dredging</h1><p>By Ana Ruiz</p>"
    html += '<p><span>Published <time datetime="2025-02-18T14:05:00-08:00">3 hours ago</time></span> '
    html += '<span>Updated <time datetime="2025-02-19T09:00:00-08:00">1 hour ago</time></span></p>'
    html += "".join(f"<p>{p}</p>" for p in BODY.split("\n\n")) + "</body></html>"
    assert page(html, ".html").date == "2025-02-18"


def test_an_h1_the_title_tag_confirms_is_the_headline_even_if_it_reads_like_a_promo() -> None:
    headline = "WATCH: Crews free a seal trapped in the harbour"
    html = f"<html><head><title>{headline} - Harbour TV</title></head><body><p>Harbour TV</p><h1>{headline}</h1>"
    html += "<p>Video shows crews lifting the seal out with straps.</p><p>Jane Doe, Digital Journalist</p>"
    html += "".join(f"<p>{p}</p>" for p in BODY.split("\n\n")) + "</body></html>"
    assert page(html, ".html").title == headline


def test_a_link_written_out_under_the_byline_is_neither_headline_nor_a_stop() -> None:
    head = (
        "TOP STORY\nHarbour fees rise to pay for dredging as berth charges climb\nBy Ana Ruiz, Maritime Correspondent\n"
    )
    head += "Read on the web: https://news.example/harbour/fees-rise\n\n"
    assert page(head + BODY).title == "Harbour fees rise to pay for dredging as berth charges climb"


def test_a_headline_set_on_two_lines_is_joined() -> None:
    head = "HARBOUR\n\nHarbour board to raise berth fees\n\nto pay for dredging from Monday\n\nOur Staff Reporter\n\n"
    head += "Published March 15, 2025\n\n"
    assert page(head + BODY).title == "Harbour board to raise berth fees to pay for dredging from Monday"


@pytest.mark.parametrize(
    "line",
    [
        "Share on: Facebook Twitter WhatsApp Telegram Email",
        "Follow The Harbour Times on WhatsApp for the latest updates",
        "Like our page on Facebook and follow us on Instagram for game-day updates.",
    ],
)
def test_social_promotions_are_neither_headline_nor_article(line: str) -> None:
    doc = page(f"Harbour fees rise to pay for dredging\nBy Ana Ruiz\nJune 11, 2025 8:41 pm\n{line}\n\n{BODY}")
    assert doc.title == "Harbour fees rise to pay for dredging"
    assert line[:25] not in doc.text


@pytest.mark.parametrize(
    "thread",
    [
        '3 thoughts on "Harbour fees rise to pay for dredging"\n\nGary P. says:\n7th June 2023 at 6:42 pm\n\n'
        "Finally the council has done something about the silt in the channel.",
        "Gary P. says:\n7th June 2023 at 6:42 pm\n\nFinally the council has done something about the silt in the "
        "channel.\n\nReply\n\nMaureen L. says:\n7th June 2023 at 8:15 pm\n\nWould be nice if they had done it sooner.",
        "Re: Harbour fees rise to pay for dredging\nPost by Gary_P » Tue Feb 18, 2025 8:31 pm\n\nFinally the council "
        "has done something about the silt in the channel.",
    ],
    ids=["WordPress header", "name lines over dates", "forum replies"],
)
def test_a_comment_thread_after_the_story_is_not_article_text(thread: str) -> None:
    doc = page(f"Harbour fees rise to pay for dredging\nBy Ana Ruiz\nJune 7, 2023\n\n{BODY}\n\n{thread}")
    assert "silt in the channel" not in doc.text
    assert BODY.split("\n\n")[-1][:40] in doc.text


def test_a_says_line_inside_the_story_does_not_end_it() -> None:
    doc = with_paragraph("The board's report says:")
    assert LAST_PARAGRAPH[:40] in doc.text


def test_an_authors_bio_after_a_label_is_chrome() -> None:
    bio = "About the author: Lena Ortiz is a freelance science writer based in Portside. She covers the coast."
    doc = page(f"Harbour fees rise to pay for dredging\nBy Lena Ortiz\n\n{BODY}\n\n{bio}")
    assert "freelance science writer" not in doc.text
    assert BODY.split("\n\n")[-1][:40] in doc.text


def test_a_pull_quote_the_story_says_again_is_not_said_twice() -> None:
    doc = with_paragraph("“We have not raised fees in six years and the channel is silting up.”")
    assert doc.text.count("have not raised fees in six years") == 1


def test_a_read_time_with_a_view_count_does_not_hide_the_headline() -> None:
    doc = page(
        f"NEWS\n\nHarbour fees rise to pay for dredging\nWritten by Ana Ruiz\n4 min read · 1,284 Views\n\n{BODY}"
    )
    assert doc.title == "Harbour fees rise to pay for dredging"


def test_an_og_title_naming_the_site_is_no_stand_in_headline() -> None:
    html = '<html><head><meta property="og:title" content="Harbour Quarterly — Long reads from the coast"></head>'
    html += "<body><p>Harbour Quarterly</p><h1>Features</h1>"
    html += "".join(f"<p>{p}</p>" for p in BODY.split("\n\n")) + "</body></html>"
    doc = page(html, ".html")
    assert doc.title is None
    assert "no title found" in doc.warnings


@pytest.mark.parametrize(
    "paragraph",
    [
        "On the podcast this week: can harbours electrify fast enough? Listen to Quayside Talks, episode 86.",
        "Is your yard ready? Download Portside Solutions' free whitepaper on electric cranes.",
        "Save 15% on the Voltra C3 at Cyclehaus this week with code GEAR15.",
        "Explore what HarbourPulse can do for you:",
        "Forward it to a friend.",
        "Support the Harbour Weekly with a paid subscription from $5 a month.",
    ],
)
def test_a_short_paragraph_holding_a_promotion_is_chrome(paragraph: str) -> None:
    doc = with_paragraph(paragraph)
    assert paragraph[:30] not in doc.text
    assert LAST_PARAGRAPH[:40] in doc.text


@pytest.mark.parametrize(
    "sentence",
    [
        "Tickets go on sale on Friday for the harbour festival, the organisers said.",
        "Engineers worked with the code base for years before the port's systems were replaced.",
        "Readers can download the council's report from its website, the chair said.",
    ],
)
def test_news_that_mentions_tickets_code_or_downloads_is_kept(sentence: str) -> None:
    assert sentence[:40] in with_paragraph(sentence).text


# Round ten: shapes from the tune10/ and tune11/ splits, each written here from scratch.

HEADLINE = "Harbour fees rise to pay for dredging"


@pytest.mark.parametrize(
    ("stated", "title", "outlet"),
    [
        (f"{HEADLINE} | Business | The Harbour Ledger", HEADLINE, "The Harbour Ledger"),
        (f"{HEADLINE} — Press releases — Harbour Board", HEADLINE, "Harbour Board"),
        ("Storm - what we know so far - Daily Post", "Storm - what we know so far", "Daily Post"),
    ],
)
def test_a_section_between_the_headline_and_the_site_is_cut_and_a_dash_inside_stays(stated, title, outlet) -> None:
    doc = page(f'---\ntitle: "{stated}"\n---\n\n{BODY}', ".md")
    assert (doc.title, doc.publisher) == (title, outlet)


def test_a_kicker_in_capitals_over_the_headline_is_not_a_field_label() -> None:
    doc = page(f"Home | News | Metro\n\nJUST IN\n{HEADLINE}\nBy Ana Ruiz\nPublished January 14, 2025\n\n{BODY}")
    assert doc.title == HEADLINE


def test_a_hard_wrapped_release_with_blank_lines_between_paragraphs_keeps_headline_and_sentences_apart() -> None:
    import textwrap

    headline = "Harbour board approves new berth fees to pay for dredging, review finds"
    standfirst = "Shipping lines could face higher costs as the board moves to clear the silted channel"
    wrapped = "\n\n".join(textwrap.fill(p, 72) for p in [standfirst, *BODY.split("\n\n")])
    doc = page(f"HARBOUR BOARD\n\nMEDIA RELEASE\n\n{headline}\n\n{wrapped}\n")
    assert doc.title == headline
    assert "Board chair Ana Ruiz said the increase was needed to pay for dredging." in doc.text
    assert "welcomed the dredging plan, which should let larger vessels call at the port." in doc.text


def test_a_deck_in_sentence_case_under_a_headline_in_title_case_is_not_the_title() -> None:
    headline = "Harbour Board Commissions 42 Tide Gauges Across The Outer Islands"
    deck = "Network to improve storm surge warnings for island communities"
    doc = page(f"Home | Releases | Photos | Archive\n\n{headline}\n{deck}\nPosted On: 11 MAR 2025 4:32PM\n\n{BODY}")
    assert doc.title == headline


def test_a_tagline_above_the_menu_is_not_a_headline_with_the_real_headline_as_its_standfirst() -> None:
    headline = "Harbour fees rise to pay for dredging as the board approves a new schedule for berths"
    doc = page(
        "Thursday, October 23, 2025 | Iloilo City 27°C Light rain\nHARBOUR SENTINEL\nYour window to the western coast\n"
        f"NEWS | PROVINCES | METRO | BUSINESS\nNews > Provinces\n{headline}\nBy Ana Ruiz\n"
        f"Published October 22, 2025 9:05 PM\n\n{BODY}"
    )
    assert doc.title == headline


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("PRESS RELEASE\nFOR IMMEDIATE RELEASE\n17 September 2025", "2025-09-17"),
        ("MEDIA RELEASE\nEMBARGOED UNTIL 00:01 AEST THURSDAY 21 AUGUST 2025", "2025-08-21"),
    ],
)
def test_a_press_release_date_over_the_headline_is_its_date(header: str, expected: str) -> None:
    doc = page(f"Harbour Board\nHome | News | Contact\n\n{header}\n\n{HEADLINE}\n\n{BODY}")
    assert doc.date == expected


@pytest.mark.parametrize(
    "stamp",
    [
        '<abbr class="published" title="2025-02-05T21:14:00+05:30">9:14 PM</abbr>',
        '<span itemprop="datePublished" content="2025-02-05">Wednesday</span>',
    ],
)
def test_a_date_stated_in_an_attribute_by_microdata_or_hatom(stamp: str) -> None:
    html = f"<html><body><h1>{HEADLINE}</h1><p>Posted at {stamp}</p>"
    html += "".join(f"<p>{p}</p>" for p in BODY.split("\n\n")) + "</body></html>"
    assert page(html, ".html").date == "2025-02-05"


@pytest.mark.parametrize(
    ("text", "suffix", "outlet"),
    [
        (
            f"---\ntitle: {HEADLINE}\nauthor: Ana Ruiz\npublication: The Harbour Letter\n---\n\n{BODY}",
            ".md",
            "The Harbour Letter",
        ),
        (f"{HEADLINE}\n\n{BODY}\n\n© 2025 Harbour Review Pte Ltd. All rights reserved.", ".txt", "Harbour Review"),
    ],
)
def test_the_outlet_from_a_publication_key_or_a_copyright_line_without_its_legal_suffix(text, suffix, outlet) -> None:
    assert page(text, suffix).publisher == outlet


@pytest.mark.parametrize(
    ("credit", "source"),
    [
        ("Source: Ghana News Agency", "GNA"),
        ("Source: Bernama | 04/05/2025 09:12", "Bernama"),
        ("-- BERNAMA", "Bernama"),
        ("Copyright 2025 Reuters. All rights reserved.", "Reuters"),
    ],
)
def test_a_credit_line_names_the_wire_whatever_its_case(credit: str, source: str) -> None:
    assert page(f"{HEADLINE}\n\n{BODY}\n\n{credit}").source == source


def test_figures_and_symbols_are_not_prose() -> None:
    ticker = "\n".join(f"IDX{n} 148,212.55 Increased By ▲ 612.40 (0.41%)" for n in range(3))
    doc = page(f"{ticker}\n\n{HEADLINE}\nBy Ana Ruiz\n\n{BODY}")
    assert "Increased By" not in doc.text
    assert doc.title == HEADLINE


def test_a_notice_under_a_list_of_dated_headlines_is_not_the_story() -> None:
    notice = "Harbour Daily republishes material from partner agencies under licence and corrects errors promptly."
    doc = page(
        f"{HEADLINE}\nBy Ana Ruiz\n\n{BODY}\n\nFerry trips suspended as seas turn rough (06 Aug 2025)\n"
        f"Council hires 120 teachers for new term (05 Aug 2025)\n\n{notice}\n\n© 2025 Harbour Daily"
    )
    assert notice[:40] not in doc.text
    assert LAST_PARAGRAPH[:40] in doc.text


def test_a_read_more_list_inside_the_story_keeps_the_paragraphs_under_it() -> None:
    paragraphs = BODY.split("\n\n")
    text = "\n\n".join(
        [
            paragraphs[0],
            "READ MORE:\n• Ferry trips suspended as seas turn rough\n• Council hires teachers",
            *paragraphs[1:],
        ]
    )
    doc = page(f"{HEADLINE}\nBy Ana Ruiz\n\n{text}")
    assert LAST_PARAGRAPH[:40] in doc.text


@pytest.mark.parametrize(
    "bio",
    [
        "Ana Ruiz joined the Harbour Ledger in 2022 and covers the port, shipping and the harbour board.",
        "Ana Ruiz is a social worker and harbour resident. She writes regularly on ageing and neighbourhood life.",
    ],
)
def test_a_bio_after_the_story_is_chrome(bio: str) -> None:
    doc = page(f"{HEADLINE}\n\n{BODY}\n\nShare: Facebook | X | WhatsApp\n\n{bio}")
    assert bio[:30] not in doc.text


@pytest.mark.parametrize(
    "paragraph",
    [
        "Enjoyed this letter? Subscribe free and The Harbour Letter lands in your inbox every second Wednesday.",
        "What did you make of the game? Drop your verdict in the comments or WhatsApp us.",
        "How electric cranes are cutting port emissions. Download the free white paper.",
        "Listen to Harbour Hour every Saturday from 7am on Coast Radio 96.4 FM.",
        "This story was automatically aggregated from the publisher's feed.",
        "This is an automatically generated summary. Read the full story on the publisher's website.",
        "The Harbour Letter is reader-supported. Paid subscribers get the monthly data digest.",
        "Harbour Local is run by volunteers and funded by readers.",
        "If you value local news, become a member from £3 a month.",
        "Media releases are correct at the time of publication.",
        "Our journalists write every story you read on this site.",
    ],
)
def test_more_promotions_and_notices_are_chrome(paragraph: str) -> None:
    doc = with_paragraph(paragraph)
    assert paragraph[:30] not in doc.text
    assert LAST_PARAGRAPH[:40] in doc.text


def test_a_discussion_under_the_post_is_not_the_story() -> None:
    comment = "We moved to electric cranes in 2019 and never looked back at the old diesel fleet."
    doc = page(f"{HEADLINE}\n\n{BODY}\n\nDiscussion about this post\n\nSarah M. Jul 9\n\n{comment}")
    assert "electric cranes in 2019" not in doc.text


def test_a_short_paragraph_after_the_share_bar_and_post_links_is_not_the_story() -> None:
    footer = "We send a short email once a month and never share your address with anyone."
    doc = page(
        f"# {HEADLINE}\n\nBy Ana Ruiz\n\n{BODY}\n\nFacebook X LinkedIn Email\n\n"
        "[← Fees consultation: your questions answered](/updates/fees)\n\n"
        f"[Ferry timetable changes from May →](/updates/ferry)\n\n{footer}\n\n© 2025 Harbour Ledger",
        ".md",
    )
    assert footer[:30] not in doc.text
    assert LAST_PARAGRAPH[:40] in doc.text


def test_a_last_paragraph_after_one_advertisement_line_is_kept() -> None:
    closing = "The board meets again on Tuesday to set the dredging timetable."
    doc = page(f"{HEADLINE}\nBy Ana Ruiz\n\n{BODY}\n\nAdvertisement\n\n{closing}")
    assert closing in doc.text


@pytest.mark.parametrize(
    "sentence",
    [
        "The sailing club is funded by its members and a grant from the harbour board.",
        "The figures were correct at the end of March, the board said.",
    ],
)
def test_news_about_funding_and_figures_is_kept(sentence: str) -> None:
    assert sentence[:40] in with_paragraph(sentence).text


def test_an_update_time_marked_by_its_class_is_not_the_date_printed_beside_it() -> None:
    meta = (
        '<p>By <span class="fn">Ana Ruiz</span> | <span class="updated">2024-09-27T10:02:11+03:00</span>'
        "<span>September 26, 2024</span> | News | 0 Comments</p>"
    )
    html = f"<html><body><h1>{HEADLINE}</h1>{meta}" + "".join(f"<p>{p}</p>" for p in BODY.split("\n\n"))
    assert page(html + "</body></html>", ".html").date == "2024-09-26"


def test_a_related_list_inside_the_story_does_not_split_it() -> None:
    paragraphs = BODY.split("\n\n")
    more = [
        f"Dredging contractor Ana Lopes said work on the {side} channel would take about {weeks} weeks, weather "
        "allowing, and that crews would work at night so that the ferries and fishing boats could keep to their "
        "usual times through the summer."
        for side, weeks in (("eastern", 6), ("western", 8), ("northern", 5), ("southern", 7))
    ]
    text = (
        f"Home | News | Metro\n\nMetro\n{HEADLINE}\nAna Ruiz, Harbour City\nJune 12, 2025\n\n"
        + "\n\n".join(paragraphs)
        + "\n\nRelated News\nFerry trips suspended as seas turn rough\nCouncil hires teachers for new term\n\n"
        + "\n\n".join(more)
        + "\n\nComments (3)"
    )
    doc = page(text)
    assert doc.title == HEADLINE
    assert doc.date == "2025-06-12"
    assert paragraphs[0][:40] in doc.text and more[-1][:40] in doc.text


def test_a_caption_credited_after_its_sentence_does_not_hide_the_headline() -> None:
    caption = "Yellow dredger Marlin beside Harbour Road near Little Quay. Credit: Dr Ruth Penhale"
    doc = page(f"Home / News / 2025\n\n{HEADLINE}\nPublished: 12 February 2025\n\n{caption}\n\n{BODY}")
    assert doc.title == HEADLINE
    assert "Credit: Dr Ruth Penhale" not in doc.text


def test_teasers_of_other_stories_with_their_blurbs_are_chrome() -> None:
    teasers = [
        "Ferry operator confirms new route — The company says it has not yet set a timetable for the service.",
        "Port authority lifts forecast again — Cargo volumes are tracking ahead of plan as trade recovers.",
    ]
    doc = page(f"{HEADLINE}\nBy Ana Ruiz\n\n{BODY}\n\nMore Harbour\n\n" + "\n\n".join(teasers))
    assert not any(t[:30] in doc.text for t in teasers)


def test_one_line_with_a_dash_inside_the_story_is_kept() -> None:
    line = "The vote was close — Four members opposed the schedule and two abstained."
    assert line[:30] in with_paragraph(line).text


@pytest.mark.parametrize(
    "paragraph",
    [
        "For more weather updates, tune in to Harbour Weather at 5:30 a.m. on Channel 27.",
        "Harbour Business is an independent news service. Nothing in this article is financial advice.",
    ],
)
def test_programme_promotions_and_advice_disclaimers_are_chrome(paragraph: str) -> None:
    doc = with_paragraph(paragraph)
    assert paragraph[:30] not in doc.text
    assert LAST_PARAGRAPH[:40] in doc.text


def test_a_last_paragraph_signed_off_by_the_outlet_is_kept() -> None:
    closing = "The board will meet again on Tuesday to set a timetable for the dredging work. — HB News"
    doc = page(f"{HEADLINE}\nBy Ana Ruiz\n\n{BODY}\n\n{closing}\n\nTags: harbour, dredging")
    assert "set a timetable for the dredging work" in doc.text


@pytest.mark.parametrize("phrase", ["this Saturday", "next Saturday", "every Saturday"])
def test_a_weekday_the_story_looks_ahead_to_settles_no_numeric_date(phrase: str) -> None:
    body = BODY.replace("from next month.", f"from next month. The first work day is {phrase} from 9 to noon.")
    doc = page(f"{HEADLINE}\nPosted 04/05/2025 by Harbour Notes\n\n{body}")
    assert doc.date is None  # 5 April 2025 was a Saturday, but the story names another Saturday than its own


@pytest.mark.parametrize(
    ("top", "bottom", "source"),
    [
        ("By Juliet Alcala (PNA)\n\n", "", "PNA"),
        ("", " (PNA)", "PNA"),
        ("The Canadian Press\n\n", "", "The Canadian Press"),
        ("", "\n\nThis report by The Canadian Press was first published March 15, 2025.", "The Canadian Press"),
        ("Ghana News Agency (GNA) · 3 hours ago · 2 min read\n\n", "", "GNA"),
        ("", "", "GNA"),
    ],
)
def test_an_agency_named_by_its_byline_trailer_or_dateline_is_the_source(top, bottom, source) -> None:
    body = BODY if top or bottom else "Accra, June 3, GNA – " + BODY
    doc = page(f"{HEADLINE}\n{top}{body}{bottom}")
    assert doc.source == source


@pytest.mark.parametrize(
    "paragraph",
    [
        "This fact-check was produced with support from the Harbour Trust fund.",
        "Seen a claim you want checked? Send it to our WhatsApp tipline on 0700 555 118.",
        "Harbour Notes runs on reader support.",
        "Read the full story on the Harbour Agency website.",
        "[Photo] Dock workers hold signs outside the harbour office on Monday.",
    ],
)
def test_funding_notes_tiplines_and_photo_markers_are_chrome(paragraph: str) -> None:
    doc = with_paragraph(paragraph)
    assert paragraph[:30] not in doc.text
    assert LAST_PARAGRAPH[:40] in doc.text
