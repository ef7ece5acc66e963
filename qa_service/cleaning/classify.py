"""Body or chrome, decided per unit from features, then by position relative to the densest run of prose.

1. Each unit gets a role from what it is: prose (a sentence of running text), a short sentence, a
   headline-shaped line, a list item, metadata (a byline, a date line), or chrome (a pattern of
   boilerplate.toml, a photo credit, a link list, a repeated caption, a header widget).
2. The article is the densest run of prose: prose units close to each other form runs, and the run
   with the most prose words wins (the idea of jusText's context pass and of body-text extraction by
   maximal density). A section end ("Most read", "3 Comments") closes a run.
3. Inside that run, prose is kept, and so are the short sentences and list items that belong to it
   (items under a lead-in ending in ':'); headline-shaped lines (subheads, teasers, video captions)
   are not. Outside it, nothing is kept: headline lists, comments and footers lie outside.

A sentence holding a figure, a price, a temperature or a date is body text like any other: only
short lines that are not sentences can be a widget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from ..lexicon import load_lexicon
from .dates import is_date_only, is_relative_time, line_candidates
from .headline import is_navigation
from .rules import Rules
from .units import Unit

MAX_GAP = 6  # non-prose units that may stand between two paragraphs of one article
INLINE_LIST = 6  # a section end and the headlines under it, inside a story
ICON_ONLY = re.compile(r"^[\W_]{1,3}$")


@dataclass(frozen=True)
class Layout:
    """Where the article lies among the units."""

    start: int  # index of the first body unit (len(units) when there is none)
    end: int  # index after the last body unit


def _initial_role(unit: Unit, rules: Rules) -> str:
    text = unit.text
    if not unit.key or ICON_ONLY.match(text):
        return "chrome"
    if rules.ends_article(text):
        return "end"
    if rules.is_chrome(text) or rules.is_caption(text):
        return "chrome"
    if not unit.prose and unit.words <= 12 and rules.is_site_header(text):
        return "chrome"
    if _is_meta(unit, rules):
        return "meta"  # before the menu test: "17.10.2024 | Jane Doe | 3 min read" is separated like a menu
    if (unit.link_density >= 0.5 or is_navigation(text)) and not unit.prose:
        return "chrome"
    if unit.prose:
        return "prose"
    if unit.bullet:
        return "item"
    if unit.sentence and not _teaser_question(unit):
        return "short"
    return "heading"


def _teaser_question(unit: Unit) -> bool:
    """A lone short question with no quotation: a poll, or a link to another story."""
    return unit.text.endswith("?") and unit.words <= 8 and not re.search(r"[\"“”]|(^|\s)[‘']", unit.text)


def _is_meta(unit: Unit, rules: Rules) -> bool:
    """A byline or a date line: facts about the story, not the story."""
    if unit.words > 30:
        return False
    candidates = line_candidates(unit.text, "header", load_lexicon())
    if candidates and candidates[0].label != "plain" and unit.text.find(candidates[0].text) < 40:
        return True  # "Updated July 8, 2024 | first published July 4", "Published in X, May 23rd, 2018"
    if unit.prose and unit.words > 12:
        return False
    if rules.byline(unit.text) or is_date_only(unit.text) or is_relative_time(unit.text) or _credit_line(unit, rules):
        return True
    if unit.words <= 14 and not unit.prose and any(c.year_given for c in candidates):
        return True  # "14 Nov 23 · 5 min read", "Jane Doe · 5:00am Tuesday 16 May 2023 · 6 min read"
    return any(c.label != "plain" for c in candidates)


def _credit_line(unit: Unit, rules: Rules) -> bool:
    """A byline without "By": "Aoife Brennan, Transport Correspondent", "Jane Doe | Courts reporter"."""
    parts = re.split(r"\s*[,|]\s*", unit.text, maxsplit=1)
    if unit.words > 8 or len(parts) != 2:
        return False
    name, role = parts
    capitalised = name.split()
    return (
        2 <= len(capitalised) <= 4
        and all(w[:1].isupper() for w in capitalised)
        and bool(set(re.findall(r"[a-z]+", role.lower())) & rules.author_roles)
    )


def _drop_teaser_cards(units: list[Unit]) -> None:
    """A link-icon line closes a teaser card: the icon, its blurb and its headline are chrome."""
    for i, unit in enumerate(units):
        if ICON_ONLY.match(unit.text):
            for back in (1, 2):
                j = i - back
                if j >= 0 and units[j].headline_shaped:
                    for k in range(j, i):
                        units[k].role = "chrome"
                    break


TEASER = re.compile(r"^(?P<head>[A-Z0-9‘'\"][^.!?]{10,120}?)\s+[—–-]\s+(?=[A-Z])(?P<blurb>.*[.!?])$")


def _drop_teaser_lines(units: list[Unit]) -> None:
    """Two or more lines in a row shaped "Other story's headline — its one-sentence blurb" are a list of
    teasers, not the story."""
    shaped = [bool(u.role == "prose" and TEASER.match(u.text) and u.words <= 45) for u in units]
    i = 0
    while i < len(units):
        j = i
        while j < len(units) and shaped[j]:
            j += 1
        if j - i >= 2:
            for unit in units[i:j]:
                unit.role = "chrome"
        i = max(j, i + 1)


def _drop_repeated_prose(units: list[Unit]) -> None:
    """A caption shown twice (a gallery and its figure) is not said twice by the story."""
    for unit in units:
        if unit.role == "prose" and unit.repeats > 1 and unit.words < 80 and '"' not in unit.text[:2]:
            unit.role = "chrome"


QUOTE_MARKS = "\"“‘'«"
PULL_QUOTE_SOURCES = 20  # paragraphs a pull quote's rarest word pair may point at (bounds the cost)


def _drop_pull_quotes(units: list[Unit]) -> None:
    """A short quotation whose wording the story says again inside a longer paragraph (four in five of its
    word pairs) is a pull quote: the story keeps the paragraph, not the copy."""
    pairs_of = {u.index: _bigrams(u.key) for u in units if u.words >= 12}
    holding: dict[tuple[str, str], list[int]] = {}
    for index, pairs in pairs_of.items():
        for pair in pairs:
            holding.setdefault(pair, []).append(index)
    for unit in units:
        if not (5 <= unit.words <= 40 and unit.role in ("prose", "short") and unit.text[:1] in QUOTE_MARKS):
            continue
        own = _bigrams(unit.key)
        # The paragraphs holding its rarest word pair (itself aside); pairs that many paragraphs share
        # are no evidence, and skipping them keeps the cost linear on pages of repeated lines.
        postings = [holding[pair] for pair in own if 0 < len(holding.get(pair, ())) <= PULL_QUOTE_SOURCES]
        rarest = min((found for found in postings if set(found) - {unit.index}), key=len, default=[])
        longer = [i for i in rarest if units[i].words > unit.words + 3]
        if any(len(own & pairs_of[i]) >= 0.8 * len(own) for i in longer):
            unit.role = "chrome"


def _bigrams(key: str) -> set[tuple[str, str]]:
    words = key.split()
    return set(pairwise(words))


def _comment_threads(units: list[Unit], rules: Rules) -> None:
    """A commenter's name line over a date line starts a thread: it ends the article like "3 Comments"."""
    for unit, below in pairwise(units):
        if below.role == "meta" and unit.role != "meta" and rules.is_commenter(unit.text):
            unit.role = "end"


