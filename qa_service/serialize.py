"""The one place domain objects become JSON-ready dicts (the public answer contract)."""

from __future__ import annotations

from .domain import Answer, AnswerPassage, Citation, Document


def citation_dict(citation: Citation) -> dict:
    return {
        "doc_id": citation.doc_id,
        "title": citation.title,
        "publisher": citation.publisher,
        "author": citation.author,
        "date": citation.date,
        "url": citation.url,
        "start": citation.start,
        "end": citation.end,
        "source": citation.source,
    }


def passage_dict(passage: AnswerPassage) -> dict:
    return {
        "rank": passage.rank,
        "text": passage.text,
        "score": passage.score,
        "highlights": [list(span) for span in passage.highlights],
        "citation": citation_dict(passage.citation),
        "also_reported_by": [citation_dict(c) for c in passage.also_reported_by],
    }


def answer_dict(answer: Answer) -> dict:
    data = {
        "question": answer.question,
        "abstained": answer.abstained,
        "answer": answer.answer,
        "passages": [passage_dict(p) for p in answer.passages],
        "confidence": answer.confidence,
    }
    if answer.resolved_question is not None:
        data["resolved_question"] = answer.resolved_question
    return data


def document_row(doc: Document, passages: int) -> dict:
    """One row of `qa documents --json` and GET /api/documents."""
    return {
        "doc_id": doc.doc_id,
        "title": doc.title,
        "publisher": doc.publisher,
        "author": doc.author,
        "date": doc.date,
        "url": doc.url,
        "passages": passages,
        "warnings": list(doc.warnings),
        "source": doc.source,
    }
