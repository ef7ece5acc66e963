"""The encode micro-batcher: right vectors, right order, shared calls under concurrency, clean shutdown."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from qa_service.batching import BatcherClosedError, MicroBatcher
from qa_service.index_store import build_index
from qa_service.service import QAService
from qa_service.settings import load_settings

DIM = 8
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def vector_of(text: str) -> np.ndarray:
    """A distinct, deterministic unit vector per text (seeded by the text's characters)."""
    rng = np.random.default_rng([ord(c) for c in text] or [0])
    v = rng.standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


class FakeEmbedder:
    """Records every call; ``gate`` (when set) holds a call until the test releases it."""

    name = "fake"
    dimension = DIM

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls: list[list[str]] = []
        self.gate = gate
        self.entered = threading.Event()
        self._lock = threading.Lock()

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        with self._lock:
            self.calls.append(list(texts))
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        return np.stack([vector_of(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)


def test_lone_text_gets_its_vector():
    fake = FakeEmbedder()
    batcher = MicroBatcher(fake.encode, max_batch=8, wait_ms=50)
    try:
        np.testing.assert_array_equal(batcher.encode("japan treasuries"), vector_of("japan treasuries"))
        assert fake.calls == [["japan treasuries"]]
    finally:
        batcher.close()


def test_concurrent_texts_get_their_own_vectors():
    fake = FakeEmbedder()
    batcher = MicroBatcher(fake.encode, max_batch=16, wait_ms=1)
    texts = [f"question number {i} about tariffs" for i in range(200)]
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(batcher.encode, texts))
    finally:
        batcher.close()
    for text, got in zip(texts, results, strict=True):
        np.testing.assert_array_equal(got, vector_of(text))
    assert sum(len(c) for c in fake.calls) == len(texts)
    assert all(1 <= len(c) <= 16 for c in fake.calls)


def test_texts_queued_while_the_model_is_busy_share_one_call():
    gate = threading.Event()
    fake = FakeEmbedder(gate)
    batcher = MicroBatcher(fake.encode, max_batch=32, wait_ms=0)
    try:
        first = batcher.submit("first")
        assert fake.entered.wait(10)  # the model is busy with "first" alone: nothing was held back for it
        waiting = [batcher.submit(f"later {i}") for i in range(5)]
        gate.set()
        assert [f.result(10).tolist() for f in waiting] == [vector_of(f"later {i}").tolist() for i in range(5)]
        np.testing.assert_array_equal(first.result(10), vector_of("first"))
    finally:
        batcher.close()
    assert fake.calls == [["first"], [f"later {i}" for i in range(5)]]
    assert batcher.stats.largest == 5 and batcher.stats.batches == 2


def test_max_batch_caps_a_call():
    gate = threading.Event()
    fake = FakeEmbedder(gate)
    batcher = MicroBatcher(fake.encode, max_batch=3, wait_ms=0)
    try:
        batcher.submit("hold")
        assert fake.entered.wait(10)
        futures = [batcher.submit(f"t{i}") for i in range(7)]
        gate.set()
        for i, fut in enumerate(futures):
            np.testing.assert_array_equal(fut.result(10), vector_of(f"t{i}"))
    finally:
        batcher.close()
    assert [len(c) for c in fake.calls] == [1, 3, 3, 1]


def test_an_encoder_error_reaches_every_caller_and_the_worker_survives():
    calls = []

    def failing(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        if texts == ["boom"]:
            raise ValueError("model failed")
        return np.stack([vector_of(t) for t in texts])

    batcher = MicroBatcher(failing, max_batch=4, wait_ms=0)
    try:
        with pytest.raises(ValueError, match="model failed"):
            batcher.encode("boom")
        np.testing.assert_array_equal(batcher.encode("fine"), vector_of("fine"))
    finally:
        batcher.close()


def test_a_short_answer_from_the_encoder_is_an_error():
    batcher = MicroBatcher(lambda texts: np.zeros((0, DIM), np.float32), max_batch=4, wait_ms=0)
    try:
        with pytest.raises(RuntimeError, match="0 vectors for 1 texts"):
            batcher.encode("x")
    finally:
        batcher.close()


def test_close_finishes_queued_work_then_refuses_more():
    gate = threading.Event()
    fake = FakeEmbedder(gate)
    batcher = MicroBatcher(fake.encode, max_batch=8, wait_ms=0)
    first = batcher.submit("a")
    assert fake.entered.wait(10)
    queued = batcher.submit("b")
    closer = threading.Thread(target=batcher.close)
    closer.start()
    gate.set()
    closer.join(10)
    assert not closer.is_alive()
    np.testing.assert_array_equal(first.result(10), vector_of("a"))
    np.testing.assert_array_equal(queued.result(10), vector_of("b"))
    with pytest.raises(BatcherClosedError):
        batcher.submit("c")
    batcher.close()  # idempotent
    assert batcher._thread is not None and not batcher._thread.is_alive()


def test_close_before_any_use_starts_no_thread():
    batcher = MicroBatcher(FakeEmbedder().encode)
    batcher.close()
    assert batcher._thread is None and batcher.closed


@pytest.fixture(scope="module")
def fake_index(tmp_path_factory) -> Path:
    """The seeds indexed with the fake embedder (8-dimensional vectors), once for this module."""
    root = tmp_path_factory.mktemp("fake-index")
    build_index(load_settings(source_dir=SEEDS, index_dir=root, model="fake"), FakeEmbedder())
    return root


def test_service_answers_the_same_with_and_without_batching(fake_index: Path):
    """QAService.ask encodes through the batcher: same answers as one-by-one, also after close()."""
    questions = [f"Did Japan threaten to sell Treasuries, case {i}?" for i in range(24)]
    alone = QAService(
        load_settings(source_dir=SEEDS, index_dir=fake_index, model="fake", max_batch=1, cache_size=0),
        embedder=FakeEmbedder(),
    )
    expected = [alone.ask(q) for q in questions]
    fake = FakeEmbedder()
    batched = QAService(
        load_settings(source_dir=SEEDS, index_dir=fake_index, model="fake", cache_size=0), embedder=fake
    )
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            got = list(pool.map(batched.ask, questions))
    finally:
        batched.close()
    assert got == expected
    assert sorted(t for call in fake.calls for t in call) == sorted(questions)
    assert batched.ask(questions[0]) == expected[0]  # after close: encoded alone
    assert fake.calls[-1] == [questions[0]]
