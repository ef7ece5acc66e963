"""Read source files by suffix, skipping (with a warning) what cannot be text."""

from __future__ import annotations

import codecs
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .domain import RawFile
from .errors import SourceError

log = logging.getLogger(__name__)

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path.name}: {self.reason}"


def source_files(folder: Path) -> list[Path]:
    """The indexable files of a folder, in a stable order (the catalog and dotfiles excluded)."""
    if not folder.is_dir():
        raise SourceError(f"source folder not found: {folder}", hint="pass --source DIR with .txt/.md/.html files")
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
    )


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else is an unknown encoding."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise ValueError("binary content (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"unknown encoding (not UTF-8 at byte {exc.start})") from None


def read_sources(folder: Path, max_bytes: int) -> Iterator[RawFile | Skipped]:
    """Yield every readable source file, or a Skipped record saying why it was left out."""
    for path in source_files(folder):
        size = path.stat().st_size
        if size == 0:
            yield Skipped(path, "empty file")
            continue
        if size > max_bytes:
            yield Skipped(path, f"too large ({size:,} bytes > {max_bytes:,})")
            continue
        try:
            text = decode(path.read_bytes())
        except ValueError as exc:
            yield Skipped(path, str(exc))
            continue
        if not text.strip():
            yield Skipped(path, "no text")
            continue
        yield RawFile(path=path, doc_id=path.stem, suffix=path.suffix.lower(), text=text)


def fingerprint_sources(folder: Path, extra: bytes = b"") -> str:
    """A digest of every source file's name and bytes: equal folders give equal fingerprints."""
    digest = hashlib.sha256(extra)
    for path in source_files(folder):
        digest.update(path.name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
