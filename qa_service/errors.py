"""One exception tree; each error knows the HTTP status it maps to at the edges."""

from __future__ import annotations


class QAError(Exception):
    """Base of every error the service reports to a person or a script."""

    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(QAError):
    status = 500
    title = "Invalid configuration"


class SourceError(QAError):
    """The source folder is missing or holds nothing that can be indexed."""

    status = 500
    title = "Source error"


class IndexMissingError(QAError):
    status = 503
    title = "Index not built"


class IndexCorruptError(QAError):
    status = 503
    title = "Index unusable"


class IndexStaleError(QAError):
    """The index was built from other sources, another model or another pipeline version."""

    status = 503
    title = "Index out of date"


class IndexReplacedError(IndexStaleError):
    """The collection this process was serving is gone: another process's build replaced it (reload and retry)."""


class EngineUnavailableError(QAError):
    """The search engine (a Qdrant server) cannot be reached, or did not answer within QA_QDRANT_TIMEOUT."""

    status = 503
    title = "Search engine unavailable"


class ModelError(QAError):
    status = 500
    title = "Embedding model unavailable"


class InvalidRequestError(QAError):
    status = 422
    title = "Invalid request"


class NotFoundError(QAError):
    status = 404
    title = "Not found"


class UnauthorizedError(QAError):
    status = 401
    title = "Unauthorized"
