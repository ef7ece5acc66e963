"""Hits to an Answer: collapse duplicate stories, highlight answering sentences, compose, abstain."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .domain import Answer, AnswerPassage, AskOptions, Citation, Hit, Passage
from .index_store import LoadedIndex
from .terms import coverage, terms

MAX_ANSWER_SENTENCES = 3
MAX_HIGHLIGHTS = 2
# A second sentence is highlighted when it scores this close to the passage's best one.
HIGHLIGHT_RATIO = 0.9
# An answer sentence from a lower passage must score this close to the best answer sentence.
ANSWER_RATIO = 0.65
# Passages sharing this much of their wording count as the same text even across chunk borders.
SAME_TEXT = 0.6
# Two answer sentences this similar say the same thing: only the first is kept.
SAME_SENTENCE = 0.9


@dataclass(frozen=True)
class ScoredSentence:
    passage_rank: int
    span: tuple[int, int]
    text: str
    score: float
    vector: np.ndarray


def citation(index: LoadedIndex, passage: Passage) -> Citation:
    doc = index.documents[passage.doc_id]
    return Citation(
        doc_id=doc.doc_id,
        title=doc.title,
        publisher=doc.publisher,
        author=doc.author,
        date=doc.date,
        url=doc.url,
        start=passage.start,
        end=passage.end,
    )


def collapse(hits: list[Hit], k: int, index: LoadedIndex) -> list[tuple[Hit, list[Hit]]]:
    """The top ``k`` distinct texts, each with the hits from other outlets that carry the same text."""
    kept: list[tuple[Hit, list[Hit], frozenset]] = []
    for hit in hits:
        grams = index.passage_shingles(hit.passage.passage_id)
        for rep, dupes, rep_grams in kept:
            same_group = hit.passage.group == rep.passage.group
            shared = len(grams & rep_grams) / max(1, min(len(grams), len(rep_grams)))
            if same_group or shared >= SAME_TEXT:
                if hit.passage.doc_id != rep.passage.doc_id and all(
                    d.passage.doc_id != hit.passage.doc_id for d in dupes
                ):
                    dupes.append(hit)
                break
        else:
            if len(kept) < k:
                kept.append((hit, [], grams))
    return [(rep, dupes) for rep, dupes, _ in kept]


def score_sentences(
    index: LoadedIndex, passage: Passage, qvec: np.ndarray, qterms: list[str], rank: int
) -> list[ScoredSentence]:
    rows = index.sentence_vectors[passage.first_sentence : passage.first_sentence + len(passage.sentences)]
    cosines = rows @ qvec
    scored = []
    sentence_terms = index.sentence_terms(passage.passage_id)
    for (start, end), cos, vector, words in zip(passage.sentences, cosines, rows, sentence_terms, strict=True):
        text = passage.text[start:end]
        cover = coverage(qterms, words, index.idf, index.default_idf)
        scored.append(ScoredSentence(rank, (start, end), text, 0.7 * float(cos) + 0.3 * cover, vector))
    return scored


def highlights(scored: list[ScoredSentence]) -> list[ScoredSentence]:
    """The passage's best sentence, and a runner-up that scores nearly as well."""
    ranked = sorted(scored, key=lambda s: -s.score)
    best = ranked[:1]
    best += [s for s in ranked[1:MAX_HIGHLIGHTS] if s.score >= HIGHLIGHT_RATIO * best[0].score > 0]
    return sorted(best, key=lambda s: s.span)


def compose(candidates: list[ScoredSentence], passages: list[AnswerPassage]) -> str:
    """At most three source sentences with [n] markers; dated and in date order when dates differ."""
    top = max((c.score for c in candidates), default=0.0)
    chosen: list[ScoredSentence] = []
    for cand in sorted(candidates, key=lambda c: c.passage_rank):  # one per passage, in rank order
        if len(chosen) == MAX_ANSWER_SENTENCES:
            break
        if cand.score >= ANSWER_RATIO * top and all(float(cand.vector @ o.vector) < SAME_SENTENCE for o in chosen):
            chosen.append(cand)
    dates = {passages[c.passage_rank - 1].citation.date for c in chosen}
    dated = len(dates) > 1
    if dated:
        chosen.sort(key=lambda c: (passages[c.passage_rank - 1].citation.date or "9999", c.passage_rank))
    parts = []
    for cand in chosen:
        text = re.sub(r"\s+", " ", cand.text).strip()
        date = passages[cand.passage_rank - 1].citation.date
        lead = f"{date}: " if dated and date else ""
        parts.append(f"{lead}{text} [{cand.passage_rank}]")
    return " ".join(parts)


def answer(
    question: str,
    hits: list[Hit],
    index: LoadedIndex,
    qvec: np.ndarray,
    options: AskOptions,
    threshold: float,
) -> Answer:
    qterms = terms(question)
    groups = collapse(hits, options.k, index)
    passages: list[AnswerPassage] = []
    answer_candidates: list[ScoredSentence] = []
    for rank, (hit, dupes) in enumerate(groups, start=1):
        picked = highlights(score_sentences(index, hit.passage, qvec, qterms, rank))
        passages.append(
            AnswerPassage(
                rank=rank,
                text=hit.passage.text,
                score=round(hit.relevance, 4),
                highlights=tuple(s.span for s in picked),
                citation=citation(index, hit.passage),
                also_reported_by=tuple(citation(index, d.passage) for d in dupes),
            )
        )
        if hit.relevance >= threshold:
            answer_candidates.append(max(picked, key=lambda s: s.score))
    top = max((p.score for p in passages), default=0.0)
    if top < threshold or not answer_candidates:
        return Answer(question=question, abstained=True, answer=None, passages=tuple(passages))
    return Answer(
        question=question,
        abstained=False,
        answer=compose(answer_candidates, passages),
        passages=tuple(passages),
    )
