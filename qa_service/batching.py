"""Micro-batching of question encodes: questions asked at the same time share one model call.

On a small CPU the model is the cost of a question, and one call over sixteen short questions
costs far less than sixteen calls. A lone question is never held back: the worker starts at once
when it finds the queue idle, and whatever arrives while the model is busy goes into the next call.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

EncodeFn = Callable[[list[str]], np.ndarray]
_STOP = object()


@dataclass
class BatchStats:
    """Counters for benchmarks and tests: how many calls, how many texts, the largest call."""

    batches: int = 0
    items: int = 0
    largest: int = 0


class BatcherClosedError(RuntimeError):
    """Raised by ``submit`` after ``close``."""


class MicroBatcher:
    """Collects texts from many threads into one ``encode(list)`` call; vectors come back through futures.

    ``encode`` takes a list of texts and returns one row per text, in order. ``max_batch`` caps a
    call; ``wait_ms`` is how long the worker keeps a call open for more texts, and only when texts
    are already arriving together (a question on its own is encoded at once). Thread-safe; the
    worker thread starts on the first ``submit`` and stops on ``close``.
    """

    def __init__(self, encode: EncodeFn, max_batch: int = 32, wait_ms: float = 3.0, name: str = "qa-encode") -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._encode = encode
        self.max_batch = max_batch
        self.wait_s = max(0.0, wait_ms) / 1000.0
        self.name = name
        self.stats = BatchStats()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, text: str) -> Future:
        """A future for the unit vector of ``text``."""
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise BatcherClosedError("the encode batcher is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._queue.put((text, future))
        return future

    def encode(self, text: str) -> np.ndarray:
        """The vector of one text, encoded together with whatever else is asked meanwhile."""
        return self.submit(text).result()

    def close(self, timeout: float | None = 10.0) -> None:
        """Encode what is queued, then stop the worker; later ``submit`` calls raise. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def closed(self) -> bool:
        return self._closed

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            stopping = self._fill(batch)
            self._call(batch)

    def _fill(self, batch: list) -> bool:
        """Add what is queued now; when texts are arriving together, wait up to ``wait_s`` for more.

        Returns True when the stop marker was seen (the batch in hand is still encoded).
        """
        while len(batch) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return True
            batch.append(item)
        if len(batch) < 2 or self.wait_s <= 0:
            return False
        deadline = time.monotonic() + self.wait_s
        while len(batch) < self.max_batch:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if item is _STOP:
                return True
            batch.append(item)
        return False

    def _call(self, batch: Sequence[tuple[str, Future]]) -> None:
        live = [(text, fut) for text, fut in batch if fut.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            vectors = self._encode([text for text, _ in live])
            if len(vectors) != len(live):
                raise RuntimeError(f"encoder returned {len(vectors)} vectors for {len(live)} texts")
        except BaseException as exc:  # every waiting caller gets the error, the worker lives on
            for _, fut in live:
                fut.set_exception(exc)
            return
        self.stats.batches += 1
        self.stats.items += len(live)
        self.stats.largest = max(self.stats.largest, len(live))
        for (_, fut), vector in zip(live, vectors, strict=True):
            fut.set_result(vector)
