"""The chat page: static HTML, CSS and JS served as files (no build step, no inline script)."""

from __future__ import annotations

from flask import Blueprint, current_app

bp = Blueprint("page", __name__)


@bp.get("/")
def index():
    return current_app.send_static_file("index.html")
