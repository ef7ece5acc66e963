"""An RSS or Atom feed saved as a page (a ``.txt`` or ``.html`` dump of a feed URL).

Its item is rewritten as a small HTML page, with the feed's own statements (title, link, publication
date, author, channel name) as the meta tags an article page would carry, so one path cleans
everything. A feed of several items keeps the one with the most text (a saved story's feed carries
its full text, the others a summary) and says so: an item is one story, and a page that mixed them
would cite one story for another's facts.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from .headline import SEPARATORS

# The document element of RSS 2.0, RSS 1.0 (RDF) and Atom, after an optional XML declaration.
FEED_START = re.compile(r"\A\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.S)


@dataclass(frozen=True)
class FeedPage:
    html: str
    warnings: list[str] = field(default_factory=list)


def is_feed(text: str) -> bool:
    return bool(FEED_START.match(text[:4096]))


def feed_page(text: str) -> FeedPage | None:
    """The feed's item with the most text as an HTML page, or None when ``text`` is not a feed with an item."""
    if not is_feed(text):
        return None
    import feedparser

    parsed = feedparser.parse(text)
    if not parsed.entries:
        return None
    entry = max(parsed.entries, key=lambda item: len(_content(item)))
    warnings = []
    if len(parsed.entries) > 1:
        warnings.append(
            f"a feed of {len(parsed.entries)} items: only the one with the most text is indexed"
            f" ({entry.get('title', 'untitled')!r}); save each story as its own page"
        )
    content = _content(entry)
    meta = {
        "og:title": entry.get("title"),
        "og:url": entry.get("link"),
        "og:site_name": _site_name(parsed.feed.get("title", ""), parsed.feed.get("link") or entry.get("link", "")),
        "author": entry.get("author"),
        "article:published_time": _local_date(entry.get("published") or entry.get("dc_date")),
        "article:modified_time": _local_date(entry.get("updated")),
    }
    head = "".join(f'<meta property="{key}" content="{html.escape(value)}">' for key, value in meta.items() if value)
    title = html.escape(entry.get("title", ""))
    page = f"<html><head><title>{title}</title>{head}</head>"
    page += f"<body><article><h1>{title}</h1>{content}</article></body></html>"
    return FeedPage(page, warnings)


def _content(entry) -> str:
    return entry["content"][0].get("value", "") if entry.get("content") else entry.get("summary", "")


def _local_date(stamp: str | None) -> str | None:
    """An RFC 822 stamp ("Mon, 07 Oct 2024 06:30:00 +1100") in ISO form, in the publisher's own time zone
    (feedparser's parsed form is UTC, which moves a morning story to the day before)."""
    if not stamp:
        return None
    try:
        return parsedate_to_datetime(stamp).isoformat()
    except (TypeError, ValueError):
        return stamp  # ISO 8601 (Atom) already; the date stage reads it


def _site_name(channel: str, link: str) -> str | None:
    """The part of a channel title that names the site ("The Ledger - Local News" -> "The Ledger"): the one
    closest to the site's domain."""
    parts = [p.strip() for p in SEPARATORS.split(channel) if p.strip()]
    if len(parts) <= 1:
        return channel.strip() or None
    domain = re.sub(r"[^a-z0-9]", "", urlsplit(link).netloc.lower().removeprefix("www."))

    def overlap(part: str) -> int:
        letters = re.sub(r"[^a-z0-9]", "", part.lower())
        return sum(len(w) for w in re.findall(r"[a-z0-9]+", part.lower().removeprefix("the ")) if w in domain) + (
            letters in domain
        )

    best = max(parts, key=overlap)
    return best if overlap(best) else None
