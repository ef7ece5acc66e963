"""The one module that imports sentence-transformers (and so torch): the model as sentence-transformers runs it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelError


def load_sentence_transformer(location: Path | str, name: str):
    from sentence_transformers import SentenceTransformer

    try:
        return SentenceTransformer(str(location), device="cpu")
    except Exception as exc:  # any loader failure becomes one clear message
        raise ModelError(
            f"cannot load embedding model {name!r} from {location}: {exc.__class__.__name__}",
            hint="set QA_MODEL or --model to a local sentence-transformers folder",
        ) from exc


class TorchModel:
    """A sentence-transformers model on the CPU; ``encode`` returns unit vectors (float32)."""

    def __init__(self, location: Path | str, name: str, batch_size: int = 32, threads: int | None = None) -> None:
        if threads:
            import torch

            torch.set_num_threads(threads)
        self.st = load_sentence_transformer(location, name)
        self.batch_size = batch_size
        getter = getattr(self.st, "get_embedding_dimension", None) or self.st.get_sentence_embedding_dimension
        self.dimension = int(getter())

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.st.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
