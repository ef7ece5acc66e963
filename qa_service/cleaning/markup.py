"""Turn each input format into blocks of text lines: front matter, Liquid, markdown, HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import frontmatter
from markdown_it import MarkdownIt

TEMPLATE_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
# Link syntax the markdown parser rejects (a space in the URL, say) is still link syntax.
LEFTOVER_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_md = MarkdownIt("commonmark")


@dataclass
class Block:
    """One paragraph-like unit of a page: its lines and how much of it was link text."""

    kind: str  # paragraph | heading | list_item | code
    lines: list[str]
    link_chars: int = 0
    links: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def link_density(self) -> float:
        chars = sum(len(line) for line in self.lines)
        return self.link_chars / chars if chars else 0.0


def split_front_matter(text: str) -> tuple[dict, str]:
    """Jekyll/Hugo style YAML front matter as a dict, and the body after it."""
    if not text.lstrip("\ufeff").startswith("---"):
        return {}, text
    try:
        post = frontmatter.loads(text)
    except Exception:  # malformed YAML: keep the simple `key: value` lines, drop the rest
        head, sep, body = text.lstrip("\ufeff")[3:].partition("\n---")
        if not sep:
            return {}, text
        meta = {}
        for line in head.splitlines():
            key, colon, value = line.partition(":")
            if colon and re.fullmatch(r"[A-Za-z_][\w-]*", key.strip()):
                meta[key.strip()] = value.strip().strip("'\"")
        return meta, body.partition("\n")[2]
    return dict(post.metadata), post.content


def strip_template_tags(text: str) -> str:
    return TEMPLATE_TAG.sub("", text)


def _inline_text(token) -> tuple[str, int, list[str]]:
    """Text of an inline token with link syntax removed (anchor text kept, URL dropped)."""
    parts: list[str] = []
    link_chars = 0
    links: list[str] = []
    depth = 0
    for child in token.children or []:
        if child.type == "link_open":
            depth += 1
            links.append(child.attrGet("href") or "")
        elif child.type == "link_close":
            depth = max(0, depth - 1)
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
            if depth:
                link_chars += len(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
    text = "".join(parts)
    for match in LEFTOVER_LINK.finditer(text):
        link_chars += len(match.group(1))
    return LEFTOVER_LINK.sub(r"\1", text), link_chars, links


def markdown_blocks(text: str) -> list[Block]:
    """Blocks of a markdown (or plain text) body; single newlines are kept as line breaks."""
    blocks: list[Block] = []
    kind = "paragraph"
    for token in _md.parse(text):
        if token.type == "heading_open":
            kind = "heading"
        elif token.type == "list_item_open":
            kind = "list_item"
        elif token.type == "inline":
            content, link_chars, links = _inline_text(token)
            lines = [line.strip() for line in content.split("\n") if line.strip()]
            if lines:
                blocks.append(Block(kind, lines, link_chars, links))
            kind = "list_item" if kind == "list_item" else "paragraph"
        elif token.type == "list_item_close":
            kind = "paragraph"
        elif token.type in ("code_block", "fence"):
            lines = [line.strip() for line in token.content.split("\n") if line.strip()]
            if lines:
                blocks.append(Block("code", lines))
    return blocks


@dataclass
class HtmlExtract:
    blocks: list[Block]
    meta: dict


def html_blocks(html: str) -> HtmlExtract:
    """Main content of an HTML page (trafilatura), one block per paragraph, and its metadata."""
    import trafilatura

    result = trafilatura.bare_extraction(
        html, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    if result is None:
        return HtmlExtract([], {})
    data = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    body = data.get("text") or ""
    blocks = [Block("paragraph", [line.strip()]) for line in body.split("\n") if line.strip()]
    meta = {
        "title": data.get("title"),
        "author": data.get("author"),
        "date": data.get("date"),
        "publisher": data.get("sitename") or data.get("hostname"),
        "url": data.get("url"),
    }
    return HtmlExtract(blocks, {k: v for k, v in meta.items() if v})
