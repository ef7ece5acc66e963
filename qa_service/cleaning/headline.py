"""The headline: chosen among candidates, never a breadcrumb, tagline, label, teaser, widget or list item.

The page's own statements come first: a front-matter title, `og:title` or a JSON-LD headline. Then a
line that the page confirms: one that matches its `<title>` or `<h1>`, one it repeats, or one that holds
the words of its address's slug. Otherwise the headline is found by position. Just above the article
stand the header lines: the byline, the dates and captions, and, above those, the headline (sometimes
followed by a standfirst, which is longer and reads like a sentence, or set on two lines). A headline
list above the headline ("TRENDING") ends where the headline begins, so the last headline-shaped line
above the article is taken, not the first. When nothing qualifies there is no title: a warning is
better than chrome.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..lexicon import load_lexicon
from .units import Unit, normalised

SEPARATORS = re.compile(r"\s+[|–—-]{1,2}\s+")
BREADCRUMB = re.compile(r"\s[›»>/•|]\s|^(home|news|you are here)\b", re.I)
TWO_SENTENCES = re.compile(r"[a-z]{2}[.!?] +(?:[-–—|] +)?[A-Z]")  # not "U.S. Debt"; "... project. - AGENCY photo"
NAV_SEPARATORS = re.compile(r"\s[|›»>/•·]\s|\s{3,}")
WIDGET = re.compile(r"\d\s*°|\b\d{1,2}:\d{2}\b")
MIN_WORDS, MAX_WORDS = 3, 30
STANDFIRST_WORDS = 14
NAVIGATION = 3  # consecutive links or list items: a menu


@dataclass(frozen=True)
class Headline:
    title: str | None
    index: int | None  # the unit it came from, when it came from one
    suffix: str | None  # a site name after the title in `<title>` or a line ("... - The Ledger")


def split_suffix(text: str) -> tuple[str, str | None]:
    """ "Flood warnings extended - The Harbor Ledger" -> ("Flood warnings extended", "The Harbor Ledger").

    A section named between the headline and the site goes too ("... | Weather | CJRV News"); a dash
    inside the headline stays."""
    text = text.strip()
    cuts = list(SEPARATORS.finditer(text))
    if not cuts:
        return text, None
    site = text[cuts[-1].end() :].strip()
    head = text[: cuts[-1].start()].strip()
    named = bool(re.search(r"(?:^|\s)[A-Z0-9]|\.[a-z]{2,}", site))  # "as it happened" names no site
    if not (1 <= len(site.split()) <= 6 and named and len(head.split()) >= MIN_WORDS):
        return text, None
    for cut in reversed(cuts[:-1]):
        section, rest = text[cut.end() : cuts[-1].start()].strip(), text[: cut.start()].strip()
        words = section.split()
        if len(words) > 4 or not words[0][:1].isupper() or re.search(r"[\d?!:\"“”']", section):
            break
        if len(rest.split()) < MIN_WORDS:
            break
        head = rest
        cuts = cuts[: cuts.index(cut) + 1]
    return head, site


def slug_words(url: str) -> frozenset[str]:
    """The words of an address's slug ("/news/wharf-repairs-leave-fleet-4471209" -> wharf, repairs, ...):
    sites build it from the headline, so a line holding them is the headline."""
    segments = [s for s in urlsplit(url).path.split("/") if s.count("-") + s.count("_") >= 3]
    if not segments:
        return frozenset()
    words = re.split(r"[-_]+", re.sub(r"\.[a-z]{2,5}$", "", max(segments, key=len).lower()))
    return frozenset(w for w in words if w.isalpha())


def _matches_slug(unit: Unit, slugs: list[frozenset[str]]) -> bool:
    words = set(normalised(split_suffix(unit.text)[0]).split())
    return any(len(slug) >= 3 and len(slug & words) >= 0.8 * len(slug) for slug in slugs)


def is_label(unit: Unit) -> bool:
    """A section label or a name line: a few capitalised words ("LOCAL NEWS", "Kevin Tran")."""
    return unit.words <= 4 and (unit.text.isupper() or unit.capitalised == 1.0) and unit.function_density < 0.34


def is_navigation(text: str) -> bool:
    """A menu or a breadcrumb: items joined by two or more separators ("News | Sport | Tech")."""
    return len(NAV_SEPARATORS.findall(text)) >= 2


def is_candidate(unit: Unit) -> bool:
    if not (MIN_WORDS <= unit.words <= MAX_WORDS) or unit.bullet or unit.role in ("chrome", "end", "meta"):
        return False
    if unit.role == "prose" and unit.words > STANDFIRST_WORDS * 3:
        return False
    if (BREADCRUMB.search(unit.text) and unit.words <= 8) or WIDGET.search(unit.text) or is_label(unit):
        return False
    if _address(unit):
        return False
    if is_navigation(unit.text) or (TWO_SENTENCES.search(unit.text) and unit.kind != "heading"):
        return False  # a menu, or two sentences (a caption with its credit), unless marked up as a heading
    tokens = unit.text.split()
    if sum(len(re.sub(r"\W", "", t)) <= 1 for t in tokens) * 3 >= len(tokens):
        return False  # "Font size: A- A A+": controls, not words
    return not unit.text.endswith((":", "…", "..."))  # a label, or a cut teaser or "Video player loading…"


def _address(unit: Unit) -> bool:
    """ "Read on the web: https://...": a link written out, never a headline."""
    return "://" in unit.text or "www." in unit.text.lower()


def _standfirst(unit: Unit, above: Unit | None, before_byline: bool, masthead: bool = False) -> bool:
    """Reads like a sentence under a headline, in sentence case (a headline may be in capitals or title
    case): long and wordy, or, when it stands right above the byline or date, longer than the line above
    or under a line in title case (unless that is the ``masthead``'s tagline, among the page's first)."""
    if unit.text.isupper() or unit.capitalised >= 0.5:
        return False
    if (unit.words >= STANDFIRST_WORDS and unit.stop_density >= 0.25) or unit.role == "prose":
        return True
    if not before_byline or above is None or unit.words < 8:
        return False
    # longer than the line above, or a deck in sentence case under a headline in title case
    title_case = above.capitalised >= 0.4 and unit.capitalised <= 0.2 and above.words >= 8 and not masthead
    return unit.words >= above.words * 1.5 or title_case


def _tagline(units: list[Unit], i: int) -> bool:
    """A site's tagline: right under its name at the top of the page, above the menu."""
    if i == 0 or i > 2 or not (is_label(units[0]) or units[0].words <= 4):
        return False
    below = units[i + 1] if i + 1 < len(units) else None  # a byline or date under it would make it a headline
    return below is not None and (is_navigation(below.text) or below.bullet or below.link_density >= 0.5)