def _listed_story(unit: Unit) -> bool:
    """Another story in a list: a dated headline ("Clinic closes early – 4 October 2025") or a link in a
    list of links."""
    if unit.role == "meta" and unit.words >= 5 and not unit.text.rstrip().endswith((".", "!", "?")):
        return True
    return unit.role == "chrome" and unit.kind == "list_item" and unit.link_density >= 0.5


def _runs(units: list[Unit]) -> list[tuple[int, int, int]]:
    """Runs of prose as (first, last, prose words): a gap of more than MAX_GAP units or a section end
    separates two runs."""
    runs: list[tuple[int, int, int]] = []
    first = last = -1
    words = gap = 0
    for i, unit in enumerate(units):
        if unit.role == "prose":
            if first >= 0 and gap <= MAX_GAP:
                last, words = i, words + unit.words
            else:
                if first >= 0:
                    runs.append((first, last, words))
                first, last, words = i, i, unit.words
            gap = 0
        elif unit.role == "end" and first >= 0:
            gap = MAX_GAP + 1
        elif unit.role not in ("meta",):
            gap += 1
    if first >= 0:
        runs.append((first, last, words))
    return runs


def layout(units: list[Unit], rules: Rules) -> Layout:
    """Give every unit its role and find the article among them."""
    for unit in units:
        unit.role = unit.role or _initial_role(unit, rules)
    _drop_teaser_cards(units)
    _drop_teaser_lines(units)
    _drop_repeated_prose(units)
    _drop_pull_quotes(units)
    _comment_threads(units, rules)
    runs = _runs(units)
    if not runs:
        return Layout(len(units), len(units))
    best = max(runs, key=lambda run: run[2])
    first, last, _ = best
    previous = runs[runs.index(best) - 1] if runs.index(best) > 0 else None
    if previous and _split_by_inline_list(units, previous, first):
        first = previous[0]
    first = _past_standfirst(units, first, last)
    last = _before_trailing_notice(units, first, last)
    # Short sentences and list items just before the first paragraph belong to it ("WASHINGTON --").
    while first > 0 and units[first - 1].role == "short" and units[first - 1].words >= 4:
        first -= 1
    # A list under the last paragraph's lead-in, or a closing short sentence, belongs to it too.
    end = last + 1
    while end < len(units) and (
        (units[end].role == "item" and _in_list(units, end)) or (units[end].role == "short" and end == last + 1)
    ):
        end += 1
    return Layout(first, end)


