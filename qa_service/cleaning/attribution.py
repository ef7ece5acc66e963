"""Who published a page, whose wire story it carries, and where it lives: from what the page states.

The outlet comes from the page's markup (a site name, a publisher in front matter), a title suffix
("... - The Harbor Ledger"), a copyright line or "Published in X"; a name several of these agree on
wins. A wire story is recognised by its dateline ("TOKYO (Reuters) -", "(Bloomberg) --"), a credit
("Source: Bloomberg", "© AFP") or a wire copyright line; the agency becomes `source`, and the
publisher too when the page names no outlet of its own.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..lexicon import Lexicon
from .headline import split_suffix
from .rules import Rules
from .units import Unit, normalised

LEGAL_SUFFIX = re.compile(
    r"[,.]?\s+(?:pvt\.?\s+|pte\.?\s+|pty\.?\s+|\(pty\)\s+)?(?:ltd|limited|inc|llc|l\.?p|plc|gmbh|corp|corporation|co|pty|pte)\.?$"
    r"|\s+(?:—|-)\s+built with .*$",
    re.I,
)
MASTHEAD_LINES = 8
HEADER_LINES = 6  # lines above the story where a byline stands
TRAILER = re.compile(r"\((?P<agency>[A-Z]{2,6})\)\s*$")  # an agency's initials closing a byline or the story
MIN_VOTES = 2  # one masthead guess alone is not enough to name an outlet
URL_LINE = re.compile(
    r"^(?:source|original(?:ly)? (?:at|from)|canonical|url|link|read (?:it|more) at)\s*:?\s*(https?://\S+)$", re.I
)


@dataclass(frozen=True)
class Attribution:
    publisher: str | None
    source: str | None
    url: str | None


def _clean_name(name: str) -> str:
    name = re.sub(r"\s+[A-Z]$", "", name.strip(" .,|·-"))  # "Bloomberg L" of "Bloomberg L.P."
    name = re.sub(r"\s+logo$", "", name, flags=re.I)  # a logo's alt text: "Sportline logo"
    name = LEGAL_SUFFIX.sub("", name)
    return re.sub(r"\s+", " ", name).strip(" .,|·-")


def wire_of(units: list[Unit], body: list[Unit], rules: Rules, lexicon: Lexicon) -> str | None:
    """The news agency the story comes from, by its dateline or a credit line."""
    for unit in body[:3]:
        match = rules.wire_dateline(unit.text)
        if match:
            name = lexicon.wire_name(match.group("agency"))
            if name:
                return name
    trailer = TRAILER.search(body[-1].text) if body else None  # "... stranded. (PNA)"
    if trailer and lexicon.wire_name(trailer.group("agency")):
        return lexicon.wire_name(trailer.group("agency"))
    first_body = next((i for i, unit in enumerate(units) if unit.role == "body"), len(units))
    for i, unit in enumerate(units):
        if unit.role == "body":
            continue
        byline = rules.byline(unit.text)
        agency = _agency_in(byline.group("author"), lexicon) if byline else None
        if byline and not agency:  # "By Juliet Alcala (PNA)"
            behind = TRAILER.search(byline.group("author"))
            agency = lexicon.wire_name(behind.group("agency")) if behind else None
        header = 0 < first_body - i <= HEADER_LINES
        if (unit.role == "meta" or header) and not agency:  # "World News | Agence France-Presse | Updated: ..."
            parts = re.split(r"\s+[|•·]\s+", unit.text)
            agency = next(filter(None, (lexicon.wire_name(re.sub(r"\s*\([^()]*\)$", "", p)) for p in parts)), None)
        if not agency and header and unit.role != "chrome":
            agency = lexicon.wire_name(unit.text)  # the agency alone on the byline's line: "The Canadian Press"
        if agency:
            return agency  # "By Reuters News Service", "By AFP Staff"
        match = rules.wire_credit(unit.text)
        if match:
            name = lexicon.wire_name(match.group("agency").strip())
            if name:
                return name
        if re.search(r"\b(?:ap|afp|reuters)\b", unit.text) is None:
            holder = rules.outlet(unit.text)
            if holder and lexicon.wire_name(_clean_name(holder.group("outlet"))):
                return lexicon.wire_name(_clean_name(holder.group("outlet")))
    return None


def _agency_in(name: str, lexicon: Lexicon) -> str | None:
    """The agency a byline's name opens with ("Reuters News Service" -> "Reuters"), or None."""
    words = name.strip(" .,").split()
    for n in range(len(words), 0, -1):
        agency = lexicon.wire_name(" ".join(words[:n]))
        if agency:
            return agency
    return None