def _field_label(unit: Unit) -> bool:
    """ "Source:", "Date:", "News provided by": a label whose value is on the next line (a kicker set in
    capitals, "JUST IN", is not)."""
    if unit.words <= 2 and unit.text.endswith(":"):
        return True
    words = unit.text.lower().split()
    return (
        2 <= len(words) <= 4 and words[-1] in load_lexicon().stopwords and not unit.sentence and not unit.text.isupper()
    )


def _sentences(unit: Unit) -> bool:
    return unit.words >= 8 and unit.stop_density >= 0.25


def _above_header(units: list[Unit], i: int, body_start: int) -> bool:
    """The next line that is not chrome is a byline or date line."""
    below = next((u for u in units[i + 1 : body_start] if u.role != "chrome"), None)
    return below is not None and below.role == "meta"


def _near_body(units: list[Unit], body_start: int) -> list[int]:
    """The headline-shaped lines just above the article, top to bottom: header lines (bylines, dates,
    captions, names) are stepped over; a label, a section end or a line of navigation stops the walk."""
    group: list[int] = []
    navigation = 0
    for i in range(min(body_start, len(units)) - 1, -1, -1):
        unit = units[i]
        navigation = navigation + 1 if unit.role == "chrome" and (unit.bullet or unit.link_density >= 0.5) else 0
        if navigation >= NAVIGATION:
            break  # a menu stands between the masthead (and its tagline) and the story
        if (i > 0 and _field_label(units[i - 1])) or _field_label(unit):
            continue  # "Source:" then "Lakeshore Institute of Technology": a field's value
        if is_candidate(unit) and not _tagline(units, i):
            group.append(i)
        elif unit.role in ("chrome", "meta") or _address(unit) or not re.search(r"[^\W\d_]", unit.text):
            continue
        elif not group and (is_label(unit) or (_sentences(unit) and _above_header(units, i, body_start))):
            continue  # a name line, or sentences above the byline or date (a standfirst, a caption)
        elif not group and _sentences(unit) and TWO_SENTENCES.search(unit.text) and i == body_start - 1:
            continue  # a caption with its credit right above the story
        elif not group and unit.bullet and unit.role == "item":
            continue  # highlights under the headline
        elif not group and (unit.words < MIN_WORDS or unit.text.endswith(("…", "..."))):
            continue  # a word or two between the headline and the story ("FULL STORY", "Video player loading…")
        else:
            break
    return group[::-1]


