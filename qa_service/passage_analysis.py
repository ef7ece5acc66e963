"""Per-passage text analysis, done once at index time and persisted: term sets, sentence term sets, shingles.

A question reads the analysis of each of its ~50-100 candidate passages. Computing it per question
behind an LRU made the answer path grow with the index (the cache is cold at a million passages);
here it is stored as ragged arrays (values + offsets, memory-mapped at load), so a question only
slices arrays. Term sets hold ids into one vocabulary; shingles hold a 64-bit hash of each word
4-gram (``chunking.shingles``), which is all that containment between two passages needs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunking import shingle_words
from .domain import Passage
from .terms import terms

FOLDER = "analysis"
SHINGLE = 4
_PAD = np.uint64(2**32 - 1)  # pads a text of fewer than SHINGLE words to one short shingle, as chunking does
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class Ragged:
    """Rows of different lengths: row ``i`` is ``values[offsets[i]:offsets[i + 1]]``."""

    values: np.ndarray
    offsets: np.ndarray

    def row(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def save(self, folder: Path, name: str) -> None:
        np.save(folder / f"{name}.values.npy", self.values)
        np.save(folder / f"{name}.offsets.npy", self.offsets)

    @classmethod
    def load(cls, folder: Path, name: str) -> Ragged:
        return cls(mapped(folder / f"{name}.values.npy"), mapped(folder / f"{name}.offsets.npy"))


def mapped(path: Path) -> np.ndarray:
    """A saved array, memory-mapped read-only, as a plain ndarray (slicing an np.memmap costs ~3 us more)."""
    return np.load(path, mmap_mode="r").view(np.ndarray)


def unique_rows(values: np.ndarray, lengths: Sequence[int], dtype) -> Ragged:
    """Ragged rows of ``values`` cut at ``lengths``, each sorted and without repeats (one sort for all rows)."""
    rows = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    order = np.lexsort((values, rows))
    values, rows = values[order], rows[order]
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = (values[1:] != values[:-1]) | (rows[1:] != rows[:-1])
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=len(lengths)), out=offsets[1:])
    return Ragged(values[keep].astype(dtype), offsets)


def shingle_hashes(word_ids: np.ndarray, lengths: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every word 4-gram of each text (texts one after another, as word ids), and the number
    of 4-grams per text; a text of fewer than four words makes one short shingle, as ``chunking.shingles`` does."""
    lengths = np.asarray(lengths, dtype=np.int64)
    short = np.maximum(SHINGLE - lengths, 0)  # padding each short text gets
    padded_ends = np.cumsum(lengths + short)
    flat = np.full(int(padded_ends[-1]) if len(lengths) else 0, _PAD, dtype=np.uint64)
    starts = padded_ends - lengths - short
    keep = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
    flat[np.arange(len(word_ids)) + keep] = word_ids  # each text's words at its start, padding after
    windows = lengths + short - SHINGLE + 1
    positions = (
        np.repeat(starts, windows) + np.arange(int(windows.sum())) - np.repeat(np.cumsum(windows) - windows, windows)
    )
    hashes = np.zeros(len(positions), dtype=np.uint64)
    for column in range(SHINGLE):
        hashes = (hashes ^ flat[positions + column]) * _MIX  # wraps modulo 2**64 by design
    return hashes, windows


class _Ids(dict):
    """A growing vocabulary: each new key gets the next id."""

    def __missing__(self, key: str) -> int:
        self[key] = len(self)
        return self[key]


@dataclass(frozen=True)
class Analysis:
    """The persisted analysis of every passage of one build."""

    vocab: list[str]
    passage_terms: Ragged  # per passage: sorted unique term ids
    sentence_terms: Ragged  # per sentence row (Passage.first_sentence + i): sorted unique term ids
    shingles: Ragged  # per passage: sorted unique shingle hashes

    def terms_of(self, passage_id: int) -> frozenset[str]:
        vocab = self.vocab
        return frozenset([vocab[i] for i in self.passage_terms.row(passage_id).tolist()])

    def sentence_terms_of(self, first: int, count: int) -> tuple[frozenset[str], ...]:
        vocab = self.vocab
        rows = (self.sentence_terms.row(first + i).tolist() for i in range(count))
        return tuple(frozenset([vocab[i] for i in row]) for row in rows)

    def shingles_of(self, passage_id: int) -> frozenset[int]:
        return frozenset(self.shingles.row(passage_id).tolist())

    def save(self, build: Path) -> None:
        folder = build / FOLDER
        folder.mkdir()
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), "utf-8")
        for name in ("passage_terms", "sentence_terms", "shingles"):
            getattr(self, name).save(folder, name)

    @classmethod
    def load(cls, build: Path) -> Analysis:
        folder = build / FOLDER
        return cls(
            json.loads((folder / "vocab.json").read_text("utf-8")),
            *(Ragged.load(folder, name) for name in ("passage_terms", "sentence_terms", "shingles")),
        )


def analyse(passages: Sequence[Passage], passage_terms: Sequence[Sequence[str]]) -> Analysis:
    """The analysis of ``passages``; ``passage_terms`` are their ``terms()``, already computed for BM25.

    One pass in Python turns words into ids; de-duplication and hashing then run over all passages at
    once in numpy.
    """
    vocab, words = _Ids(), _Ids()
    term_ids: list[int] = []
    term_counts: list[int] = []
    sentence_ids: list[int] = []
    sentence_counts: list[int] = []
    word_ids: list[int] = []
    word_counts: list[int] = []
    for passage, found in zip(passages, passage_terms, strict=True):
        term_ids.extend(map(vocab.__getitem__, found))
        term_counts.append(len(found))
        for start, end in passage.sentences:
            sentence = terms(passage.text[start:end])
            sentence_ids.extend(map(vocab.__getitem__, sentence))
            sentence_counts.append(len(sentence))
        text_words = shingle_words(passage.text)
        word_ids.extend(map(words.__getitem__, text_words))
        word_counts.append(len(text_words))
    hashes, grams = shingle_hashes(np.array(word_ids, dtype=np.uint64), word_counts)
    return Analysis(
        list(vocab),
        unique_rows(np.array(term_ids, dtype=np.int64), term_counts, np.int32),
        unique_rows(np.array(sentence_ids, dtype=np.int64), sentence_counts, np.int32),
        unique_rows(hashes, grams, np.uint64),
    )
