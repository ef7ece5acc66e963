"""The one place for settings: defaults, then QA_* environment variables, then CLI flags."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from .errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"


SCORING_FILE = "scoring.toml"


@cache
def fitted_scoring() -> dict:
    """The values `qa eval --cv 5 --write` last fitted (data/scoring.toml)."""
    return tomllib.loads(resources.files("qa_service.data").joinpath(SCORING_FILE).read_text("utf-8"))


def _fitted(name: str):
    def value():
        found = fitted_scoring()[name]
        return tuple(found) if isinstance(found, list) else found

    return Field(default_factory=value)


class Scoring(BaseModel):
    """Every tuned number of retrieval and answering, in one place. `qa eval` prints them.

    The fitted ones default to data/scoring.toml (fit by stratified cross-validation, `qa eval --cv 5`);
    the others are fixed choices, each with its reason.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    candidates: int = Field(50, ge=1, description="Candidates taken from each retriever before fusion.")
    w_dense: float = _fitted("w_dense")
    w_sentence: float = _fitted("w_sentence")
    w_coverage: float = _fitted("w_coverage")
    penalty: float = _fitted("penalty")
    max_unmet: int = Field(3, ge=0, description="Unmet evidence checks counted at most.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant (the usual 60).")
    sentence_cosine: float = Field(
        0.7, ge=0, le=1, description="Weight of cosine against word coverage when scoring one sentence."
    )
    highlight_ratio: float = Field(
        0.9, ge=0, le=1, description="A second sentence is highlighted this close to the best."
    )
    max_highlights: int = Field(2, ge=1)
    answer_ratio: float = Field(
        0.65, ge=0, le=1, description="An answer sentence from a lower passage must score this close to the best."
    )
    max_answer_sentences: int = Field(3, ge=1)
    same_text: float = Field(0.6, ge=0, le=1, description="Shared 4-grams above which two passages are one text.")
    same_sentence: float = Field(0.9, ge=0, le=1, description="Cosine above which two answer sentences say the same.")
    decision_weights: tuple[float, ...] = _fitted("decision_weights")
    decision_bias: float = _fitted("decision_bias")
    feature_means: tuple[float, ...] = _fitted("feature_means")
    feature_scales: tuple[float, ...] = _fitted("feature_scales")
    answer_above: float = _fitted("answer_above")
    refuse_below: float = _fitted("refuse_below")

    def fitted(self) -> dict:
        """The values cross-validation fits, as data/scoring.toml holds them."""
        return {name: getattr(self, name) for name in fitted_scoring()}


