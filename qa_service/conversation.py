"""Follow-up questions resolved against earlier turns, so "what did he say later?" can be searched."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .terms import MONTHS, WEEKDAYS, terms

PRONOUN = re.compile(
    r"\b(he|him|his|she|her|hers|they|them|their|it|its|that|this|those|these|there|then)\b"
    r"|\b(said|did|do|does|think|thinks|say|says) so\b",
    re.I,
)
# Words that point back at a statement rather than a person: the earlier answer is what is asked about.
STATEMENT_REFERENCE = re.compile(r"\b(that|this|it|so)\b", re.I)
# Capitalised words that are titles, places or organisations, not part of a person's name.
NOT_A_NAME = (
    set(MONTHS)
    | set(WEEKDAYS)
    | {
        "united",
        "states",
        "white",
        "house",
        "department",
        "treasury",
        "ministry",
        "bank",
        "union",
        "times",
        "news",
        "post",
        "journal",
        "japan",
        "japanese",
        "china",
        "chinese",
        "washington",
        "tokyo",
        "trade",
        "finance",
        "minister",
        "secretary",
        "president",
        "prime",
        "chief",
        "strategist",
        "governor",
        "reserve",
        "federal",
        "financial",
        "administration",
        "government",
        "congress",
        "senate",
        "court",
        "street",
        "us",
        "u.s",
    }
)
PERSON_PRONOUN = re.compile(r"\b(he|him|his|she|her)\b", re.I)
ELLIPSIS = re.compile(r"^\s*(and|but|also|what about|how about|and what about|what of)\b", re.I)
# Two or more capitalised words in a row: a person's or an organisation's name.
NAME = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)+)\b")
# A single capitalised word doing the talking: "Kato clarified", "Smith said".
SPEAKER = re.compile(r"\b([A-Z][a-z]+)\s+(?:said|says|told|added|clarified|repeated|explained|warned|indicated)\b")
SENTENCE_START_WORDS = {
    "The",
    "A",
    "An",
    "In",
    "On",
    "What",
    "Who",
    "When",
    "Where",
    "Why",
    "How",
    "Did",
    "Does",
    "Is",
    "Was",
    "Were",
    "And",
    "But",
    "It",
    "He",
    "She",
    "They",
    "This",
    "That",
    "Whether",
}


LATER = re.compile(r"\b(later|afterwards?|after that|the next day|the day after|since then|subsequently)\b", re.I)
EARLIER = re.compile(r"\b(earlier|before|beforehand|previously|prior to that)\b", re.I)


def time_direction(question: str) -> int:
    """+1 when a follow-up asks what came later, -1 when it asks what came before, else 0."""
    if LATER.search(question):
        return 1
    if EARLIER.search(question):
        return -1
    return 0


@dataclass(frozen=True)
class Turn:
    role: str  # "user" or "assistant"
    content: str


def is_follow_up(question: str) -> bool:
    """A question that leans on earlier turns: a pronoun, an elliptical opener, or too few terms."""
    return bool(PRONOUN.search(question) or ELLIPSIS.search(question) or len(terms(question)) <= 1)


def _names(text: str) -> list[str]:
    """People named in a text, titles stripped: "Finance Minister Katsunobu Kato" gives "Katsunobu Kato"."""
    people = []
    for run in NAME.findall(text):
        tokens = [t for t in run.split() if t not in SENTENCE_START_WORDS]
        while tokens and tokens[0].lower() in NOT_A_NAME:
            tokens.pop(0)
        if tokens and tokens[-1].lower() not in NOT_A_NAME:
            people.append(" ".join(tokens[-2:]))
    people += [m for m in SPEAKER.findall(text) if m.lower() not in NOT_A_NAME and m not in SENTENCE_START_WORDS]
    return list(dict.fromkeys(people))


def resolve(question: str, history: list[Turn]) -> str:
    """The question, made self-contained with the entities and terms of the conversation so far.

    A self-contained question is returned unchanged. A follow-up keeps its own words first and
    gains the earlier user question plus the names mentioned in the last answer.
    """
    if not history or not is_follow_up(question):
        return question
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    last_answer = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    resolved = question
    people = _names(last_answer) + _names(last_user)
    if people and PERSON_PRONOUN.search(question):
        resolved = PERSON_PRONOUN.sub(
            lambda m: people[0] + ("'s" if m.group(1).lower() == "his" else ""), resolved, count=1
        )
    context = [last_user, *[n for n in _names(last_answer) if n not in last_user and n not in resolved][:3]]
    if last_answer and STATEMENT_REFERENCE.search(question):
        context.append(" ".join(last_answer.split()[:30]))
    context_text = " ".join(c for c in context if c)
    return f"{resolved} ({context_text})" if context_text else resolved
