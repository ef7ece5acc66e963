"""Cleaning: raw page to a Document with a clean body and its title, date and source."""

from __future__ import annotations

from ..catalog import Catalog
from ..domain import Document, RawFile
from .markup import html_blocks, markdown_blocks, split_front_matter, strip_template_tags
from .page import PageFacts, clean_blocks, meta_facts, wire_publisher
from .rules import load_rules

__all__ = ["clean_document"]


def clean_document(raw: RawFile, catalog: Catalog | None = None) -> Document:
    """Clean one page; catalog entries fill facts the page does not state (or override them)."""
    rules = load_rules()
    if raw.suffix in (".html", ".htm"):
        extract = html_blocks(raw.text)
        facts, blocks = meta_facts(extract.meta), extract.blocks
    else:
        meta, body = split_front_matter(raw.text)
        facts, blocks = meta_facts(meta), markdown_blocks(strip_template_tags(body))
    page = PageFacts()
    paragraphs = clean_blocks(blocks, rules, page)
    facts.title = facts.title or page.title
    facts.author = facts.author or page.author
    facts.url = facts.url or page.url
    facts.publisher = facts.publisher or wire_publisher(paragraphs, rules)
    for source, date in page.dates.items():
        facts.dates.setdefault(source, date)
    text = "\n\n".join("\n".join(lines) for lines in paragraphs)
    fields = {
        "title": facts.title or (paragraphs[0][0][:80] if paragraphs else raw.doc_id),
        "publisher": facts.publisher,
        "author": facts.author,
        "date": facts.date,
        "url": facts.url,
    }
    if catalog is not None:
        fields = catalog.apply(raw.doc_id, fields)
    warnings = tuple(f"no {name} found" for name in ("date", "publisher") if not fields[name])
    if not text:
        warnings += ("no article text found",)
    return Document(doc_id=raw.doc_id, text=text, source_path=str(raw.path), warnings=warnings, **fields)
