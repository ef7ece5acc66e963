"""The naive baseline: raw files split on blank lines, sentence-transformers' semantic_search, one Flask route."""

from __future__ import annotations

import re
from pathlib import Path


def split_paragraphs(source_dir: Path) -> list[str]:
    """Raw source files split on blank lines: no cleaning, no chunking."""
    paragraphs = []
    for path in sorted(source_dir.iterdir()):
        if path.suffix.lower() in {".txt", ".md", ".html", ".htm"}:
            text = path.read_text("utf-8", errors="replace")
            paragraphs += [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return paragraphs


def naive_app(model, paragraphs: list[str]):
    """``model`` (a SentenceTransformer) over ``paragraphs`` behind one route; returns the app and its ask function."""
    from flask import Flask, jsonify, request
    from sentence_transformers import util

    corpus = model.encode(paragraphs, convert_to_tensor=True, normalize_embeddings=True)

    def ask(question: str) -> dict:
        query = model.encode(question, convert_to_tensor=True, normalize_embeddings=True)
        hits = util.semantic_search(query, corpus, top_k=5)[0]
        return {
            "question": question,
            "passages": [{"text": paragraphs[h["corpus_id"]], "score": float(h["score"])} for h in hits],
        }

    app = Flask("naive-baseline")

    @app.post("/api/ask")
    def route():
        return jsonify(ask(request.get_json()["question"]))

    return app, ask
