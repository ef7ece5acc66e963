"""Turn each input format into blocks of text lines: front matter, Liquid, markdown, HTML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import frontmatter
from markdown_it import MarkdownIt

LONG_LINE = 20_000  # characters; longer lines are cut at spaces into pieces of at most this length
LONG_TOKEN = re.compile(r"\S{300,}")  # no word is this long: an encoded blob or minified code
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


def bounded(text: str) -> tuple[str, list[str]]:
    """``text`` with one kind of line ending, no blobs, and no line longer than LONG_LINE; and what was done.

    Every later stage then costs time in proportion to a line of prose, whatever a file holds.
    """
    notes = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if LONG_TOKEN.search(text):
        text = LONG_TOKEN.sub(" ", text)
        notes.append("removed runs of 300 or more characters without a space (encoded data, not text)")
    if any(len(line) > LONG_LINE for line in text.split("\n")):
        longest = max(len(line) for line in text.split("\n"))
        text = "\n".join(_cut(line) for line in text.split("\n"))
        notes.append(f"a line of {longest:,} characters was cut into lines of at most {LONG_LINE:,}")
    return text, notes


def _cut(line: str) -> str:
    pieces = []
    while len(line) > LONG_LINE:
        at = line.rfind(" ", 0, LONG_LINE)
        at = at if at > 0 else LONG_LINE
        pieces.append(line[:at])
        line = line[at:].lstrip()
    return "\n".join([*pieces, line])


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
            kind = "h1" if token.tag == "h1" else "heading"
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


BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "time",
    ]
)
SKIP_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "iframe",
        "head",
        "button",
        "select",
        "option",
        "input",
        "textarea",
    ]
)
YEAR = re.compile(r"\b(?:19|20)\d\d\b")
HEADING_TAGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
META_KEYS = {
    # HTML metadata (meta tags, JSON-LD) -> the front-matter-like key it states
    "og:title": "hint_title",
    "twitter:title": "hint_title",
    "og:site_name": "publisher",
    "application-name": "publisher",
    "author": "author",
    "article:author": "author",
    "article:published_time": "published",
    "datepublished": "published",
    "date": "published",
    "pubdate": "published",
    "publish-date": "published",
    "dc.date.issued": "published",
    "article:modified_time": "updated",
    "datemodified": "updated",
    "og:url": "url",
}


@dataclass
class HtmlPage:
    """An HTML page as a text dump (blocks in reading order), its stated metadata, and the main text
    that trafilatura finds (None when it finds none)."""

    blocks: list[Block]
    meta: dict[str, list[str]]
    main_text: str | None


def _visible(element) -> bool:
    style = (element.get("style") or "").replace(" ", "").lower()
    return not (element.get("hidden") is not None or "display:none" in style or element.get("aria-hidden") == "true")


def _microformat(element) -> str | None:
    """ "published" or "updated" when hAtom's or h-entry's class says what the date inside the element is."""
    classes = set((element.get("class") or "").split())
    if classes & {"updated", "dt-updated"}:
        return "updated"
    if classes & {"published", "dt-published"}:
        return "published"
    return None


def _microformat_label(element) -> str | None:
    """Themes print both microformat dates, often run together ("2024-09-27T10:02+03:00September 26,
    2024"), so the label the class states is written out before the text."""
    key = _microformat(element)
    return f"{key.capitalize()}:" if key else None


def _render(root) -> list[Block]:
    """Visible text in reading order: a block per block-level element, link text counted per block."""
    blocks: list[Block] = []
    current: dict = {"parts": [], "link_chars": 0, "links": [], "kind": "paragraph"}

    def flush(kind: str = "paragraph") -> None:
        text = " ".join("".join(current["parts"]).split())
        if text:
            blocks.append(Block(current["kind"], [text], current["link_chars"], current["links"]))
        current.update(parts=[], link_chars=0, links=[], kind=kind)

    def walk(element, in_link: bool) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in SKIP_TAGS or not _visible(element):
            if element.tail:
                current["parts"].append(element.tail)
            return
        block = tag in BLOCK_TAGS
        if block:
            flush("heading" if tag in HEADING_TAGS else "list_item" if tag == "li" else "paragraph")
        if tag == "time" and element.get("datetime") and not YEAR.search(element.text_content()):
            # "Published <time datetime=2025-02-18T14:05>3 hours ago</time>": the date the markup states
            current["parts"].append(" " + element.get("datetime").strip() + " ")
            if element.tail:
                current["parts"].append(element.tail)
            return
        mark = _microformat_label(element)
        if mark:
            current["parts"].append(f" {mark} ")
        link = in_link or tag == "a"
        if tag == "a" and element.get("href"):
            current["links"].append(element.get("href"))
        if element.text and tag:
            current["parts"].append(element.text)
            if link:
                current["link_chars"] += len(element.text.strip())
        for child in element:
            walk(child, link)
        if mark:
            current["parts"].append(" ")
        if block:
            flush()
        if element.tail:
            current["parts"].append(element.tail)
            if in_link and not block:
                current["link_chars"] += len(element.tail.strip())

    body = root.find(".//body")
    walk(body if body is not None else root, False)
    flush()
    return blocks


def _meta(root) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}

    def add(key: str, value: object) -> None:
        if isinstance(value, str) and value.strip():
            found.setdefault(key, []).append(" ".join(value.split()))

    for tag in root.iter("meta"):
        name = (tag.get("property") or tag.get("name") or tag.get("itemprop") or "").lower()
        if name in META_KEYS:
            add(META_KEYS[name], tag.get("content"))
    for tag in root.iter("link"):
        if "canonical" in (tag.get("rel") or "").lower().split():
            add("url", tag.get("href"))
    for tag in root.iter("title"):
        add("html_title", tag.text_content())
    for tag in root.iter("h1"):
        add("h1", tag.text_content())
    for tag in root.iter("time"):
        if tag.get("pubdate") is not None:
            add("published", tag.get("datetime"))
    for tag in root.xpath("//*[@itemprop] | //abbr[@title]"):
        # microdata (`itemprop="datePublished"`) on any element, and hAtom's `<abbr class="published"
        # title="2025-02-05T21:14">`: the value stands in an attribute, the text is for people
        if tag.tag == "meta":
            continue
        prop = (tag.get("itemprop") or "").lower()
        key = {"datepublished": "published", "datemodified": "updated"}.get(prop)
        key = key or (_microformat(tag) if tag.tag == "abbr" else None)
        if key:
            add(key, tag.get("datetime") or tag.get("content") or (tag.get("title") if tag.tag == "abbr" else None))
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json":
            _json_ld(script.text or "", add)
    return found


def _json_ld(text: str, add) -> None:
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return
    items = data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
    for item in items:
        if not isinstance(item, dict) or ("Article" not in str(item.get("@type", "")) and "headline" not in item):
            continue
        add("hint_title", item.get("headline"))
        add("published", item.get("datePublished"))
        add("updated", item.get("dateModified"))
        publisher = item.get("publisher")
        add("publisher", publisher.get("name") if isinstance(publisher, dict) else publisher)
        author = item.get("author")
        authors = author if isinstance(author, list) else [author]
        for one in authors:
            add("author", one.get("name") if isinstance(one, dict) else one)


def html_page(html: str) -> HtmlPage:
    """Parse an HTML page, tolerating broken markup (lxml repairs what it can)."""
    import lxml.html
    import trafilatura
    from lxml.etree import ParserError

    try:
        root = lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return HtmlPage([], {}, None)
    result = trafilatura.bare_extraction(
        html, with_metadata=False, include_comments=False, include_tables=False, favor_precision=True
    )
    data = (result.as_dict() if hasattr(result, "as_dict") else dict(result)) if result is not None else {}
    return HtmlPage(_render(root), _meta(root), data.get("text") or None)
