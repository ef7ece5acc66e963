"""Cleaning: a raw page to a Document with its article text, headline, date, outlet, wire and address.

markup    front matter, markdown and HTML to blocks of lines, and what the markup states
feeds     an RSS or Atom feed saved as a page, as the HTML page of its item
unwrap    hard-wrapped text joined into paragraphs
units     each line with its features
classify  body or chrome, by features and position
headline  the title among its candidates
dates     every date the page states, then the publication date or none
attribution  outlet, wire agency and address
"""

from __future__ import annotations

import re

from ..catalog import Catalog
from ..domain import Document, RawFile
from ..lexicon import load_lexicon
from . import dates
from .attribution import attribute
from .classify import Layout, body_units, layout, paragraphs
from .feeds import feed_page
from .headline import choose_title
from .markup import Block, bounded, html_page, markdown_blocks, split_front_matter, strip_template_tags
from .rules import Rules, load_rules
from .units import Unit, page_units
from .unwrap import unwrap

__all__ = ["clean_document"]

MIN_BODY_WORDS = 40
ADDRESS = re.compile(r"https?://[^\s\"'<>)\]]+")
# Front matter keys, by what they state.
FRONT_MATTER = {
    "title": ("title", "headline"),
    "author": ("author", "authors", "byline"),
    "publisher": ("publisher", "publication", "source", "site", "site_name", "sitename"),
    "url": ("url", "canonical", "canonical_url", "link", "source_url", "permalink"),
    "published": ("date", "published", "pubdate", "publishdate", "published_at", "created"),
    "updated": ("lastmod", "updated", "modified", "last_modified", "updated_at"),
}


def _front_matter(meta: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for field, keys in FRONT_MATTER.items():
        for key in keys:
            value = meta.get(key)
            if isinstance(value, list):
                value = ", ".join(map(str, value))
            if value in (None, ""):
                continue
            text = str(value).strip()
            if field == "publisher" and re.match(r"https?://", text):
                found.setdefault("url", []).append(text)  # "source: https://...": where it came from, not who
            else:
                found.setdefault(field, []).append(text)
    return found


def _author(units: list[Unit], where: Layout, rules: Rules, stated: list[str]) -> str | None:
    """The byline's name, without a trailing agency ("By Jane Doe Associated Press")."""
    if stated:
        return stated[0]
    lexicon = load_lexicon()
    for unit in units[: where.start]:
        match = rules.byline(unit.text)
        name = match.group("author").strip(" .,|") if match else ""
        for agency in sorted(lexicon.wires, key=len, reverse=True):
            if name.endswith(" " + agency):
                name = name[: -len(agency)].strip(" ,")
                break
        if name:
            return name
    return None


def _html_body(main_text: str | None, rules: Rules, author: str | None) -> list[Unit] | None:
    """The article as trafilatura finds it, cleaned of the chrome it keeps (captions, read-more lines)."""
    if not main_text:
        return None
    units = page_units([Block("paragraph", [line]) for line in main_text.split("\n") if line.strip()])
    kept = body_units(units, layout(units, rules), rules, author)
    return kept if sum(u.words for u in kept) >= MIN_BODY_WORDS else None


def clean_document(raw: RawFile, catalog: Catalog | None = None) -> Document:
    """Clean one page; catalog entries fill facts the page does not state (or override them)."""
    rules = load_rules()
    source, warnings = bounded(raw.text)
    main_text = None
    feed = feed_page(source)
    if feed is not None:
        source, warnings = feed.html, warnings + feed.warnings
    if feed is not None or raw.suffix in (".html", ".htm"):
        page = html_page(source)
        meta, blocks, main_text = page.meta, page.blocks, page.main_text
        if not blocks:
            warnings.append("the HTML could not be parsed")
    else:
        front, body = split_front_matter(source)
        meta = _front_matter(front)
        blocks = markdown_blocks(unwrap(strip_template_tags(body)))
        meta["h1"] = [b.text for b in blocks if b.kind == "h1"]  # "# Headline": what the page shows as such
        for block in blocks:
            block.kind = "heading" if block.kind == "h1" else block.kind
    units = page_units(blocks)
    where = layout(units, rules)
    author = _author(units, where, rules, meta.get("author", []))
    hints = meta.get("hint_title", [])
    addresses = meta.get("url", []) + [m.group() for u in units[: where.start] for m in ADDRESS.finditer(u.text)]
    headline = choose_title(
        units,
        where.start,
        meta.get("title", []),
        hints + meta.get("html_title", []),
        meta.get("h1", []),
        hints,
        addresses + [link for u in units[: where.start] for link in u.links],
    )
    kept = _html_body(main_text, rules, author) or body_units(units, where, rules, author)
    title_at = headline.index
    credit = attribute(
        units,
        kept,
        rules,
        load_lexicon(),
        meta.get("publisher", []),
        headline.suffix,
        _first(meta, "url"),
        headline.title,
    )
    candidates = dates.page_candidates(units, where.start, where.end, title_at, meta, credit.url, rules)
    evidence = dates.collect_evidence("\n".join(u.text for u in kept), credit.url)
    choice = dates.choose(candidates, evidence)
    if choice.warning:
        warnings.append(choice.warning)
    text = "\n\n".join("\n".join(lines) for lines in paragraphs(kept))
    fields = {
        "title": headline.title,
        "publisher": credit.publisher,
        "source": credit.source,
        "author": author,
        "date": choice.date,
        "url": credit.url,
    }
    if catalog is not None:
        fields = catalog.apply(raw.doc_id, fields)
    warnings += [f"no {name} found" for name in ("title", "date", "publisher") if not fields[name]]
    words = len(text.split())
    if not text:
        warnings.append("no article text found")
    elif words < MIN_BODY_WORDS:
        warnings.append(f"very short article text ({words} words)")
    return Document(doc_id=raw.doc_id, text=text, source_path=str(raw.path), warnings=tuple(warnings), **fields)


def _first(meta: dict[str, list[str]], key: str) -> str | None:
    values = meta.get(key)
    return values[0] if values else None