def choose_title(
    units: list[Unit],
    body_start: int,
    trusted: list[str],
    hints: list[str],
    shown: list[str] = (),
    fallback: list[str] = (),
    addresses: list[str] = (),
) -> Headline:
    """The headline among ``units`` above ``body_start``.

    ``trusted`` are titles a page states for itself in front matter, taken as they are. ``shown`` are
    the page's `<h1>` headings: a line that is one wins. ``hints`` (`og:title`, `<title>`, JSON-LD) are
    short forms for sharing: they confirm a line, as the slug of one of the page's ``addresses`` does.
    ``fallback`` (`og:title`, JSON-LD) stands in when no line qualifies; a `<title>` alone never does
    (it is often the site's name and tagline).
    """
    suffix = next((tail for tail in (split_suffix(t)[1] for t in [*trusted, *hints]) if tail), None)
    for text in trusted:
        title, tail = split_suffix(text)
        if len(title.split()) >= 2:
            return Headline(title, None, suffix or tail)
    above = [i for i in range(min(body_start, len(units))) if is_candidate(units[i])]
    headings = {normalised(text) for text in shown}
    hinted = {normalised(split_suffix(text)[0]) for text in hints}
    slugs = [slug_words(url) for url in addresses]
    stated = [i for i in range(min(body_start, len(units))) if MIN_WORDS <= units[i].words <= MAX_WORDS]
    twice = [i for i in stated if units[i].key in headings and units[i].key in hinted and not is_label(units[i])]
    if twice:  # the `<h1>` and the `<title>` agree: the page states it twice, whatever the line looks like
        return _headline(units, twice[-1], suffix)
    for test in (
        lambda i: units[i].key in headings,
        lambda i: normalised(split_suffix(units[i].text)[0]) in hinted,
        lambda i: units[i].repeats > 1 or sum(normalised(split_suffix(u.text)[0]) == units[i].key for u in units) > 1,
        lambda i: _matches_slug(units[i], slugs),
    ):
        confirmed = [i for i in above if test(i)]
        if confirmed:
            return _headline(units, confirmed[-1], suffix)
    group = _near_body(units, body_start)
    if not group:
        names = {u.key for u in units if is_label(u)}  # "Meridian Quarterly — Long reads ...": the site's own
        stand_in = next(
            (
                split_suffix(t)[0]
                for t in fallback
                if len(split_suffix(t)[0].split()) >= MIN_WORDS
                and not any(normalised(part) in names for part in SEPARATORS.split(t))
            ),
            None,
        )
        return Headline(stand_in, None, suffix)
    marked = [i for i in group if units[i].kind == "heading"]
    if marked and marked[-1] != group[-1]:
        group = group[: group.index(marked[-1]) + 1]  # the markup's heading over a name or caption line under it
    last = group[-1]
    header = [u for u in units[last + 1 : body_start] if u.role != "chrome"]
    before_byline = bool(header) and header[0].role == "meta"
    between = units[group[-2] + 1 : last] if len(group) >= 2 else None  # a menu there: the line above is the masthead's
    adjacent = between is not None and all(u.role == "chrome" and not is_navigation(u.text) for u in between)
    upper = group[-2] if len(group) >= 2 else 0
    masthead = upper == 0 or (upper <= 2 and is_label(units[upper - 1]))  # a site's name, its tagline under it
    if adjacent and _standfirst(units[last], units[upper], before_byline, masthead):
        last = group[-2]
    elif last - 1 in group and units[last].text[:1].islower() and not units[last - 1].sentence:
        title, tail = split_suffix(f"{units[last - 1].text} {units[last].text}")  # a headline set on two lines
        return Headline(title, last - 1, suffix or tail)
    return _headline(units, last, suffix)


def _headline(units: list[Unit], i: int, suffix: str | None) -> Headline:
    """The headline of unit ``i``, and a site name found after the same headline on another line."""
    title, tail = split_suffix(units[i].text)
    key = normalised(title)
    for unit in units:
        head, other = split_suffix(unit.text)
        if other and normalised(head) == key:
            tail = tail or other
    return Headline(title, i, suffix or tail)