def outlet_candidates(
    units: list[Unit], rules: Rules, stated: list[str], suffix: str | None, title: str | None = None
) -> Counter[str]:
    """Names the page gives itself, counted by how many places state them."""
    votes: Counter[str] = Counter()
    for name in stated:
        votes[_clean_name(name)] += 3
    if suffix:
        votes[_clean_name(suffix)] += 2
    for unit in units:
        if unit.role == "body" or unit.words > 40:
            continue
        match = rules.outlet(unit.text)
        if match:
            votes[_clean_name(match.group("outlet"))] += 2
    above = next((i for i, unit in enumerate(units) if unit.role == "body"), len(units))
    for unit in units[:above]:  # the masthead links to the site's home page (a list of such links does not)
        if not unit.bullet and 1 <= unit.words <= 6 and unit.link_density >= 0.9 and len(unit.links) == 1:
            votes[_clean_name(unit.text)] += 2 * _home(unit.links[0])
    for name in _mastheads(units, title, rules):
        votes[name] += 1 + 2 * _elsewhere(name, units)
    merged: Counter[str] = Counter()
    spelling: dict[str, str] = {}
    for name, n in votes.items():  # "METRO DAILY GAZETTE" and "Metro Daily Gazette" are one name
        key = name.casefold()
        merged[key] += n
        if key not in spelling or spelling[key].isupper():
            spelling[key] = name
    return Counter({spelling[k]: n for k, n in merged.items() if k and len(k.split()) <= 8})


def _home(url: str) -> bool:
    """A link to a site's home page ("https://www.example.com/", "/")."""
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query and (bool(parts.netloc) or url == "/")


def _mastheads(units: list[Unit], title: str | None, rules: Rules) -> list[str]:
    """The site's name at the top of the page: a short capitalised line among the first few, no menu,
    no byline ("Lim Shu Ting – Housing Correspondent")."""
    found = []
    for unit in units[:MASTHEAD_LINES]:
        text = split_suffix(unit.text)[0]  # "The Weekly -- Text Edition"
        if title and normalised(title) in unit.key:
            continue
        if set(re.findall(r"[a-z]+", unit.text.lower())) & rules.author_roles:
            continue
        if unit.role in ("chrome", "end"):
            continue
        if unit.role in ("body", "meta") or not 1 <= len(text.split()) <= 6 or re.search(r"[|›»/•:°]|\d:\d", text):
            continue
        if unit.index == 0:
            found += [_clean_name(text)] * 2  # the first line of the page
        elif unit.words >= 2 and (text.isupper() or unit.capitalised >= 0.6):
            found.append(_clean_name(text))
    return found


def _elsewhere(name: str, units: list[Unit]) -> bool:
    """The name occurs again outside the article (a footer, a copyright line)."""
    key = name.casefold().removeprefix("the ")
    return sum(key in u.text.casefold() for u in units if u.role != "body") > 1


def attribute(
    units: list[Unit],
    body: list[Unit],
    rules: Rules,
    lexicon: Lexicon,
    stated_outlets: list[str],
    suffix: str | None,
    stated_url: str | None,
    title: str | None = None,
) -> Attribution:
    source = wire_of(units, body, rules, lexicon)
    votes = outlet_candidates(units, rules, stated_outlets, suffix, title)
    order = {name.casefold(): i for i, name in enumerate(_page_order(units, votes))}
    ranked = sorted(votes, key=lambda name: (-votes[name], order.get(name.casefold(), len(order))))
    outlets = [name for name in ranked if lexicon.wire_name(name) is None and votes[name] >= MIN_VOTES]
    publisher = outlets[0] if outlets else None
    if publisher is None and votes:
        publisher = lexicon.wire_name(votes.most_common(1)[0][0])
    return Attribution(publisher or source, source, stated_url or _url(units))


def _page_order(units: list[Unit], votes: Counter[str]) -> list[str]:
    """Names in the order the page first mentions them."""
    text = "\n".join(u.text.casefold() for u in units)
    return sorted(votes, key=lambda name: text.find(name.casefold()) % (len(text) + 1))


def _url(units: list[Unit]) -> str | None:
    for unit in units:
        match = URL_LINE.match(unit.text)
        if match:
            return match.group(1).rstrip(".,)")
    for unit in units[:8]:  # a linked headline points at the story itself
        if unit.kind == "heading" and unit.links and unit.link_density >= 0.9:
            return unit.links[0]
    return None
