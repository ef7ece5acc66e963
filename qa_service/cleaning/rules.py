"""The chrome patterns of data/boilerplate.toml, compiled once."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

PROMOTION_WORDS = 45  # a promotion is a short paragraph of its own; a longer one is the story's
SENTENCE_START = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def _compile(patterns: list[str], flags: int = re.I) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, flags) for p in patterns)


def _first(patterns: tuple[re.Pattern[str], ...], line: str) -> re.Match[str] | None:
    return next((m for m in (p.search(line) for p in patterns) if m), None)


@dataclass(frozen=True)
class Rules:
    chrome_lines: tuple[re.Pattern[str], ...]
    promotions: tuple[re.Pattern[str], ...]
    section_ends: tuple[re.Pattern[str], ...]
    comment_headers: tuple[re.Pattern[str], ...]
    commenter_lines: tuple[re.Pattern[str], ...]
    site_header_lines: tuple[re.Pattern[str], ...]
    photo_credits: tuple[re.Pattern[str], ...]
    byline_lines: tuple[re.Pattern[str], ...]
    author_box: re.Pattern[str]
    author_roles: frozenset[str]
    wire_datelines: tuple[re.Pattern[str], ...]
    wire_credits: tuple[re.Pattern[str], ...]
    outlet_lines: tuple[re.Pattern[str], ...]

    def is_chrome(self, line: str) -> bool:
        if _first(self.chrome_lines, line) is not None:
            return True
        if len(line.split()) > PROMOTION_WORDS:
            return False
        return any(_first(self.promotions, sentence) is not None for sentence in SENTENCE_START.split(line))

    def ends_article(self, line: str) -> bool:
        if _first(self.comment_headers, line.strip()) is not None:
            return True
        return len(line.split()) <= 6 and _first(self.section_ends, line.strip(" :•|")) is not None

    def is_commenter(self, line: str) -> bool:
        """ "Gary P. says:": a commenter's name line (a thread starts there when a date line follows)."""
        return _first(self.commenter_lines, line.strip()) is not None

    def is_site_header(self, line: str) -> bool:
        return _first(self.site_header_lines, line) is not None

    def is_caption(self, line: str) -> bool:
        return _first(self.photo_credits, line) is not None

    def byline(self, line: str) -> re.Match[str] | None:
        return _first(self.byline_lines, line) if len(line.split()) <= 16 else None

    def wire_dateline(self, line: str) -> re.Match[str] | None:
        return _first(self.wire_datelines, line)

    def wire_credit(self, line: str) -> re.Match[str] | None:
        return _first(self.wire_credits, line)

    def outlet(self, line: str) -> re.Match[str] | None:
        return _first(self.outlet_lines, line)

    def is_author_box(self, line: str, author: str | None) -> bool:
        """A paragraph about the writer: "Jane Doe is a reporter covering ..."."""
        match = self.author_box.match(line)
        if not match:
            return False
        if author and match.group("name").split()[0] == author.split()[0]:
            return True
        if len(match.group("name").split()) < 2:
            return False  # "Chile is the world's second-largest producer": a place, not a writer's name
        return bool(set(re.findall(r"[a-z]+", line.lower()[:160])) & self.author_roles)


def rules_bytes() -> bytes:
    return resources.files("qa_service.data").joinpath("boilerplate.toml").read_bytes()


@cache
def load_rules() -> Rules:
    raw = tomllib.loads(rules_bytes().decode("utf-8"))
    return Rules(
        chrome_lines=_compile(raw["chrome_lines"]),
        promotions=_compile(raw["promotions"]),
        section_ends=_compile(raw["section_ends"]),
        comment_headers=_compile(raw["comment_headers"]),
        commenter_lines=_compile(raw["commenter_lines"]),
        site_header_lines=_compile(raw["site_header_lines"]),
        photo_credits=_compile(raw["photo_credits"]),
        byline_lines=_compile(raw["byline_lines"]),
        author_box=re.compile(raw["author_box"]),
        author_roles=frozenset(raw["author_roles"]),
        wire_datelines=_compile(raw["wire_datelines"], 0),
        wire_credits=_compile(raw["wire_credits"], 0),
        outlet_lines=_compile(raw["outlet_lines"], re.I),
    )
