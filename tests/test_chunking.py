"""Passages: sentence-whole, 40 to 120 words, with offsets; duplicate stories grouped."""

from __future__ import annotations

import pytest

from qa_service.corpus import build_corpus
from qa_service.settings import load_settings
from tests.conftest import SEEDS

TERMINAL = (".", "!", "?", '"', "”", "’", "'")


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(load_settings(source_dir=SEEDS))


def test_passages_point_into_their_document(corpus):
    docs = {d.doc_id: d for d in corpus.documents}
    for p in corpus.passages:
        assert docs[p.doc_id].text[p.start : p.end] == p.text
    ordinals = {}
    for p in corpus.passages:
        ordinals.setdefault(p.doc_id, []).append(p.ordinal)
    assert all(seq == list(range(len(seq))) for seq in ordinals.values())


def test_passages_keep_sentences_whole(corpus):
    docs = {d.doc_id: d for d in corpus.documents}
    for p in corpus.passages:
        last_line = p.text.rsplit("\n", 1)[-1]
        assert p.text.endswith(TERMINAL) or last_line.startswith("• "), p.text[-60:]
        before = docs[p.doc_id].text[: p.start]
        assert before == "" or before.endswith("\n"), "a passage must start at a paragraph or line start"
        assert p.sentences[0][0] == 0 and p.sentences[-1][1] == len(p.text)


def test_passage_lengths(corpus):
    lengths = [len(p.text.split()) for p in corpus.passages]
    assert min(lengths) >= 40
    assert max(lengths) <= 150  # 120, plus a short closing paragraph merged rather than left alone


def test_wire_story_carried_twice_is_grouped(corpus):
    by_group = {}
    for p in corpus.passages:
        by_group.setdefault(p.group, set()).add(p.doc_id)
    shared = [docs for docs in by_group.values() if docs == {"001_368069da228b5b29", "003_51eea627eb5f8ad1"}]
    assert len(shared) >= 6
    assert all(len(docs) == 1 for docs in by_group.values() if "002_ab862d0e136790e3" in docs)


def test_long_paragraph_is_split_at_sentence_ends():
    from qa_service.chunking import chunk_document
    from qa_service.domain import Document

    sentence = "The council met on Monday to discuss the new harbour wall and its cost. "
    doc = Document(doc_id="long", title="t", text=(sentence * 30).strip())
    passages = chunk_document(doc, 0, 0, 40, 120)
    assert len(passages) > 1
    for p in passages:
        assert p.text.endswith("cost.") and len(p.text.split()) <= 120


def test_a_list_stays_with_the_lead_in_that_introduces_it():
    from qa_service.chunking import sentence_spans

    text = (
        "Japan is the largest holder. Analysts caution that a sale could:\n\n"
        "• Drive up interest rates\n• Destabilize bond markets\n\n"
        "Other notes:\n- first point\n- second point\n\n"
        "• A bullet with no lead-in\n• stands alone"
    )
    units = [text[a:b] for a, b in sentence_spans(text)]
    assert units == [
        "Japan is the largest holder.",
        "Analysts caution that a sale could:\n\n• Drive up interest rates\n• Destabilize bond markets",
        "Other notes:\n- first point\n- second point",
        "• A bullet with no lead-in",
        "• stands alone",
    ]


def test_a_list_introduced_on_the_seeds_is_one_answerable_unit(corpus):
    units = [p.text[a:b] for p in corpus.passages for a, b in p.sentences]
    lists = [u for u in units if "Destabilize global bond markets" in u]
    assert lists and all(u.startswith("Analysts caution") and u.endswith("diplomatic relations") for u in lists)
