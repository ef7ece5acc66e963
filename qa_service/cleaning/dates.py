"""Publication dates: find every date a page states, with its context, then choose one or none.

A page states many dates: when it was published, first published, updated, visited (a site header
with today's date), a copyright year, the dates of other stories in a headline list, and dates inside
the article's prose. Each is found as a candidate with where it stands and what labels it; the choice
prefers "published" and "first published" over "updated", never takes a copyright, list, prose or
crawl date, and never a date later than the page's own header date. A numeric date that reads two
ways (02/05/2025) is settled only by evidence from the page (a weekday the story names, how the page
writes other dates, its spelling, currency or web address); otherwise the answer is no date and a
warning: a wrong date is worse than none.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..lexicon import Lexicon, load_lexicon

if TYPE_CHECKING:
    from .rules import Rules
    from .units import Unit


def _month_names(lexicon: Lexicon) -> dict[str, int]:
    """Month names of the lexicon and their usual short forms ("sep" and "sept" for September)."""
    names: dict[str, int] = {}
    for number, month in enumerate(lexicon.months, start=1):
        names[month] = number
        names[month[:3]] = number
        if month[:3] == "sep":
            names["sept"] = number
    return names


MONTHS = _month_names(load_lexicon())
WEEKDAYS = load_lexicon().weekdays
_MONTH = "(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?!\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d|'?\d\d)(?!\d)"
_SEP = r"\s*[-/.,]?\s*"
# Each form names its groups; numeric forms are read both ways when they can be.
FORMS = [
    ("iso", re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)[-/.](?P<month>[01]?\d)[-/.](?P<day>[0-3]?\d)(?!\d)")),
    ("month_first", re.compile(rf"\b{_MONTH}{_SEP}{_DAY}(?:{_SEP}{_YEAR})?(?![\d:])", re.I)),
    ("day_first", re.compile(rf"(?<![\d.]){_DAY}(?:\s+of)?{_SEP}{_MONTH}(?:{_SEP}{_YEAR})?(?![\d:])", re.I)),
    (
        "numeric",
        re.compile(
            r"(?<![\d.:/-])(?P<a>[0-3]?\d)(?P<sep>[/.-])(?P<b>[0-3]?\d)(?P=sep)(?P<year>(?:19|20)?\d\d)(?![\d/.-]\d)"
        ),
    ),
]
WEEKDAY_SHORT = re.compile(r"\b(?:" + "|".join(d[:3] for d in WEEKDAYS) + r")[a-z]{0,2}\b\.?", re.I)  # "Tue", "Thurs."
WEEKDAY_BESIDE = re.compile(
    r"\b(" + "|".join(d[:3] for d in WEEKDAYS) + r")[a-z]{0,6}\.?,?\s*$", re.I
)  # "Monday, " just before the date
WEEKDAY_WORD = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b", re.I)
# "this Saturday", "next Friday", "every Tuesday", "last Monday": another day than the story's own.
OTHER_DAY = re.compile(r"\b(this|next|coming|every|each|last|first|second|third|fourth|until|by|from)\s+$", re.I)


@dataclass(frozen=True)
class DateCandidate:
    """One date the page states: its possible readings, and what the page says about it."""

    readings: tuple[dt.date, ...]  # one, or two for a numeric date that reads both ways
    text: str  # as written
    label: str  # published | first_published | updated | copyright | plain
    where: str  # meta | url | header | byline | dateline | after_body | crawl | list | body
    year_given: bool = True
    numeric: str = ""  # "/" "." "-" for a numeric date, else ""
    weekday: str | None = None  # a weekday written beside the date ("Monday, 07/08/2023")

    @property
    def ambiguous(self) -> bool:
        return len(set(self.readings)) > 1


@dataclass
class DateEvidence:
    """What the page says that can settle a numeric date: its weekdays, how it writes dates, its locale."""

    weekdays: Counter[str] = field(default_factory=Counter)
    day_first_signals: int = 0
    month_first_signals: int = 0
    spelling: int = 0  # British spellings less American ones: a hint only (Canada spells "centre" and writes 05/03)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DateChoice:
    date: str | None
    warning: str | None = None


def _year(text: str | None) -> int | None:
    if not text:
        return None
    digits = text.lstrip("'")
    value = int(digits)
    return value + 2000 if len(digits) == 2 else value


def _make(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_dates(text: str, default_year: int | None = None) -> list[tuple[tuple[dt.date, ...], str, bool, str]]:
    """Every date written in ``text``: (readings, as written, whether the year was given, numeric separator).

    A date written without a year takes ``default_year`` (or is skipped without one). Overlapping
    matches keep the first form that matched, in the order of FORMS.
    """
    matches = []
    for form, pattern in FORMS:
        for match in pattern.finditer(text):
            parsed = _readings(form, match, default_year)
            if parsed is not None:
                matches.append((match.span(), match.group(0), *parsed))
    # Where two readings overlap ("3 Mar 24": 3 March 2024, or March 24), the one with a year, then
    # the longer one, wins.
    matches.sort(key=lambda m: (not m[3], -(m[0][1] - m[0][0]), m[0][0]))
    taken: list[tuple] = []
    for match in matches:
        (start, end) = match[0]
        if all(end <= s or e <= start for (s, e), *_ in taken):
            taken.append(match)
    taken.sort(key=lambda m: m[0][0])
    return [(readings, written, given, sep) for _, written, readings, given, sep in taken]


def _readings(form: str, match: re.Match, default_year: int | None):
    groups = match.groupdict()
    year = _year(groups.get("year"))
    year_given = year is not None
    if year is None:
        if default_year is None:
            return None
        year = default_year
    if form == "iso":
        date = _make(year, int(groups["month"]), int(groups["day"]))
        return ((date,), True, "") if date else None
    if form in ("month_first", "day_first"):
        date = _make(year, MONTHS[groups["month"].lower().rstrip(".")], int(groups["day"]))
        return ((date,), year_given, "") if date else None
    a, b, sep = int(groups["a"]), int(groups["b"]), groups["sep"]
    month_first, day_first = _make(year, a, b), _make(year, b, a)
    if sep == ".":  # 22.11.2021: dotted dates are day first
        month_first = None
    readings = tuple(d for d in (month_first, day_first) if d)
    return (readings, True, sep) if readings else None


def collect_evidence(body: str, url: str | None, lexicon: Lexicon | None = None) -> DateEvidence:
    """Signals in the article and its address that say how the page writes numeric dates."""
    lexicon = lexicon or load_lexicon()
    evidence = DateEvidence()
    lower = body.lower()
    evidence.weekdays.update(
        m.group(1).lower()
        for m in WEEKDAY_WORD.finditer(body)
        if not OTHER_DAY.search(body[max(0, m.start() - 12) : m.start()])
    )
    for readings, written, _, sep in parse_dates(body, default_year=2000):
        if sep and len(set(readings)) == 1 and sep != ".":
            (only,) = set(readings)
            first = int(re.split(r"[/.-]", written)[0])
            if first == only.day and only.day > 12:
                evidence.day_first_signals += 1
            elif first == only.month and only.day > 12:
                evidence.month_first_signals += 1
    for match in FORMS[2][1].finditer(body):  # "12 March": a page that writes the day first
        if match.group("month"):
            evidence.day_first_signals += 1
    for match in FORMS[1][1].finditer(body):  # "March 12"
        if match.group("month"):
            evidence.month_first_signals += 1
    words = set(re.findall(r"[a-z]+", lower))
    evidence.spelling = len(words & lexicon.day_first_spellings) - len(words & lexicon.month_first_spellings)
    evidence.day_first_signals += sum(body.count(symbol) for symbol in lexicon.day_first_currencies) > 0
    if url:
        host = re.sub(r"^[a-z]+://", "", url.lower()).split("/")[0].split(":")[0]
        suffix = host.rsplit(".", 1)[-1]
        if suffix in lexicon.day_first_domains:
            evidence.day_first_signals += 2
            evidence.notes.append(f".{suffix} address")
    return evidence


def _weekday_support(reading: dt.date, weekdays: Counter[str]) -> int:
    """1 when the story names the day itself ("said on Friday", dated Friday). A day some days before
    a reading is no evidence: a story names the Friday it reports on whether it runs on Saturday or
    on Monday, so that fits both readings."""
    return int(WEEKDAYS[reading.weekday()] in weekdays)


def settle(candidate: DateCandidate, evidence: DateEvidence) -> tuple[dt.date | None, str]:
    """The one reading of a numeric date the page's evidence supports, or None; with the reason.

    A weekday written beside the date decides, and rules out a date it contradicts. Otherwise a
    weekday the story names for the day itself ("said on Friday"), or how the page writes other
    dates, may settle it.
    """
    readings = tuple(dict.fromkeys(candidate.readings))
    if candidate.weekday:
        fits = [r for r in readings if WEEKDAYS[r.weekday()] == candidate.weekday]
        return (fits[0], "the weekday beside it") if len(fits) == 1 else (None, "")
    if len(readings) == 1:
        return readings[0], ""
    month_first, day_first = readings
    written = evidence.day_first_signals - evidence.month_first_signals  # dates, currency, address
    locale = written + evidence.spelling
    support = [_weekday_support(r, evidence.weekdays) for r in readings]
    if support[0] != support[1]:
        best = readings[support.index(max(support))]
        contradicts = (best == month_first and locale > 1) or (best == day_first and locale < -1)
        if not contradicts:
            return best, "the weekday the story names"
    if abs(locale) >= 2 and written * locale > 0 and support[0] == support[1]:
        return (day_first if locale > 0 else month_first), "how the page writes dates"  # never spelling alone
    return None, ""


PRIORITY = {
    # (label, where) -> rank; lower is better. Unlisted pairs are never a publication date.
    ("first_published", "meta"): 0,
    ("published", "meta"): 1,
    ("first_published", "header"): 2,
    ("first_published", "byline"): 2,
    ("first_published", "after_body"): 2,
    ("published", "header"): 3,
    ("published", "byline"): 3,
    ("plain", "byline"): 4,
    ("published", "after_body"): 5,
    ("plain", "dateline"): 6,
    ("plain", "wire"): 7,
    ("plain", "url"): 8,
    ("plain", "after_body"): 9,
}


def choose(candidates: list[DateCandidate], evidence: DateEvidence) -> DateChoice:
    """The publication date among ``candidates``, or None with a warning saying why."""
    ceilings = [r for c in candidates if c.where == "crawl" and not c.ambiguous for r in c.readings]
    ceiling = min(ceilings) if ceilings else None
    usable = sorted(
        (PRIORITY[(c.label, c.where)], i, c) for i, c in enumerate(candidates) if (c.label, c.where) in PRIORITY
    )
    unsettled: list[str] = []
    # A front-matter or meta date that the page itself labels as the update ("Published: Mar 4 | Updated:
    # Mar 5") is the update, when the page states when it was published as well.
    shown = [c for c in candidates if c.where != "meta" and c.label in ("published", "first_published")]
    updates = (
        {settle(c, evidence)[0] for c in candidates if c.label == "updated" and c.where != "meta"} if shown else set()
    )
    for rank, _, candidate in usable:
        date, _reason = settle(candidate, evidence)
        if candidate.where == "meta" and date in updates - {None}:
            continue
        if date is None:
            unsettled.append(candidate.text)
            # An ambiguous date outranks the ones below it: they may be other stories' or the update's.
            continue
        if not candidate.year_given:
            continue
        if ceiling and date > ceiling:
            continue
        if unsettled and rank > PRIORITY[("published", "header")]:
            break
        return DateChoice(date.isoformat())
    if unsettled:
        return DateChoice(None, f"ambiguous date {unsettled[0]!r}: no evidence on the page says which is the day")
    updated = [c for c in candidates if c.label == "updated"]
    if updated:
        return DateChoice(None, f"only an update date was found ({updated[0].text!r}), not when it was published")
    return DateChoice(None, None)


RELATIVE_TIME = re.compile(
    r"^(?:[A-Za-z]+(?:\s[a-z]+)?:?\s+)?(?:(?:\d{1,3}|an?|one|a few)\s+"
    r"(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|days?|weeks?|months?|years?)\s+ago|just now|yesterday)\W*$",
    re.I,
)


def is_relative_time(line: str) -> bool:
    """ "Updated 52 minutes ago", "Posted yesterday": a date line that names no date (so never one)."""
    text = line.strip()
    return len(text) <= 40 and RELATIVE_TIME.match(text) is not None


def is_date_only(line: str) -> bool:
    """The line is a date, perhaps with a weekday, a time and a zone: a dateline under a headline."""
    dates = parse_dates(line, default_year=2000)
    if not dates:
        return False
    rest = line
    for _, written, _, _ in dates:
        rest = rest.replace(written, " ")
    rest = WEEKDAY_WORD.sub(" ", rest)
    rest = WEEKDAY_SHORT.sub(" ", rest)
    rest = re.sub(
        r"\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?|\b\d{1,2}\s*[ap]\.?m\.?|\b[A-Z]{2,5}\b|\bat\b|\bgmt\b", " ", rest
    )
    return not rest.strip(" ,.|-–—/()")


URL_DATE = re.compile(
    r"/((?:19|20)\d\d)[/-]([01]?\d)[/-]([0-3]?\d)(?:/|$|-)|[/-]((?:19|20)\d\d)([01]\d)([0-3]\d)(?:\D|$)"
)
COPYRIGHT = re.compile(r"©|\(c\)|\bcopyright\b", re.I)


def _label_pattern(lexicon: Lexicon) -> re.Pattern[str]:
    phrases = sorted(
        ((phrase, meaning) for meaning, words in lexicon.date_labels.items() for phrase in words),
        key=lambda pair: -len(pair[0]),
    )
    return re.compile(r"\b(" + "|".join(re.escape(p) for p, _ in phrases) + r")\b", re.I)


def label_of(prefix: str, lexicon: Lexicon) -> str:
    """What the words just before a date say it is: the last label wins ("Updated ... first published")."""
    if COPYRIGHT.search(prefix):
        return "copyright"
    meanings = {phrase: meaning for meaning, words in lexicon.date_labels.items() for phrase in words}
    matches = list(_label_pattern(lexicon).finditer(prefix))
    if not matches:
        return "plain"
    meaning = meanings[matches[-1].group(1).lower()]
    return "crawl" if meaning == "crawled" else meaning


def url_candidate(url: str | None) -> DateCandidate | None:
    match = URL_DATE.search(url or "")
    if not match:
        return None
    year, month, day = (int(g) for g in (match.groups()[:3] if match.group(1) else match.groups()[3:]))
    date = _make(year, month, day)
    return DateCandidate((date,), match.group(0), "plain", "url") if date else None


def meta_candidates(meta: dict[str, list[str]]) -> list[DateCandidate]:
    """Dates the page's markup or front matter states, as `published` or `updated`."""
    found = []
    for key, label in (("published", "published"), ("updated", "updated")):
        for value in meta.get(key, []):
            parsed = parse_dates(value)
            if parsed:
                readings, written, given, sep = parsed[0]
                found.append(DateCandidate(readings, written, label, "meta", given, sep))
    return found


