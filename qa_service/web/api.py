"""The JSON API blueprint: each route validates, calls one service method, and serialises the result."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..requests import AskRequest, ChatRequest
from ..serialize import answer_dict, document_detail, document_row, to_json
from . import current_service, current_settings
from .body import json_object
from .openapi import SPEC_KEY
from .schemas import Health, summary

bp = Blueprint("api", __name__, url_prefix="/api")


def _body() -> dict:
    settings = current_settings()
    return json_object(settings.max_body_bytes, settings.max_json_depth)


@bp.post("/ask")
def ask():
    settings = current_settings()
    req = AskRequest.parse(_body(), settings.max_question_chars)
    return jsonify(answer_dict(current_service().ask(req.question, req.options(settings.default_mode))))


@bp.post("/chat")
def chat():
    settings = current_settings()
    req = ChatRequest.parse(_body(), settings.max_question_chars)
    return jsonify(answer_dict(current_service().chat(req.turns(), req.options(settings.default_mode))))


@bp.get("/documents")
def documents():
    return jsonify([document_row(doc, count) for doc, count in current_service().documents()])


@bp.get("/documents/<path:doc_id>")
def document(doc_id: str):
    """The id is only ever a key into the loaded index, never a path on disk."""
    service = current_service()
    doc = service.document(doc_id)
    return jsonify(document_detail(doc, service.index.passage_counts[doc.doc_id]))


@bp.get("/health")
def health():
    """200 with the index summary; 503 problem+json naming the reason when the index or its engine cannot serve."""
    return jsonify(to_json(Health(status="ok", **summary(current_service().health().manifest))))


@bp.get("/openapi.json")
def openapi():
    """This server's document: it lists the admin endpoint only when it has one, and its own limits."""
    return jsonify(current_app.extensions[SPEC_KEY])


@bp.get("/docs")
def docs():
    """A human-readable rendering of openapi.json (plain JS, no CDN)."""
    return current_app.send_static_file("docs.html")
