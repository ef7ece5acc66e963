"""Split clean text into sentence-whole passages and group near-duplicates across outlets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cache

from .domain import Document, Passage, Span

PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
WORD = re.compile(r"\w+", re.UNICODE)
LIST_ITEM = re.compile(r"\s*(?:[•·▪◦‣*–-]|\d{1,2}[.)])\s")
LIST_UNIT_WORDS = 80  # a longer list keeps its further items as units of their own


@cache
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _lists_joined(text: str, spans: list[Span]) -> list[Span]:
    """A lead-in ending in ':' and the list items under it become one unit.

    "Analysts caution that a sale could:" means nothing without "• Destabilize global bond
    markets", nor the item without the lead-in; highlights and answers quote them together.
    """
    joined: list[Span] = []
    in_list = False
    for start, end in spans:
        item = LIST_ITEM.match(text, start) is not None
        fits = bool(joined) and _word_count(text[joined[-1][0] : end]) <= LIST_UNIT_WORDS
        gap = text[joined[-1][1] : start] if joined else ""
        continues = in_list and not PARAGRAPH_BREAK.search(gap)  # items of one list are on adjacent lines
        if item and fits and (continues or text[joined[-1][0] : joined[-1][1]].rstrip().endswith(":")):
            joined[-1] = (joined[-1][0], end)
            in_list = True
            continue
        joined.append((start, end))
        in_list = False
    return joined


def sentence_spans(text: str, offset: int = 0) -> list[Span]:
    """Sentence spans of a paragraph; each line ends a sentence, except the items of a list
    introduced by a lead-in ending in ':', which stay with it."""
    spans: list[Span] = []
    cursor = 0
    for line in text.split("\n"):
        line_start = text.index(line, cursor) if line else cursor
        cursor = line_start + len(line)
        pos = line_start
        for sentence in _segmenter().segment(line) if line.strip() else []:
            stripped = sentence.strip()
            if not stripped:
                continue
            start = text.index(stripped, pos)
            pos = start + len(stripped)
            spans.append((start, pos))
    return [(offset + start, offset + end) for start, end in _lists_joined(text, spans)]


def paragraph_spans(text: str) -> list[Span]:
    """Paragraph spans; a list stays in one paragraph with the lead-in that introduces it."""
    spans, start = [], 0
    for brk in PARAGRAPH_BREAK.finditer(text):
        if text[start : brk.start()].strip():
            spans.append((start, brk.start()))
        start = brk.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return _lists_joined(text, spans)


def _word_count(text: str) -> int:
    return len(text.split())


def _pieces(text: str, min_words: int, max_words: int) -> list[list[Span]]:
    """Groups of sentence spans, each group one passage: paragraphs merged or split to fit."""
    units: list[list[Span]] = []  # each unit: the sentences of a paragraph, or of a piece of one
    for start, end in paragraph_spans(text):
        sentences = sentence_spans(text[start:end], start)
        if _word_count(text[start:end]) <= max_words:
            units.append(sentences)
            continue
        piece: list[Span] = []
        for span in sentences:  # a long paragraph is cut at sentence ends, never mid-sentence
            if piece and _word_count(text[piece[0][0] : span[1]]) > max_words:
                units.append(piece)
                piece = []
            piece.append(span)
        units.append(piece)

    groups: list[list[Span]] = []
    current: list[Span] = []
    for unit in units:
        if current and _word_count(text[current[0][0] : unit[-1][1]]) > max_words:
            groups.append(current)
            current = []
        current = current + unit
        if _word_count(text[current[0][0] : current[-1][1]]) >= min_words:
            groups.append(current)
            current = []
    if current:
        tail_fits = groups and _word_count(text[groups[-1][0][0] : current[-1][1]]) <= max_words * 5 // 4
        if tail_fits:
            groups[-1] = groups[-1] + current
        else:
            groups.append(current)
    return groups


def chunk_document(doc: Document, first_id: int, first_sentence: int, min_words: int, max_words: int) -> list[Passage]:
    passages = []
    sentence_row = first_sentence
    for ordinal, group in enumerate(_pieces(doc.text, min_words, max_words)):
        start, end = group[0][0], group[-1][1]
        passages.append(
            Passage(
                passage_id=first_id + ordinal,
                doc_id=doc.doc_id,
                ordinal=ordinal,
                start=start,
                end=end,
                text=doc.text[start:end],
                sentences=tuple((s - start, e - start) for s, e in group),
                first_sentence=sentence_row,
                group=first_id + ordinal,
            )
        )
        sentence_row += len(group)
    return passages


def chunk_documents(docs: Iterable[Document], min_words: int, max_words: int) -> list[Passage]:
    passages: list[Passage] = []
    sentences = 0
    for doc in docs:
        new = chunk_document(doc, len(passages), sentences, min_words, max_words)
        passages.extend(new)
        sentences += sum(len(p.sentences) for p in new)
    return passages


# --- near-duplicates -------------------------------------------------------------------

_NORMALISE = [
    (re.compile(r"\bper cent\b|%"), " percent "),
    (re.compile(r"\bU\.S\.|\bUS\$"), " us "),
    (re.compile(r"\bcarmakers\b"), "automakers"),
]


def shingle_words(text: str) -> list[str]:
    """The normalised, lower-cased words that shingles are made of, in order."""
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return [t.lower() for t in WORD.findall(text)]


def shingles(text: str, size: int = 4) -> set[tuple[str, ...]]:
    tokens = shingle_words(text)
    return {tuple(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))}


def group_duplicates(passages: Sequence[Passage], threshold: float) -> list[Passage]:
    """Passages of different documents that share most word 4-grams become one group.

    Containment (shared / smaller set) rather than Jaccard, so a passage cut slightly
    differently by another outlet still joins the group.
    """
    grams_of = [shingles(p.text) for p in passages]
    parent = list(range(len(passages)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    index: dict[tuple[str, ...], list[int]] = {}
    for i, grams in enumerate(grams_of):
        for gram in grams:
            index.setdefault(gram, []).append(i)
    for i, grams in enumerate(grams_of):
        counts: dict[int, int] = {}
        for gram in grams:
            for j in index[gram]:
                if j > i and passages[j].doc_id != passages[i].doc_id:
                    counts[j] = counts.get(j, 0) + 1
        for j, shared in counts.items():
            if shared / max(1, min(len(grams), len(grams_of[j]))) >= threshold:
                parent[find(j)] = find(i)
    return [replace(p, group=passages[find(i)].passage_id) for i, p in enumerate(passages)]