class Settings(BaseSettings):
    """Every tunable of the service. Unknown or ill-typed values fail at start."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_nested_delimiter="__", frozen=True, extra="forbid")

    source_dir: Path = Field(Path("seeds"), description="Folder of .txt, .md and .html sources.")
    index_dir: Path = Field(Path("index"), description="Where built indexes live.")
    backend: Literal["local", "qdrant"] = Field(
        "local", description="Where passages are searched: local FAISS + bm25s files, or a Qdrant collection."
    )
    qdrant_url: str | None = Field(
        None, description="Qdrant server (e.g. http://qdrant:6333); unset: embedded local mode at qdrant_path."
    )
    qdrant_path: Path | None = Field(
        None, description="Embedded (local-mode) Qdrant storage folder; default <index_dir>/qdrant. No server needed."
    )
    qdrant_timeout: int = Field(
        5, ge=1, le=120, description="Whole seconds a Qdrant server call may take before the request is answered 503."
    )
    qdrant_collection: str = Field(
        "qa",
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,40}$",
        description="Collection prefix: builds are <prefix>-<build id>, served under the alias <prefix>-current.",
    )
    model: str = Field(
        DEFAULT_MODEL,
        description="Embedding model: a local folder, or the name of the bundled model.",
    )
    embed_backend: Literal["onnx", "torch"] = Field(
        "onnx", description="Runs the model: ONNX Runtime over a cached export (no torch at serve), or torch."
    )
    embed_int8: bool = Field(
        False, description="ONNX only: dynamically quantised int8 weights (faster, lower quality; see performance.md)."
    )
    model_cache_dir: Path | None = Field(
        None, description="Where the ONNX export is cached (default: $XDG_CACHE_HOME or ~/.cache, /qa-service)."
    )
    catalog_name: str = Field("catalog.toml", description="Optional metadata catalog in the source folder.")
    torch_threads: int = Field(
        1, ge=1, le=64, description="Threads for the model (ONNX Runtime or torch) and FAISS while serving."
    )
    embed_batch_size: int = Field(32, ge=1, le=4096, description="Texts per model call while indexing.")
    passage_min_words: int = Field(40, ge=5, description="Short paragraphs are merged up to this length.")
    passage_max_words: int = Field(120, ge=20, description="Longer paragraphs are cut at sentence ends.")
    duplicate_threshold: float = Field(
        0.6, ge=0, le=1, description="Word-shingle containment above which two passages are one story."
    )
    max_file_bytes: int = Field(5_000_000, ge=1, description="Larger source files are skipped.")
    exact_index_limit: int = Field(
        20_000, ge=1, description="Above this many passages an approximate FAISS index is built."
    )
    filter_exact_limit: int = Field(
        20_000, ge=0, description="A filter keeping at most this many passages is searched exactly, not by HNSW."
    )
    default_mode: Literal["hybrid", "dense", "bm25"] = Field("hybrid", description="Mode when a request names none.")
    fusion: Literal["score", "rrf"] = Field("score", description="How hybrid mode fuses dense and BM25.")
    scoring: Scoring = Field(default_factory=Scoring, description="Tuned numbers of retrieval and answering.")
    host: str = Field("127.0.0.1", description="Interface to bind; 0.0.0.0 is an explicit choice.")
    port: int = Field(8000, ge=0, le=65535, description="Port to serve on.")
    threads: int = Field(8, ge=1, le=256, description="WSGI worker threads.")
    shutdown_grace: float = Field(
        8.0, ge=0, le=3600, description="Seconds a stopping server (SIGTERM, Ctrl-C) waits for requests in flight."
    )
    max_question_chars: int = Field(2000, ge=1, description="Longest question accepted, after trimming.")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="Larger request bodies are answered 413.")
    max_json_depth: int = Field(20, ge=2, description="Deeper JSON request bodies are answered 400.")
    rate_limit: str = Field("600/minute", description="Per-client API limit (flask-limiter syntax); empty = off.")
    cors_origins: tuple[str, ...] = Field((), description="Origins allowed to call the API; empty = CORS off.")
    admin_token: str | None = Field(None, description="Enables POST /api/admin/reindex; from the environment only.")
    cache_size: int = Field(1024, ge=0, description="Answers kept for repeated questions; 0 = off.")
    batch_wait_ms: float = Field(3.0, ge=0, le=100, description="How long a question waits to share an encode.")
    max_batch: int = Field(32, ge=1, le=1024, description="Most questions encoded in one model call.")

    @field_validator("passage_max_words")
    @classmethod
    def _max_above_min(cls, value: int, info) -> int:
        low = info.data.get("passage_min_words", 0)
        if value <= low:
            raise ValueError(f"must be greater than passage_min_words ({low})")
        return value

    @model_validator(mode="after")
    def _int8_needs_onnx(self) -> Settings:
        if self.embed_int8 and self.embed_backend != "onnx":
            raise ValueError("embed_int8 needs embed_backend=onnx")
        return self

    @model_validator(mode="after")
    def _one_qdrant_location(self) -> Settings:
        if self.qdrant_url and self.qdrant_path:
            raise ValueError("set qdrant_url (a server) or qdrant_path (embedded local mode), not both")
        return self

    @property
    def catalog_path(self) -> Path:
        return self.source_dir / self.catalog_name

    @property
    def qdrant_location(self) -> str | Path:
        """The Qdrant server's URL, else the embedded storage folder (by default inside the index folder)."""
        return self.qdrant_url or self.qdrant_path or self.index_dir / "qdrant"


def load_settings(**overrides: object) -> Settings:
    """Build settings from defaults, the environment and ``overrides`` (None values are ignored)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except SettingsError as exc:  # a QA_* variable that cannot be parsed at all (list values are JSON)
        raise ConfigError(
            f"invalid settings: {exc}", hint="list values are JSON, e.g. QA_CORS_ORIGINS='[\"https://example.org\"]'"
        ) from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}", hint="see `qa --help` or README 'Settings'") from exc
