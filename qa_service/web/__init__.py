"""The web edge: a Flask app factory wiring the JSON API, the chat page and one problem+json error handler."""

from __future__ import annotations

from flask import Flask, current_app

from ..service import QAService
from ..settings import Settings, load_settings

SERVICE_KEY = "qa_service"


def create_app(settings: Settings | None = None, service: QAService | None = None) -> Flask:
    """A Flask app over ``service``; without one, the model and index load here, once (QAService.open).

    Settings default to the service's own, else to defaults plus QA_* environment variables. Raises
    ConfigError for a CORS origin or rate limit that cannot be used.
    """
    from . import admin, api, openapi, page, problems, security

    if settings is None:
        settings = service.settings if service is not None else load_settings()
    security.check_settings(settings)  # a bad origin or limit fails before the model loads
    if service is None:
        service = QAService.open(settings)
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.json.sort_keys = False  # keep the contract's field order
    app.json.ensure_ascii = False
    app.url_map.merge_slashes = False  # "//x" is an unknown path (404 problem), not an HTML redirect
    app.extensions[SERVICE_KEY] = service
    app.config["QA_SETTINGS"] = settings
    problems.install(app)
    security.install(app, settings)  # headers, CORS, rate limits: before the routes
    app.register_blueprint(api.bp)
    admin.install(app, settings)  # only when QA_ADMIN_TOKEN is set
    app.register_blueprint(page.bp)
    # The document this server serves: its own routes (admin or not) and limits.
    app.extensions[openapi.SPEC_KEY] = openapi.spec("admin" in app.blueprints, settings.max_question_chars)
    return app


def current_service() -> QAService:
    return current_app.extensions[SERVICE_KEY]


def current_settings() -> Settings:
    return current_app.config["QA_SETTINGS"]


__all__ = ["create_app", "current_service", "current_settings"]