def line_candidates(text: str, where: str, lexicon: Lexicon, default_year: int | None = None) -> list[DateCandidate]:
    """The dates of one line, each labelled by the words before it, with a weekday written beside it."""
    found = []
    cursor = 0
    for readings, written, given, sep in parse_dates(text, default_year):
        at = text.find(written, cursor)
        prefix = text[cursor:at] if at >= 0 else ""
        label = label_of(prefix, lexicon) if at >= 0 else "plain"
        cursor = at + len(written) if at >= 0 else cursor
        beside = WEEKDAY_BESIDE.search(prefix)
        weekday = next((d for d in WEEKDAYS if beside and d.startswith(beside.group(1).lower()[:3])), None)
        kind = "crawl" if label == "crawl" else where
        found.append(
            DateCandidate(readings, written, "plain" if label == "crawl" else label, kind, given, sep, weekday)
        )
    return found


def page_candidates(
    units: list[Unit],
    start: int,
    end: int,
    title_at: int | None,
    meta: dict[str, list[str]],
    url: str | None,
    rules: Rules,
) -> list[DateCandidate]:
    """Every date a page states, placed: markup and address, header lines (a byline, the line under the
    headline, the site's date of today, another story's date), the article's opening dateline, the
    article itself, and what follows it. ``start``/``end`` bound the article among ``units``."""
    lexicon = load_lexicon()
    found = meta_candidates(meta)
    from_url = url_candidate(url)
    if from_url:
        found.append(from_url)
    for i, unit in enumerate(units):
        text = unit.text
        if i < start:
            after_title = (title_at is not None and i > title_at) or (title_at is None and start - i <= 3)
            if not unit.prose and rules.is_site_header(text):
                kind = "crawl"
            elif rules.byline(text):
                kind = "byline"
            elif after_title:
                kind = "dateline"
            elif is_date_only(text) and _dated_below_today(units, i, title_at):
                kind = "dateline"  # the story's date a few lines over its headline, the site's today above it
            elif is_date_only(text):
                kind = "crawl"  # a date line above the headline: the site's date of today
            elif NAMED_DATE_LINE.match(text):
                kind = "byline"  # "Ama Owusu-Ansah | Wednesday, 9 October 2024" above the headline
            else:
                kind = "list"  # a date in a line above the headline: another story's
            candidates = _labelled_above(line_candidates(text, kind, lexicon), units[i - 1].text if i else "", lexicon)
            if kind in ("dateline", "list", "crawl"):  # a labelled date says what it is wherever it stands
                candidates = [
                    _placed(c, "header") if c.label in ("published", "first_published", "updated") else c
                    for c in candidates
                ]
            found += candidates
        elif i < end and unit.role == "body":
            where_kind = "wire" if i == start and _opens_with_dateline(text, rules) else "body"
            found += [
                c if where_kind == "body" or text.find(c.text) < DATELINE_CHARS else _placed(c, "body")
                for c in line_candidates(text, where_kind, lexicon, default_year=_year_hint(found))
            ]
        else:
            found += [
                c if c.label in ("published", "first_published") else _placed(c, "list")
                for c in line_candidates(text, "after_body", lexicon)
            ]
    return found


