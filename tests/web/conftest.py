"""Web fixtures: one Flask app over the session's seed service, and a factory for apps with other limits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from qa_service.service import QAService
from qa_service.web import create_app


@pytest.fixture(scope="session")
def app(seed_service: QAService) -> Flask:
    return create_app(seed_service.settings, seed_service)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def client_with(seed_service: QAService) -> Callable[..., FlaskClient]:
    """A test client for an app whose settings differ from the seed service's by ``overrides``."""

    def make(**overrides: object) -> FlaskClient:
        settings = seed_service.settings.model_copy(update=overrides)
        return create_app(settings, seed_service).test_client()

    return make
