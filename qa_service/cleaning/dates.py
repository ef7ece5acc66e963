"""Find and normalise publication dates in header lines (never in article prose)."""

from __future__ import annotations

import datetime as dt
import re

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_IN_LINE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"
    rf"|\d{{1,2}}[-/.]{_MONTH}[-/.]\d{{4}}"
    r"|\d{1,2}/\d{1,2}/\d{4}",
    re.I,
)
TIME_TAIL = re.compile(r"^(?:at\s+)?\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?\s*(?:[A-Z]{2,4})?$", re.I)


def parse_date(text: str | dt.date | None) -> str | None:
    """ISO date of a date-like value, or None when it is not a date."""
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        return text.date().isoformat()
    if isinstance(text, dt.date):
        return text.isoformat()
    import dateparser  # slow import: only ingestion pays for it

    match = DATE_IN_LINE.search(str(text))
    if not match:
        return None
    parsed = dateparser.parse(match.group(0), languages=["en"], settings={"PREFER_DAY_OF_MONTH": "first"})
    return parsed.date().isoformat() if parsed else None


def find_date(line: str) -> str | None:
    return parse_date(line) if DATE_IN_LINE.search(line) else None


def is_date_line(line: str) -> bool:
    """The whole line is a date, perhaps with a time: a dateline under a headline."""
    match = DATE_IN_LINE.search(line)
    if not match:
        return False
    rest = (line[: match.start()] + " " + line[match.end() :]).strip(" ,.|-–—")
    return not rest or bool(TIME_TAIL.match(rest))