NAMED_DATE_LINE = re.compile(r"^(?:by\s+)?[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){1,3}\s*[|•·,–/-]\s*\S", re.I)
TODAY_LINES = 4  # the site's date of today stands among the page's first lines
CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\s*(?:[ap]\.?m\.?)?\b", re.I)
DATELINE_CHARS = 60  # a dateline's date stands within this many characters of the story's start
DATELINE = re.compile(r"^[A-Z][A-Z .'/-]{2,40}(?:,\s*[A-Z][\w.]*(?:\s[A-Z][\w.]*){0,3})?,?\s")


def _opens_with_dateline(text: str, rules: Rules) -> bool:
    """ "TOKYO (Reuters) -", "NELSON, Wednesday 5 June 2024 –": the story opens with where and when."""
    return bool(rules.wire_dateline(text) or DATELINE.match(text))


def _dated_below_today(units: list[Unit], i: int, title_at: int | None) -> bool:
    """A date line close over the headline, with a clock time or under another date line (the site's
    date of today) near the top of the page: a theme that shows the post's date above its title."""
    if title_at is None or not 0 < title_at - i <= 3:
        return False
    if CLOCK.search(units[i].text):
        return True  # "February 15, 2024 10:13 PM": a post's time stamp, not the date of today
    return any(is_date_only(u.text) for u in units[: min(i, TODAY_LINES)])


def _labelled_above(candidates: list[DateCandidate], above: str, lexicon: Lexicon) -> list[DateCandidate]:
    """ "Updated" on one line and "May 29, 2024, 11:20 AM" on the next: the label above names the date."""
    if not _label_pattern(lexicon).fullmatch(above.strip(" :|-–—")):
        return candidates
    label = label_of(above, lexicon)
    if label not in ("published", "first_published", "updated"):
        return candidates
    return [replace(c, label=label) if c.label == "plain" else c for c in candidates]


def _placed(candidate: DateCandidate, where: str) -> DateCandidate:
    return replace(candidate, where=where)


def _year_hint(found: list[DateCandidate]) -> int | None:
    years = {r.year for c in found if c.year_given and c.where != "list" for r in c.readings}
    return years.pop() if len(years) == 1 else None
