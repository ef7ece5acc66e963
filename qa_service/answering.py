"""Hits to an Answer: collapse duplicate stories, highlight answering sentences, decide, compose.

The decision (decision.py) says whether to answer, to doubt or to refuse. The answer is made only of
source sentences: in each passage the sentence that holds the kind of answer asked for (a name for
who, a place for where, a figure for how much, a date for when, a cause for why) is preferred, and
similarity decides only among those; the first sentence of the answer is one that holds it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

from .analysis import Query
from .decision import confidence, features, probability
from .domain import Answer, AnswerPassage, AskOptions, Citation, Hit, Passage
from .evidence import holds_answer_type
from .index_store import LoadedIndex
from .settings import Scoring
from .terms import coverage

log = logging.getLogger(__name__)
TYPED = ("person", "place", "date", "figure", "count", "reason", "quote")


@dataclass(frozen=True)
class ScoredSentence:
    passage_rank: int
    span: tuple[int, int]
    text: str
    score: float
    vector: np.ndarray
    holds_type: bool = False


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
        source=doc.source,
    )


def collapse(hits: list[Hit], k: int, index: LoadedIndex, same_text: float) -> list[tuple[Hit, list[Hit]]]:
    """The top ``k`` distinct texts, each with the hits from other outlets that carry the same text."""
    kept: list[tuple[Hit, list[Hit], frozenset]] = []
    for hit in hits:
        grams = index.passage_shingles(hit.passage.passage_id)
        for rep, dupes, rep_grams in kept:
            same_group = hit.passage.group == rep.passage.group
            shared = len(grams & rep_grams) / max(1, min(len(grams), len(rep_grams)))
            if same_group or shared >= same_text:
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
    index: LoadedIndex, passage: Passage, query: Query, rank: int, scoring: Scoring
) -> list[ScoredSentence]:
    rows = index.sentence_vectors[passage.first_sentence : passage.first_sentence + len(passage.sentences)]
    cosines = rows @ query.vector
    scored = []
    sentence_terms = index.sentence_terms(passage.passage_id)
    weight = scoring.sentence_cosine
    for (start, end), cos, vector, words in zip(passage.sentences, cosines, rows, sentence_terms, strict=True):
        text = passage.text[start:end]
        cover = coverage(query.terms, words, index.idf, index.default_idf)
        holds = query.answer_type in TYPED and bool(holds_answer_type(query, text))
        scored.append(
            ScoredSentence(rank, (start, end), text, weight * float(cos) + (1 - weight) * cover, vector, holds)
        )
    return scored


def highlights(scored: list[ScoredSentence], scoring: Scoring) -> list[ScoredSentence]:
    """The passage's best sentence, and a runner-up that scores nearly as well."""
    ranked = sorted(scored, key=lambda s: -s.score)
    best = ranked[:1]
    best += [s for s in ranked[1 : scoring.max_highlights] if s.score >= scoring.highlight_ratio * best[0].score > 0]
    return sorted(best, key=lambda s: s.span)


def answer_sentence(scored: list[ScoredSentence], scoring: Scoring) -> ScoredSentence:
    """The sentence a passage contributes: the best of those that hold the answer's kind, if one is
    nearly as good as the passage's best sentence; else the best."""
    best = max(scored, key=lambda s: s.score)
    typed = [s for s in scored if s.holds_type and s.score >= scoring.answer_ratio * best.score]
    return max(typed, key=lambda s: s.score) if typed else best


def compose(candidates: list[ScoredSentence], passages: list[AnswerPassage], scoring: Scoring) -> str:
    """Source sentences with [n] markers, at most Scoring.max_answer_sentences.

    One per passage, in rank order, each within answer_ratio of the best and not a near-copy of one
    taken. The first is the best-ranked sentence that holds the kind of answer asked for (else the top
    passage's); the rest follow in date order (dated) when the sources' dates differ.
    """
    top = max((c.score for c in candidates), default=0.0)
    chosen: list[ScoredSentence] = []
    for cand in sorted(candidates, key=lambda c: c.passage_rank):
        if len(chosen) == scoring.max_answer_sentences:
            break
        distinct = all(float(cand.vector @ o.vector) < scoring.same_sentence for o in chosen)
        if cand.score >= scoring.answer_ratio * top and distinct:
            chosen.append(cand)
    # The first sentence answers: the best-ranked one that holds the kind of answer asked for, else
    # the top passage's; the others follow.
    lead = next((c for c in chosen if c.holds_type), chosen[0] if chosen else None)
    rest = [c for c in chosen if c is not lead]

    def date_of(c: ScoredSentence) -> str | None:
        return passages[c.passage_rank - 1].citation.date

    dated = len({date_of(c) for c in chosen}) > 1
    if dated:
        rest.sort(key=lambda c: (date_of(c) or "9999", c.passage_rank))
    parts = []
    for cand in ([lead] if lead else []) + rest:
        text = re.sub(r"\s+", " ", cand.text).strip()
        prefix = f"{date_of(cand)}: " if dated and date_of(cand) else ""
        parts.append(f"{prefix}{text} [{cand.passage_rank}]")
    return " ".join(parts)


def absent_share(query: Query, index: LoadedIndex) -> float:
    """IDF-weighted share of the question's terms that no passage of the corpus uses."""
    return 1.0 - coverage(query.terms, index.idf.keys(), index.idf, index.default_idf) if query.terms else 0.0


def decision_inputs(query: Query, tops: list[Hit], scored_top: list[ScoredSentence], index: LoadedIndex):
    """decision.features for distinct passages ``tops`` (best first) and the top one's scored sentences."""
    best = max(scored_top, key=lambda s: s.score, default=None)
    words = index.sentence_terms(tops[0].passage.passage_id) if tops else ()
    at = scored_top.index(best) if best else -1
    sentence_cover = coverage(query.terms, words[at], index.idf, index.default_idf) if best else 0.0
    return features(tops, sentence_cover, absent_share(query, index))


def answer(query: Query, hits: list[Hit], index: LoadedIndex, options: AskOptions, scoring: Scoring) -> Answer:
    groups = collapse(hits, options.k, index, scoring.same_text)
    scored_all = [score_sentences(index, hit.passage, query, rank, scoring) for rank, (hit, _) in enumerate(groups, 1)]
    inputs = decision_inputs(query, [rep for rep, _ in groups], scored_all[0] if scored_all else [], index)
    p = probability(inputs, scoring)
    level = confidence(p, scoring) if groups else "none"
    passages: list[AnswerPassage] = []
    candidates: list[ScoredSentence] = []
    for rank, (hit, dupes) in enumerate(groups, start=1):
        scored = scored_all[rank - 1]
        picked = highlights(scored, scoring)
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
        candidates.append(answer_sentence(scored, scoring))
    if level == "none":
        log.debug("refused %r (p=%.3f)", query.text, p)
        return Answer(query.text, True, None, tuple(passages), confidence="none")
    composed = compose(candidates, passages, scoring)
    log.debug("%s %r (p=%.3f)", level, query.text, p)
    return Answer(query.text, False, composed, tuple(passages), confidence=level)
