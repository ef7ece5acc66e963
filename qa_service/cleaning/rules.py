"""Boilerplate rules loaded from data/boilerplate.toml, plus the shape tests that need no data."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

TERMINAL = tuple(".!?…:;\"”’')")
BULLETS = ("•", "-", "*", "–", "·", "▪", "◦")
ICON_ONLY = re.compile(r"^[\W_]{1,3}$")


def _compile(patterns: list[str]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.I) for p in patterns]


@dataclass(frozen=True)
class Rules:
    chrome_lines: list[re.Pattern[str]]
    section_ends: list[re.Pattern[str]]
    site_header_lines: list[re.Pattern[str]]
    photo_credits: list[re.Pattern[str]]
    date_labels: list[re.Pattern[str]]
    byline_lines: list[re.Pattern[str]]
    wire_dateline: re.Pattern[str]

    @staticmethod
    def _any(patterns: list[re.Pattern[str]], line: str) -> bool:
        return any(p.search(line) for p in patterns)

    def is_chrome(self, line: str) -> bool:
        return self._any(self.chrome_lines, line)

    def ends_article(self, line: str) -> bool:
        return len(line.split()) <= 5 and self._any(self.section_ends, line.strip(" :"))

    def is_site_header(self, line: str) -> bool:
        return self._any(self.site_header_lines, line)

    def is_caption(self, line: str) -> bool:
        return self._any(self.photo_credits, line)


def rules_bytes() -> bytes:
    return resources.files("qa_service.data").joinpath("boilerplate.toml").read_bytes()


@cache
def load_rules() -> Rules:
    raw = tomllib.loads(rules_bytes().decode("utf-8"))
    return Rules(
        chrome_lines=_compile(raw["chrome_lines"]),
        section_ends=_compile(raw["section_ends"]),
        site_header_lines=_compile(raw["site_header_lines"]),
        photo_credits=_compile(raw["photo_credits"]),
        date_labels=_compile(raw["date_labels"]),
        byline_lines=_compile(raw["byline_lines"]),
        wire_dateline=re.compile(raw["wire_dateline"]),
    )


def words(line: str) -> int:
    return len(line.split())


def is_bullet(line: str) -> bool:
    return line.startswith(BULLETS) and len(line) > 2 and line[1] == " "


def is_headline_shaped(line: str) -> bool:
    """A short line with no sentence ending: a heading, a teaser headline, a label."""
    stripped = line.strip()
    return bool(stripped) and not stripped.endswith(TERMINAL) and words(stripped) <= 20 and not is_bullet(stripped)


def is_icon_only(line: str) -> bool:
    return bool(ICON_ONLY.match(line.strip()))


def is_teaser_question(line: str) -> bool:
    """A lone short question with no quotation: a poll or a link to another story."""
    return line.endswith("?") and words(line) <= 8 and not re.search(r"[\"“”]|(^|\s)[‘']", line)