def _split_by_inline_list(units: list[Unit], previous: tuple[int, int, int], first: int) -> bool:
    """A "Related News" list inside the story: the run above it opens right under the byline or date
    and the list is short, so both runs are the article."""
    gap = units[previous[1] + 1 : first]
    if len(gap) > INLINE_LIST or not any(u.role == "end" for u in gap):
        return False
    above = units[max(0, previous[0] - 3) : previous[0]]
    paragraphs = sum(u.role == "prose" for u in units[previous[0] : previous[1] + 1])
    return any(u.role == "meta" for u in above) and paragraphs >= 2


def _past_standfirst(units: list[Unit], first: int, last: int) -> int:
    """A sentence or two above the byline or date line is the standfirst, not the story's first paragraph."""
    meta = next((i for i in range(first, last + 1) if units[i].role == "meta"), None)
    if meta is None:
        return first
    before = [u for u in units[first:meta] if u.role == "prose"]
    after = [i for i in range(meta + 1, last + 1) if units[i].role == "prose"]
    if len(before) <= 2 and sum(u.words for u in before) <= 60 and len(after) > len(before):
        return after[0]
    return first


def _before_trailing_notice(units: list[Unit], first: int, last: int) -> int:
    """The run's last paragraph when it stands alone under a list of other stories (a notice, a bio or a
    disclaimer above the footer) ends the run before that list; a "READ MORE" list inside a story has
    more of the story under it."""
    prose = [i for i in range(first, last + 1) if units[i].role == "prose"]
    if len(prose) < 3:
        return last
    before = prose[-2]
    if sum(_listed_story(u) for u in units[before + 1 : last]) >= 2:
        return before
    for k in (len(prose) - 1, len(prose) - 2):  # a tail of one or two short paragraphs, three or more above
        if k < 3:
            break
        gap = units[prose[k - 1] + 1 : prose[k]]
        tail = [units[i] for i in prose[k:]]
        if sum(u.role == "chrome" for u in gap) >= 3 and sum(u.words for u in tail) <= 60:
            return prose[k - 1]
    return last


def _in_list(units: list[Unit], i: int) -> bool:
    """A list item that belongs to the article: it follows a lead-in ending in ':', or other such items."""
    j = i - 1
    while j >= 0 and units[j].role == "item":
        j -= 1
    return j >= 0 and units[j].lead_in and units[j].role in ("prose", "short", "heading")


def body_units(units: list[Unit], where: Layout, rules: Rules, author: str | None) -> list[Unit]:
    """The units of the article, in order."""
    kept: list[Unit] = []
    for i in range(where.start, where.end):
        unit = units[i]
        if unit.role == "prose" and i > where.start + 2 and _about_author(unit.text, author, rules):
            break  # the author's bio closes the article
        keep = (
            unit.role == "prose"
            or (unit.role == "short" and unit.words >= 2)
            or (unit.role == "item" and (_in_list(units, i) or unit.sentence))
            or (unit.role == "heading" and unit.lead_in and i + 1 < where.end and units[i + 1].role == "item")
        )
        if keep:
            kept.append(unit)
    for unit in kept:  # roles change only now: _in_list reads the roles of the items above
        unit.role = "body"
    return kept


def _about_author(text: str, author: str | None, rules: Rules) -> bool:
    """The author's bio: "Jane Doe is a reporter ...", or any paragraph that opens with the byline's name."""
    if author and len(author.split()) >= 2 and text.startswith(author.split(",")[0].strip() + " "):
        return True
    label = re.match(r"^[^:]{3,30}:\s+(?=[A-Z])", text)  # "About the author: Jane Doe is ..."
    return rules.is_author_box(text, author) or bool(label and rules.is_author_box(text[label.end() :], author))


def paragraphs(kept: list[Unit]) -> list[list[str]]:
    """Each unit its own paragraph, except list items, which stay with the lead-in above them."""
    out: list[list[str]] = []
    for unit in kept:
        text = unit.text if _is_item(unit.text) or unit.kind != "list_item" else f"• {unit.text}"
        if unit.bullet and out and (out[-1][-1].rstrip().endswith(":") or _is_item(out[-1][-1])):
            out[-1].append(text)
        else:
            out.append([text])
    return out


def _is_item(line: str) -> bool:
    return bool(re.match(r"^(?:[•·▪◦‣*–-]|\d{1,2}[.)])\s", line))
