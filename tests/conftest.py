"""Shared fixtures: the real seeds indexed once per session with the real model."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

from qa_service.embedding import Embedder
from qa_service.index_store import build_index
from qa_service.service import QAService
from qa_service.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Fixtures that run a server: a test using one is marked `live` (`make check` leaves those out).
LIVE_FIXTURES = frozenset({"live", "seed_server", "xss_server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if LIVE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real model, loaded once for the whole run."""
    return Embedder(load_settings().model)


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory) -> Settings:
    """Settings over a private copy of the seeds, with the index built once."""
    root = tmp_path_factory.mktemp("seeds-index")
    return load_settings(source_dir=SEEDS, index_dir=root / "index", cache_size=0)


@pytest.fixture(scope="session")
def seed_service(seed_settings: Settings, embedder: Embedder) -> QAService:
    """The seeds on the backend QA_BACKEND names (local by default): the whole suite runs on either."""
    build_index(seed_settings, embedder)
    return QAService.open(seed_settings, embedder=embedder)


@pytest.fixture(scope="session")
def backend_service(seed_service: QAService, embedder: Embedder, tmp_path_factory) -> Callable[[str], QAService]:
    """The seeds on a named backend: ``seed_service`` for the environment's, another index built once for the other."""
    made = {seed_service.settings.backend: seed_service}

    def get(backend: str) -> QAService:
        if backend not in made:
            root = tmp_path_factory.mktemp(f"seeds-{backend}")
            settings = load_settings(source_dir=SEEDS, index_dir=root / "index", cache_size=0, backend=backend)
            build_index(settings, embedder)
            made[backend] = QAService.open(settings, embedder=embedder)
        return made[backend]

    return get


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """A writable copy of the seeds for tests that edit or delete sources."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target
