"""Join hard-wrapped plain text back into paragraphs before anything classifies it.

Wire copy and mailing-list dumps break prose at a fixed width, with or without a blank line after
every line and with paragraphs marked only by an indent or a short last line. Read line by line, each
piece looks like a caption or a headline. The rule a text wrapper follows gives the join back: it
breaks a line only when the next word would not fit, so a line followed by a word that would have
fitted ends its paragraph.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

MIN_PROSE_WORDS = 5
BAND = 12  # wrapped lines end within this many characters of the width
MAX_WIDTH = 110
MIN_WRAPPED_LINES = 4
MAX_PARAGRAPH = 10_000  # characters: a text with no paragraph breaks at all is still cut somewhere
SLACK = 3  # the estimated width may be a few characters over the wrapper's
LETTER = re.compile(r"[^\W\d_]")
BULLET = re.compile(r"^\s*(?:[-*•·▪◦‣–]|\d{1,2}[.)])\s")


def _first_word(line: str) -> str:
    return line.split(maxsplit=1)[0] if line.split() else ""


def wrap_width(lines: list[str]) -> int | None:
    """The width the text was wrapped at, or None when it was not hard-wrapped.

    Wrapped lines cluster just under one width, most continue a sentence onto the next line
    (which starts in lower case, or follows a line that ends mid-clause), and a wrapper never
    puts a word on the next line that would have fitted.
    """
    prose = [line.rstrip() for line in lines if len(line.split()) >= MIN_PROSE_WORDS and not BULLET.match(line)]
    if len(prose) < MIN_WRAPPED_LINES:
        return None
    lengths = Counter(len(line) for line in prose)
    width, in_band = max(
        ((w, sum(n for length, n in lengths.items() if w - BAND <= length <= w)) for w in lengths if w <= MAX_WIDTH),
        key=lambda pair: (pair[1], -pair[0]),
        default=(0, 0),
    )
    if in_band < max(MIN_WRAPPED_LINES, len(prose) // 2):
        return None
    pairs = list(itertools.pairwise(prose))
    runs_on = sum(b[:1].islower() or not a.endswith((".", "!", "?", '"', "”", ":")) for a, b in pairs)
    return width if runs_on * 2 >= len(pairs) else None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _heading_like(line: str) -> bool:
    """A headline, a masthead or a menu: most words capitalised, or items between separators."""
    if len(re.findall(r"\s[|›»/•·]\s", line)) >= 2:
        return True
    words = re.findall(r"[^\W\d_][\w'’-]*", line)
    capitalised = sum(w[:1].isupper() for w in words) / max(1, len(words))
    ends_capitalised = bool(words) and words[-1][:1].isupper()
    return capitalised >= 0.6 and ends_capitalised and not re.search(r"[.,;] ", line.strip())


def _ends_sentence(line: str) -> bool:
    """ "Friday." or "the East African Tea Trade Association.": a sentence's last words, not a heading
    (a headline neither opens in lower case nor ends in a full stop)."""
    text = line.strip()
    return text[:1].islower() or text.endswith((".", "!", '."', ".”"))


def _blank_lines_break(lines: list[str]) -> bool:
    """Whether a blank line ends a paragraph: most wrapped lines run straight on to the next, so the
    blank lines mark breaks (a text that puts one after every line has almost none running on)."""
    prose = [i for i, line in enumerate(lines[:-1]) if len(line.split()) >= MIN_PROSE_WORDS]
    running_on = sum(bool(lines[i + 1].strip()) for i in prose)
    blank_after = len(prose) - running_on
    return blank_after >= 2 and running_on >= max(MIN_WRAPPED_LINES, len(prose) // 3)


def _continues(previous: str, line: str, width: int, base_indent: int, breaks: bool = False) -> bool:
    """Whether ``line`` carries on the paragraph that ``previous`` was cut from (with ``breaks``, blank
    lines end paragraphs, so a line under a long one that stops mid-clause carries it on)."""
    prev = previous.rstrip()
    if not prev or not line.strip() or BULLET.match(line) or (BULLET.match(previous) and _indent(line) == 0):
        return False
    if _heading_like(prev) or (_heading_like(line) and len(line.split()) <= 8 and not _ends_sentence(line)):
        return False  # header lines of a wrapped page stay lines
    if _indent(line) > base_indent:  # an indented first line opens a paragraph
        return False
    if not LETTER.search(prev) or not LETTER.search(line):
        return False  # a rule ("-----") stands alone
    if breaks and line.rstrip().endswith(":") and len(line.split()) <= 6:
        return False  # "More stories like this:" heads what follows
    if len(prev) > width + 3:  # longer than the wrap width: not a wrapped line
        return False
    mid_clause = not prev.endswith((".", "!", "?", ":", '"', "”"))
    if len(prev) >= width // 2 and mid_clause and (breaks or line.lstrip()[:1].islower()):
        return True  # mid-sentence on both sides of the break
    return len(prev) + 1 + len(_first_word(line)) > width - SLACK


def unwrap(text: str) -> str:
    """``text`` with hard-wrapped paragraphs joined into one line each, separated by blank lines.

    Text that was not hard-wrapped is returned unchanged.
    """
    lines = text.split("\n")
    width = wrap_width(lines)
    if width is None:
        return text
    indents = Counter(_indent(line) for line in lines if len(line.split()) >= MIN_PROSE_WORDS)
    base_indent = min(indents, key=lambda i: (-indents[i], i)) if indents else 0
    breaks = _blank_lines_break(lines)
    paragraphs: list[list[str]] = []
    sizes: list[int] = []
    previous = ""
    for line in lines:
        if not line.strip():
            if breaks:
                previous = ""
            continue  # blank lines say nothing when a text puts one after every line
        if paragraphs and _continues(previous, line, width, base_indent, breaks) and sizes[-1] < MAX_PARAGRAPH:
            paragraphs[-1].append(line.strip())
            sizes[-1] += len(line)
        else:
            paragraphs.append([line.strip()])
            sizes.append(len(line))
        previous = line
    return "\n\n".join(" ".join(p) for p in paragraphs) + "\n"
