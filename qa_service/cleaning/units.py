"""A page as a sequence of units (one line, or one unwrapped paragraph), each with the features that
decide whether it is article text: length, stop-word density, sentence shape, list and link shape,
repetition within the page.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from ..lexicon import load_lexicon
from .markup import Block

TERMINAL = tuple(".!?…;\"”’')")
# An agency's sign-off after the last sentence: "... in the House. PTI KRS ANV", "... said. jk/ah",
# "... two days. — BB News".
SIGN_OFF = re.compile(
    r"[.!?…\"”’')]\s+(?:[A-Z]{2,5}|[a-z]{1,3}/[a-z]{1,3})(?:\s+(?:[A-Z]{2,5}|[a-z]{1,3}/[a-z]{1,3})){0,3}$"
    r"|[.!?…\"”’')]\s+[—–-]{1,2}\s*[A-Z][\w.&]*(?:\s+[A-Z][\w.&]*){0,3}$"  # "... two days. — BB News"
)
BULLET = re.compile(r"^(?:[•·▪◦‣*–-]|\d{1,2}[.)])\s")
DATED_ENDING = re.compile(r"[^\W\d_]\s+\([^()]*\b(?:19|20)\d{2}\)$")  # "... supply tightens (Jun 11, 2025)"
WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)


@cache
def stoplist() -> frozenset[str]:
    """jusText's English stop words: what its classifier measures prose by (453 words)."""
    import justext

    return frozenset(justext.get_stoplist("English"))


def normalised(text: str) -> str:
    """A unit's text for comparing repeats: letters and digits only, lower case."""
    return re.sub(r"\W+", " ", text).strip().lower()


@dataclass
class Unit:
    """One line of a page (a whole paragraph once hard wraps are joined) and its features."""

    index: int
    text: str
    block: int
    kind: str  # paragraph | heading | list_item | code
    link_density: float = 0.0
    links: tuple[str, ...] = ()
    words: int = 0
    stop_density: float = 0.0  # share of jusText's stop words (which count "news", "western"): how prose-like
    function_density: float = 0.0  # share of the lexicon's function words ("the", "of"): how phrase-like
    capitalised: float = 0.0  # share of words that start with a capital letter
    wordy: float = 0.0  # share of its tokens that are words, not figures or symbols ("KSE100 148,212.55 ▲")
    repeats: int = 1  # how often the same text occurs on the page
    role: str = ""  # decided later: body, chrome, meta, end, heading, ...
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return normalised(self.text)

    @property
    def sentence(self) -> bool:
        """Ends the way a sentence ends (a headline, label or list of links does not, nor a headline with
        its date after it: "Port rents rise 2.1% (Jun 11, 2025)")."""
        text = self.text.rstrip()
        if DATED_ENDING.search(text):
            return False
        return text.endswith(TERMINAL) or bool(SIGN_OFF.search(text))

    @property
    def lead_in(self) -> bool:
        return self.text.rstrip().endswith(":")

    @property
    def bullet(self) -> bool:
        return self.kind == "list_item" or bool(BULLET.match(self.text))

    @property
    def prose(self) -> bool:
        """A sentence of running text: long enough, ending like a sentence, dense in function words."""
        ends = self.sentence or self.lead_in  # "Analysts caution that a sale could:" leads into its list
        return ends and self.words >= 7 and self.stop_density >= 0.2 and self.link_density < 0.5 and self.wordy >= 0.5

    @property
    def headline_shaped(self) -> bool:
        return not self.sentence and 0 < self.words <= 25 and not self.bullet


def _features(unit: Unit) -> Unit:
    tokens = WORD.findall(unit.text)
    unit.words = len(unit.text.split())
    if tokens:
        stops = stoplist()
        unit.stop_density = sum(t.lower() in stops for t in tokens) / len(tokens)
        function = load_lexicon().stopwords
        unit.function_density = sum(t.lower() in function for t in tokens) / len(tokens)
        unit.capitalised = sum(t[:1].isupper() for t in tokens) / len(tokens)
        unit.wordy = len(tokens) / max(1, unit.words)
    return unit


def page_units(blocks: list[Block]) -> list[Unit]:
    """Every non-empty line of the page's blocks, in order, with features and repeat counts."""
    units: list[Unit] = []
    for number, block in enumerate(blocks):
        density = block.link_density
        for line in block.lines:
            text = line.strip()
            if text:
                units.append(_features(Unit(len(units), text, number, block.kind, density, tuple(block.links))))
    counts = Counter(u.key for u in units if u.key)
    for unit in units:
        unit.repeats = counts.get(unit.key, 1)
    return units
