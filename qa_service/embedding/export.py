"""Export a sentence-transformers folder to ONNX with torch.onnx, quantise it on request, and measure parity.

``python -m qa_service.embedding.export MODEL_DIR ENTRY_DIR [--int8]`` is what ``cache.ensure_export``
runs in a child process: this is the only place torch meets ONNX. The graph includes pooling and
normalisation, so ONNX Runtime returns the finished unit vector. Each variant is checked against
sentence-transformers on the parity probes (one by one and as one padded batch) and its lowest
cosine is written to ``export.json`` with the SHA-256 of every file; files are written under temporary
names and renamed, and export.json last, so a killed export leaves no entry that looks complete.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from .cache import EXPORT_VERSION, META, VARIANT_FILES, Export, read_export, sha256_file, source_sha256
from .onnx_backend import OnnxModel

PROBES = Path(__file__).resolve().parent.parent / "data" / "parity_probes.txt"
OPSET = 18


def probes() -> list[str]:
    lines = PROBES.read_text("utf-8").split("\n")
    return [line for line in lines if line and not line.startswith("#")]


def pooling_mode(st) -> str:
    """``mean`` or ``cls`` for a Transformer -> Pooling [-> Normalize] pipeline; anything else is refused."""
    kinds = [type(module).__name__ for module in st]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise SystemExit(f"cannot export a {' -> '.join(kinds)} pipeline (Transformer -> Pooling only)")
    config = st[1].get_config_dict()
    mode = config.get("pooling_mode") or ("cls" if config.get("pooling_mode_cls_token") else "mean")
    if mode not in ("mean", "cls"):
        raise SystemExit(f"cannot export pooling mode {mode!r} (mean or cls only)")
    return mode


def pooled_module(st, mode: str):
    import torch

    class Pooled(torch.nn.Module):
        """The transformer, then the pooling and normalisation sentence-transformers applies."""

        def __init__(self, transformer) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            if mode == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Pooled(st[0].auto_model).eval()


def export_fp32(st, target: Path) -> None:
    import torch

    sample = st.tokenizer(["a short text", "and a somewhat longer one to pad"], padding=True, return_tensors="pt")
    names = ("input_ids", "attention_mask", "token_type_ids")
    args = tuple(sample[n] if n in sample else torch.zeros_like(sample["input_ids"]) for n in names)
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence", max=st.max_seq_length)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            pooled_module(st, pooling_mode(st)),
            args,
            input_names=list(names),
            output_names=["sentence_embedding"],
            dynamic_shapes={n: {0: batch, 1: sequence} for n in names},
            opset_version=OPSET,
            dynamo=True,
            optimize=True,
            verbose=False,
        )
    program.save(str(target))


def quantise(source: Path, target: Path) -> None:
    """Dynamic int8 weights, per channel (per tensor drifted further: lowest question cosine 0.93 against 0.98)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), per_channel=True, weight_type=QuantType.QInt8)


def parity(st, model: OnnxModel, texts: list[str]) -> float:
    """Lowest cosine between torch's and ONNX Runtime's vectors over ``texts``, one by one and as one batch."""
    reference = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    single = np.vstack([model.encode([t]) for t in texts])
    batched = model.encode(texts)
    return float(min((reference * single).sum(1).min(), (reference * batched).sum(1).min()))


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def write_entry(location: Path, folder: Path, int8: bool) -> dict:
    from .torch_backend import load_sentence_transformer

    folder.mkdir(parents=True, exist_ok=True)
    previous = read_export(folder)
    meta = previous.meta if previous else None
    st = load_sentence_transformer(location, str(location))
    if meta is None:
        meta = {
            "export_version": EXPORT_VERSION,
            "source": str(location.resolve()),
            "source_sha256": source_sha256(location),
            "max_seq_length": int(st.max_seq_length),
            "dimension": int(st.get_sentence_embedding_dimension()),
            "exporter": f"torch.onnx.export(dynamo=True, opset {OPSET})",
            "versions": {n: _version(n) for n in ("torch", "onnx", "onnxscript", "onnxruntime", "tokenizers")},
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": {},
            "variants": {},
        }
        tokenizer = st.tokenizer.backend_tokenizer
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=int(st.max_seq_length))
        _saved(folder, "tokenizer.json", lambda tmp: tokenizer.save(str(tmp)), meta)
        _saved(folder, VARIANT_FILES["onnx"], lambda tmp: export_fp32(st, tmp), meta)
    wanted = ["onnx", *(["onnx-int8"] if int8 else [])]
    for variant in wanted:
        if variant == "onnx-int8" and variant not in meta["variants"]:
            _saved(folder, VARIANT_FILES[variant], lambda tmp: quantise(folder / VARIANT_FILES["onnx"], tmp), meta)
        if variant not in meta["variants"]:
            export = Export(folder, meta)
            cosine = parity(st, OnnxModel.from_export(export, variant), probes())
            name = VARIANT_FILES[variant]
            meta["variants"][variant] = {"file": name, "sha256": meta["files"][name]["sha256"], "parity_cosine": cosine}
    tmp = folder / f".{META}.tmp"
    tmp.write_text(json.dumps(meta, indent=1), "utf-8")
    os.replace(tmp, folder / META)  # last: the entry is complete
    return meta


def _saved(folder: Path, name: str, write, meta: dict) -> None:
    """``write`` to a temporary name, rename into place, and record size and SHA-256 in ``meta``."""
    tmp = folder / f".{name}.tmp"
    write(tmp)
    os.replace(tmp, folder / name)
    meta["files"][name] = {"bytes": (folder / name).stat().st_size, "sha256": sha256_file(folder / name)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("entry_dir", type=Path)
    parser.add_argument("--int8", action="store_true", help="Also make the dynamically quantised int8 copy.")
    args = parser.parse_args(argv)
    meta = write_entry(args.model_dir, args.entry_dir, args.int8)
    json.dump({v: r["parity_cosine"] for v, r in meta["variants"].items()}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
