"""Follow-up questions resolved against earlier turns, so "what did he say later?" can be searched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .lexicon import Lexicon, load_lexicon
from .terms import terms
from .textfacts import people

CONTEXT_NAMES = 3  # names from the last answer carried into a follow-up
CONTEXT_WORDS = 30  # words of the last answer carried when a follow-up points at a statement


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True)
class Resolution:
    """A follow-up made searchable: the question with its pronoun named, and the context it leans on."""

    question: str  # the question, "he" replaced by the person last named
    context: str  # the earlier question and the names and words of the last answer ("" when none)

    @property
    def text(self) -> str:
        return f"{self.question} ({self.context})" if self.context else self.question


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    lexicon = load_lexicon()

    def words(items) -> str:
        return "|".join(re.escape(w) for w in sorted(items, key=len, reverse=True))

    return {
        "pronoun": re.compile(rf"\b(?:{words(lexicon.pronouns)})\b|\b(?:said|did|do|does|think|say|says) so\b", re.I),
        "person": re.compile(rf"\b({words(lexicon.person_pronouns)})\b", re.I),
        "statement": re.compile(rf"\b(?:{words(lexicon.statement_references)})\b", re.I),
        "ellipsis": re.compile(rf"^\s*(?:{words(lexicon.ellipsis)})\b", re.I),
        "later": re.compile(rf"\b(?:{words(lexicon.later)})\b", re.I),
        "earlier": re.compile(rf"\b(?:{words(lexicon.earlier)})\b", re.I),
        "speaker": re.compile(rf"\b([A-Z][a-z]+)\s+(?:{words(lexicon.speech_verbs)})\b"),
    }


def time_direction(question: str, lexicon: Lexicon | None = None) -> int:
    """+1 when a follow-up asks what came later, -1 when it asks what came before, else 0."""
    found = _patterns()
    if found["later"].search(question):
        return 1
    if found["earlier"].search(question):
        return -1
    return 0


def is_follow_up(question: str, lexicon: Lexicon | None = None) -> bool:
    """A question that leans on earlier turns: a pronoun, an elliptical opener, or too few terms."""
    found = _patterns()
    return bool(found["pronoun"].search(question) or found["ellipsis"].search(question) or len(terms(question)) <= 1)


def _names(text: str, lexicon: Lexicon) -> list[str]:
    """People named in a text, and single surnames doing the talking ("Kato clarified")."""
    function = lexicon.stopwords | lexicon.question_words | lexicon.pronouns
    speakers = [
        m
        for m in _patterns()["speaker"].findall(text)
        if m.lower() not in lexicon.not_names and m.lower() not in function and m.lower() not in lexicon.months
    ]
    return list(dict.fromkeys([*people.__wrapped__(text), *speakers]))  # uncached: conversation text is new


def _referents(last_user: str, last_answer: str, lexicon: Lexicon) -> list[str]:
    """Who "he" or "she" most likely is, best first. After a who-question the answer's new person is the
    focus ("Who did Akazawa meet?" ... "what did he say?": the one he met); otherwise the person the
    question and its answer share ("When did Kato clarify ...?"), then the answer's, then the question's."""
    in_answer, in_question = _names(last_answer, lexicon), _names(last_user, lexicon)
    asked = last_user.lower()

    def mentioned(name: str) -> bool:
        return name.split()[-1].lower() in asked

    from .analysis import answer_type  # analysis imports this module: resolved at call time

    if answer_type(last_user, lexicon) == "person":
        ranked = [n for n in in_answer if not mentioned(n)] + [n for n in in_answer if mentioned(n)]
    else:
        ranked = [n for n in in_answer if mentioned(n)] + [n for n in in_answer if not mentioned(n)]
    return list(dict.fromkeys(ranked + in_question))


def resolve_turns(question: str, history: list[Turn], lexicon: Lexicon | None = None) -> Resolution:
    """The question, made self-contained with the entities and terms of the conversation so far.

    A self-contained question comes back unchanged. A follow-up keeps its own words first and gains
    the earlier user question plus the names mentioned in the last answer.
    """
    lexicon = lexicon or load_lexicon()
    if not history or not is_follow_up(question, lexicon):
        return Resolution(question, "")
    found = _patterns()
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    last_answer = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    resolved = question
    named = _referents(last_user, last_answer, lexicon)
    if named and found["person"].search(question):
        resolved = found["person"].sub(
            lambda m: named[0] + ("'s" if m.group(1).lower() == "his" else ""), resolved, count=1
        )
    context = [last_user]
    if resolved == question:  # once "he" is named, the answer's other people would pull the search off him
        context += [n for n in _names(last_answer, lexicon) if n not in last_user and n not in resolved][:CONTEXT_NAMES]
    if last_answer and found["statement"].search(question):
        context.append(" ".join(last_answer.split()[:CONTEXT_WORDS]))
    return Resolution(resolved, " ".join(c for c in context if c))


def resolve(question: str, history: list[Turn]) -> str:
    """The follow-up as one searchable text (see resolve_turns)."""
    return resolve_turns(question, history).text
