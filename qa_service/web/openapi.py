"""The OpenAPI 3.1 document: paths listed here, every schema derived from the types the server uses.

Requests: the pydantic request models that validate them (requests.py). Responses: the dataclasses
they are serialised from (domain.py, serialize.py, schemas.py), through the same TypeAdapters. The
document is made per app, so it says what that server does: the admin endpoint is listed only when
QA_ADMIN_TOKEN enables it, and the question limit is the server's own (QA_MAX_QUESTION_CHARS).
"""

from __future__ import annotations

import copy
from functools import cache

from pydantic import BaseModel

from .. import __version__
from ..domain import Answer
from ..requests import MAX_QUESTION_CHARS, AskRequest, ChatRequest
from ..serialize import DocumentDetail, DocumentSummary, response_schema
from .schemas import Health, Problem, Reindexed

SPEC_KEY = "qa_openapi"
REF = "#/components/schemas/{model}"
REQUESTS: tuple[type[BaseModel], ...] = (AskRequest, ChatRequest)
RESPONSES: tuple[type, ...] = (Answer, DocumentSummary, DocumentDetail, Health, Reindexed, Problem)
# Which errors each kind of endpoint can answer with.
BODY_ERRORS = {
    "400": "Invalid JSON, not an object, not UTF-8, or nested too deep.",
    "413": "The body is over the size limit.",
    "415": "The body is not sent as application/json.",
    "422": "The request is well-formed JSON but a field is missing or invalid; `detail` names each.",
}
INDEX_ERRORS = {
    "503": "The index is missing, corrupt or out of date, or its search engine (Qdrant) is unreachable or did not "
    "answer within QA_QDRANT_TIMEOUT; the detail says which, the service recovers by itself when the engine returns."
}
RATE_ERRORS = {
    "429": "Too many requests from this client address (QA_RATE_LIMIT); the Retry-After header says "
    "how many seconds to wait."
}
ADMIN_ERRORS = {
    "401": "No `Authorization: Bearer <token>` header, or not the token in the server's QA_ADMIN_TOKEN.",
    "409": "A re-index is already running.",
    "500": "The build failed (e.g. no readable sources); the previous index keeps serving.",
}


def component_schemas(max_question_chars: int = MAX_QUESTION_CHARS) -> dict[str, dict]:
    """Each request and response type's JSON Schema, nested types hoisted into components.

    ``Answer`` is what /api/ask answers; ``ChatAnswer`` is the same with ``resolved_question``, which
    only /api/chat answers carry (the field is left out of the JSON when it has no value).
    """
    schemas: dict[str, dict] = {}
    for model in REQUESTS:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    for kind in RESPONSES:
        schema = response_schema(kind, REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[kind.__name__] = schema
    schemas["ChatAnswer"] = chat = copy.deepcopy(schemas["Answer"])
    chat["title"], chat["description"] = "ChatAnswer", "An answer to the last message of a conversation."
    chat["required"] = [*chat["required"], "resolved_question"]
    del schemas["Answer"]["properties"]["resolved_question"]
    limit = min(max_question_chars, MAX_QUESTION_CHARS)
    for name, field in (("AskRequest", "question"), ("UserMessage", "content")):
        schemas[name]["properties"][field]["maxLength"] = limit
    return schemas


def _ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _responses(ok: str, schema: dict, errors: dict[str, str]) -> dict:
    out = {"200": {"description": ok, "content": {"application/json": {"schema": schema}}}}
    for status, why in errors.items():
        out[status] = {"description": why, "content": {"application/problem+json": {"schema": _ref("Problem")}}}
    return out


def _post(summary: str, description: str, request: str, response: str) -> dict:
    return {
        "post": {
            "summary": summary,
            "description": description,
            "operationId": request.removesuffix("Request").lower(),
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(request)}}},
            "responses": _responses("The answer.", _ref(response), {**BODY_ERRORS, **RATE_ERRORS, **INDEX_ERRORS}),
        }
    }


def paths(admin: bool) -> dict:
    """Every operation this server has; the admin one only when ``admin``."""
    operations = {
        "/api/ask": _post(
            "Answer one question",
            "Retrieves passages, highlights the answering sentences and composes an answer from them, "
            "or abstains when the sources do not answer.",
            "AskRequest",
            "Answer",
        ),
        "/api/chat": _post(
            "Answer the last message of a conversation",
            'Resolves a follow-up question ("what did he say later?") against the earlier messages, '
            "then answers it like /api/ask; `resolved_question` says what was searched.",
            "ChatRequest",
            "ChatAnswer",
        ),
        "/api/documents": {
            "get": {
                "summary": "List the indexed documents",
                "operationId": "documents",
                "responses": _responses(
                    "One row per document.",
                    {"type": "array", "items": _ref("DocumentSummary")},
                    {**RATE_ERRORS, **INDEX_ERRORS},
                ),
            }
        },
        "/api/documents/{doc_id}": {
            "get": {
                "summary": "One document with its clean text",
                "description": "Citation spans [start, end) index into `text`.",
                "operationId": "document",
                "parameters": [
                    {"name": "doc_id", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": _responses(
                    "The document.",
                    _ref("DocumentDetail"),
                    {"404": "No document has this id.", **RATE_ERRORS, **INDEX_ERRORS},
                ),
            }
        },
        "/api/health": {
            "get": {
                "summary": "Readiness and the loaded index's manifest",
                "operationId": "health",
                "responses": _responses("The service is ready.", _ref("Health"), INDEX_ERRORS),
            }
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
            }
        },
    }
    if admin:
        operations["/api/admin/reindex"] = {
            "post": {
                "summary": "Rebuild the index from the sources and swap it in (operators only)",
                "description": "Exists only when the server's environment sets QA_ADMIN_TOKEN (this server's "
                "does); send it as `Authorization: Bearer <token>`. Synchronous: answers once the new index is "
                "live. Questions asked meanwhile are answered from the old index; one re-index runs at a time.",
                "operationId": "reindex",
                "security": [{"adminToken": []}],
                "responses": _responses("The new index's summary.", _ref("Reindexed"), ADMIN_ERRORS),
            }
        }
    return operations


@cache
def spec(admin: bool = False, max_question_chars: int = MAX_QUESTION_CHARS) -> dict:
    """The whole OpenAPI document for a server with (or without) the admin endpoint and this question limit.

    Built once per combination; treat the result as read-only.
    """
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "qa-service",
            "version": __version__,
            "description": "Extractive question answering over a folder of news pages, with citations. "
            "Every error is application/problem+json.",
        },
        "paths": paths(admin),
        "components": {"schemas": component_schemas(max_question_chars)},
    }
    if admin:
        document["components"]["securitySchemes"] = {
            "adminToken": {
                "type": "http",
                "scheme": "bearer",
                "description": "The value of QA_ADMIN_TOKEN in the server's environment.",
            }
        }
    return document
