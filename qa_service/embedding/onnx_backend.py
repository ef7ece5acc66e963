"""The model on ONNX Runtime: tokenizers + onnxruntime + numpy, nothing else (no torch in this process).

The exported graph takes token ids, attention mask and token types and returns the mean-pooled,
normalised sentence embedding, so this module only tokenises, pads and runs it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ModelError
from .cache import Export


class OnnxModel:
    """One ONNX Runtime session over an exported model; ``encode`` returns unit vectors (float32)."""

    def __init__(
        self, model_path: Path, tokenizer_path: Path, max_length: int, batch_size: int = 32, threads: int | None = None
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only
        try:
            self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
            self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # a damaged file or an unsupported graph becomes one message
            raise ModelError(
                f"cannot load the ONNX model {model_path}: {exc.__class__.__name__}",
                hint="delete the cached export to make it again, or set QA_EMBED_BACKEND=torch",
            ) from exc
        self.tokenizer.no_padding()  # batches are padded here, to their own longest text
        self.tokenizer.enable_truncation(max_length=max_length)
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dimension = int(self.session.get_outputs()[0].shape[-1])
        self.batch_size = batch_size

    @classmethod
    def from_export(cls, export: Export, variant: str, batch_size: int = 32, threads: int | None = None) -> OnnxModel:
        return cls(export.path(variant), export.tokenizer, export.meta["max_seq_length"], batch_size, threads)

    def _run(self, encodings: list) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        feed = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in self.inputs}
        for row, enc in enumerate(encodings):
            n = len(enc.ids)
            feed["input_ids"][row, :n] = enc.ids
            feed["attention_mask"][row, :n] = enc.attention_mask
            if "token_type_ids" in feed:
                feed["token_type_ids"][row, :n] = enc.type_ids
        return self.session.run(None, feed)[0]

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit vectors of ``texts``, in order. Long inputs are batched by length, so padding stays small."""
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=True)
        if len(texts) == 1:
            return self._run(encodings)
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        starts = range(0, len(order), self.batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="Batches")
        for start in starts:
            rows = order[start : start + self.batch_size]
            out[rows] = self._run([encodings[i] for i in rows])
        return out
