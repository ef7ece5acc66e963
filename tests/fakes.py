"""A deterministic stand-in for the embedding model, for plumbing tests that need no meaning."""

from __future__ import annotations

import hashlib

import numpy as np


class HashEmbedder:
    """Bag-of-words hashed into a fixed number of dimensions, normalised: fast and repeatable."""

    def __init__(self, name: str = "hash-test-model", dimension: int = 64) -> None:
        self.name = name
        self.dimension = dimension
        self.batch_size = 64
        self.calls = 0

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                bucket = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension
                out[row, bucket] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out
