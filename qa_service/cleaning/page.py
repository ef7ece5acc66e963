"""Strip page chrome from a page's blocks and pull the header facts (title, date, author)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from .dates import find_date, is_date_line, parse_date
from .markup import Block
from .rules import (
    TERMINAL,
    Rules,
    is_bullet,
    is_headline_shaped,
    is_icon_only,
    is_teaser_question,
    words,
)

# Where each kind of date comes from, most trusted first.
DATE_PRIORITY = ("meta", "label", "byline", "dateline")


@dataclass
class PageFacts:
    title: str | None = None
    author: str | None = None
    publisher: str | None = None
    url: str | None = None
    dates: dict[str, str] = field(default_factory=dict)

    @property
    def date(self) -> str | None:
        return next((self.dates[k] for k in DATE_PRIORITY if k in self.dates), None)


def _is_hard_wrapped(lines: list[str]) -> bool:
    """Prose broken at a fixed width (a plain-text file), not a list of separate lines.

    Wrapped lines run on: most end mid-sentence, the next line continues in lower case or the
    lines share one width, and the block ends a sentence. A list of headlines does not.
    """
    if len(lines) < 2 or any(is_bullet(line) for line in lines):
        return False
    body = lines[:-1]
    open_ends = sum(not line.endswith(TERMINAL) for line in body)
    continues = any(nxt[:1].islower() for line, nxt in itertools.pairwise(lines) if not line.endswith(TERMINAL))
    widths = [len(line) for line in body]
    one_width = min(widths) >= 40 and max(widths) - min(widths) <= 20
    ends_a_sentence = lines[-1].endswith(TERMINAL)  # a paragraph does; a list of headlines does not
    return open_ends * 2 >= len(body) and (continues or one_width) and ends_a_sentence


def _unwrap(blocks: list[Block]) -> list[Block]:
    return [
        Block(b.kind, [" ".join(b.lines)], b.link_chars, b.links) if _is_hard_wrapped(b.lines) else b for b in blocks
    ]


def _drop_teaser_cards(blocks: list[Block]) -> list[Block]:
    """A link-icon line closes a teaser card: the icon, its blurb and its headline go."""
    keep = [True] * len(blocks)
    for i, block in enumerate(blocks):
        if len(block.lines) == 1 and is_icon_only(block.lines[0]):
            keep[i] = False
            for back in (1, 2):
                j = i - back
                if j >= 0 and keep[j] and len(blocks[j].lines) == 1 and is_headline_shaped(blocks[j].lines[0]):
                    for m in range(j, i):
                        keep[m] = False
                    break
    return [b for b, k in zip(blocks, keep, strict=True) if k]


def _header_line(line: str, rules: Rules, facts: PageFacts) -> bool:
    """Record what a header line says; True when the line is metadata, not article text."""
    for label in rules.date_labels:
        if label.match(line) and find_date(line):
            facts.dates.setdefault("label", find_date(line))
            _byline(line, rules, facts)
            return True
    if _byline(line, rules, facts):
        return True
    if is_date_line(line):
        date = find_date(line)
        if date:
            facts.dates.setdefault("dateline", date)
        return True
    return False


def _byline(line: str, rules: Rules, facts: PageFacts) -> bool:
    if words(line) > 16:
        return False
    for pattern in rules.byline_lines:
        match = pattern.search(line)
        if match and match.group("author").strip(" .,|"):
            facts.author = facts.author or match.group("author").strip(" .,|")
            date = find_date(line[match.end() :]) or find_date(line)
            if date:
                facts.dates.setdefault("byline", date)
            return True
    return False


def clean_blocks(blocks: list[Block], rules: Rules, facts: PageFacts) -> list[list[str]]:
    """The article's paragraphs (each a list of lines), with chrome removed and facts noted."""
    for block in blocks[:6]:
        if block.kind == "heading" and block.links and block.link_density >= 0.9:
            facts.url = facts.url or block.links[0]  # a linked headline points at the story itself
            break
    blocks = [b for b in _drop_teaser_cards(_unwrap(blocks)) if b.link_density < 0.9]
    captions = [line for b in blocks for line in b.lines if rules.is_caption(line)]
    seen: set[str] = set()
    paragraphs: list[list[str]] = []
    in_body = False
    for block in blocks:
        lines: list[str] = []
        for line in block.lines:
            key = re.sub(r"\W+", " ", line).strip().lower()
            if rules.ends_article(line) and (in_body or paragraphs):
                return _drop_author_box(paragraphs, facts)
            if (
                not key
                or key in seen
                or rules.is_site_header(line)
                or rules.is_chrome(line)
                or rules.is_caption(line)
                or any(c != line and c.startswith(line) for c in captions)
                or (not in_body and _header_line(line, rules, facts))
            ):
                seen.add(key)
                continue
            seen.add(key)
            standfirst = not in_body and not line.endswith(TERMINAL) and words(line) <= 45 and not is_bullet(line)
            if standfirst or is_headline_shaped(line) or (is_teaser_question(line) and len(block.lines) == 1):
                if not in_body and facts.title is None and words(line) >= 3:
                    facts.title = line
                continue
            lines.append(line)
        if lines:
            paragraphs.append(lines)
            in_body = in_body or (sum(words(line) for line in lines) >= 25 and not all(map(is_bullet, lines)))
    return _drop_author_box(paragraphs, facts)


def _drop_author_box(paragraphs: list[list[str]], facts: PageFacts) -> list[list[str]]:
    """An author bio at the end starts with a paragraph about the byline's author."""
    if not facts.author or len(paragraphs) < 4:
        return paragraphs
    first = facts.author.split()[0]
    for i in range(max(1, len(paragraphs) * 2 // 3), len(paragraphs)):
        head = paragraphs[i][0]
        if head.startswith(facts.author) and re.match(rf"{re.escape(facts.author)} (is|was|has|writes|covers)\b", head):
            return paragraphs[:i]
        if head.startswith(first + " ") and " is a " in head[:80]:
            return paragraphs[:i]
    return paragraphs


def wire_publisher(paragraphs: list[list[str]], rules: Rules) -> str | None:
    """The agency named in a wire dateline ("TOKYO (Reuters) -") at the start of the story."""
    for lines in paragraphs[:3]:
        match = rules.wire_dateline.match(lines[0])
        if match:
            return match.group("agency").strip()
    return None


def meta_facts(meta: dict) -> PageFacts:
    """Facts from front matter or HTML metadata, under the usual key names."""

    def first(*keys: str) -> str | None:
        for key in keys:
            value = meta.get(key)
            if isinstance(value, list):
                value = ", ".join(map(str, value))
            if value not in (None, ""):
                return str(value).strip()
        return None

    facts = PageFacts(
        title=first("title", "headline"),
        author=first("author", "authors", "byline"),
        publisher=first("publisher", "source", "site", "site_name", "sitename"),
        url=first("url", "canonical", "canonical_url", "link", "source_url"),
    )
    date = parse_date(meta.get("date") or meta.get("published") or meta.get("pubdate"))
    if date:
        facts.dates["meta"] = date
    return facts
