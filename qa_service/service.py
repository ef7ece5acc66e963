"""The long-lived QA service: model and index loaded once, answers cached, index swapped atomically."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from .analysis import Query, analyse
from .answering import answer as compose_answer
from .batching import BatcherClosedError, MicroBatcher
from .conversation import Turn
from .domain import Answer, AskOptions, Document
from .embedding import Embedder
from .errors import (
    IndexCorruptError,
    IndexMissingError,
    IndexReplacedError,
    IndexStaleError,
    InvalidRequestError,
    NotFoundError,
)
from .index_store import LoadedIndex, build_index, load_index
from .retrieval import Retriever
from .settings import Settings

log = logging.getLogger(__name__)


class AnswerCache:
    """A small thread-safe LRU of answers, cleared whenever the index changes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Answer | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple, value: Answer) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class QAService:
    """Answers questions over one loaded index; safe to share between threads."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None, index: LoadedIndex | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder.from_settings(settings, threads=settings.torch_threads)
        self._index = index
        self.startup: dict[str, float] = {}  # seconds per step of ``open``
        self._reindex_lock = threading.Lock()
        self.cache = AnswerCache(settings.cache_size)
        # Concurrent questions share one encode call (the worker thread starts on the first question).
        self._batcher = MicroBatcher(
            lambda texts: self.embedder.encode(texts), settings.max_batch, settings.batch_wait_ms
        )

    @classmethod
    def open(cls, settings: Settings, rebuild: bool = False, embedder: Embedder | None = None) -> QAService:
        """Load the index and warm the model; with ``rebuild``, an index that cannot be loaded for any reason
        (missing, stale, or damaged in a way only loading shows, such as a zeroed file whose checksum was
        recorded) is built again first.

        ``startup`` records the seconds each step took: ``index_load_s``, ``model_load_s``, ``warm_up_s``.
        """
        service = cls(settings, embedder)
        clock = time.perf_counter()
        try:
            service._index = load_index(settings)
        except (IndexMissingError, IndexCorruptError, IndexStaleError) as exc:
            if not rebuild:
                raise
            log.warning("building the index: %s", exc.message)
            build_index(settings, service.embedder, progress=True)
            clock = time.perf_counter()
            service._index = load_index(settings)
        loaded = time.perf_counter()
        _ = service.embedder.dimension  # loads the model
        model = time.perf_counter()
        service.embedder.encode(["warm-up"])  # the first real question pays no load cost
        warm = time.perf_counter()
        service.startup = {
            "index_load_s": round(loaded - clock, 4),
            "model_load_s": round(model - loaded, 4),
            "warm_up_s": round(warm - model, 4),
        }
        return service

    @property
    def index(self) -> LoadedIndex:
        if self._index is None:
            self._index = load_index(self.settings)
        return self._index

    def ask(self, question: str, options: AskOptions | None = None) -> Answer:
        return self.answer_query(analyse(question), options)

    @contextmanager
    def snapshot(self) -> Iterator[LoadedIndex]:
        """The current index, held for one request: a re-index drops what it replaced only once no request holds it."""
        index = self.index
        with index.leases.hold():
            yield index

    def answer_query(self, query: Query, options: AskOptions | None = None) -> Answer:
        """The answer to an analysed question (its vector is computed here when it has none).

        A Qdrant collection that another process's build replaced (and deleted) is followed once: the
        index is loaded again from the alias and the question asked of it.
        """
        options = options or AskOptions(mode=self.settings.default_mode)
        try:
            return self._answer_query(query, options)
        except IndexReplacedError as exc:
            log.warning("%s; loading the current index", exc.message)
            self._reload()
            return self._answer_query(query, options)

    def _answer_query(self, query: Query, options: AskOptions) -> Answer:
        with self.snapshot() as index:  # one consistent snapshot for the whole request, even during a swap
            key = (query.cache_key(), query.answer_type, options.cache_key(), index.manifest.built_at, id(index))
            cached = self.cache.get(key)
            if cached is not None:
                return replace(cached, question=query.text)
            if query.vector is None:
                query = query.with_vector(self._encode_question(query.resolved))
            result = self._answer(index, query, options)
            self.cache.put(key, result)
            return result

    def health(self) -> LoadedIndex:
        """The loaded index, once its backend has answered (EngineUnavailableError when it cannot); a
        collection another process's build replaced is followed, as ``answer_query`` does."""
        try:
            self.index.check()
        except IndexReplacedError as exc:
            log.warning("%s; loading the current index", exc.message)
            self._reload()
            self.index.check()
        return self.index

    def _encode_question(self, question: str):
        """The question's unit vector, encoded together with questions asked at the same time."""
        if self.settings.max_batch > 1:
            try:
                return self._batcher.encode(question)
            except BatcherClosedError:
                pass  # after close(): encode alone, as without batching
        return self.embedder.encode([question])[0]

    def close(self) -> None:
        """Stop the encode worker thread (questions asked afterwards are encoded one by one)."""
        self._batcher.close()

    def _answer(self, index: LoadedIndex, query: Query, options: AskOptions) -> Answer:
        scoring = self.settings.scoring
        hits = Retriever(index, scoring, self.settings.fusion).retrieve(query, options)
        return compose_answer(query, hits, index, options, scoring)

    def chat(self, turns: list[Turn], options: AskOptions | None = None) -> Answer:
        """Answer the last user turn in the light of the earlier ones."""
        last = max((i for i, t in enumerate(turns) if t.role == "user"), default=None)
        if last is None:
            raise InvalidRequestError("messages: need at least one message with role 'user'")
        query = analyse(turns[last].content, turns[:last])
        options = options or AskOptions(mode=self.settings.default_mode)
        timed = self._ask_in_time(query, turns[:last], options)
        result = timed or (query.resolved, self.answer_query(query, options))
        return replace(result[1], question=query.text, resolved_question=result[0])

    def _ask_in_time(self, query: Query, history: list[Turn], options: AskOptions) -> tuple[str, Answer] | None:
        """For "what did he say two days later?": search sources dated after those of the previous answer.

        The previous user question is asked again (usually a cache hit) to learn the dates of the
        sources its answer cited. None when the question is not about time or nothing fits.
        """
        earlier = [i for i, t in enumerate(history) if t.role == "user"]
        if not query.time_direction or not earlier:
            return None
        previous = self.answer_query(analyse(history[earlier[-1]].content, history[: earlier[-1]]), options)
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", previous.answer or "")} or {1}
        dates = sorted(p.citation.date for p in previous.passages if p.rank in cited and p.citation.date)
        if not dates:
            return None
        if query.time_direction > 0:
            bound = (dt.date.fromisoformat(dates[0]) + dt.timedelta(days=1)).isoformat()
            narrowed, note = (
                replace(options, since=max(filter(None, [options.since, bound]))),
                f"dated {bound} or later",
            )
        else:
            bound = (dt.date.fromisoformat(dates[-1]) - dt.timedelta(days=1)).isoformat()
            narrowed, note = (
                replace(options, until=min(filter(None, [options.until, bound]))),
                f"dated {bound} or earlier",
            )
        result = self.answer_query(query, narrowed)
        if result.abstained:
            return None
        return f"{query.resolved} [sources {note}]", result

    def reindex(self) -> LoadedIndex:
        """Build from the sources and swap the new index in; requests in flight finish on the old one.

        Every request runs on one snapshot (``snapshot``), the old index or the new one, never a mix: the
        replaced Qdrant collection is deleted once no request holds the old snapshot (by the last of them
        as it ends), and this returns as soon as the new index is live.
        """
        with self._reindex_lock:
            old = self._index
            build_index(self.settings, self.embedder, keep_replaced=old is not None)
            fresh = load_index(self.settings)
            self._index = fresh
            self.cache.clear()
        if old is not None:
            old.leases.when_idle(old.searcher.retire)
        return fresh

    def _reload(self) -> None:
        """Load the current index again (after another process published a new build) and swap it in."""
        stale = self._index
        with self._reindex_lock:
            if self._index is stale:
                self._index = load_index(self.settings)
                self.cache.clear()

    def documents(self) -> list[tuple[Document, int]]:
        index = self.index
        counts = index.passage_counts
        return [(doc, counts[doc.doc_id]) for doc in index.documents.values()]

    def document(self, doc_id: str) -> Document:
        found = self.index.documents.get(doc_id)
        if found is None:
            raise NotFoundError(f"no document with id {doc_id!r}", hint="GET /api/documents lists them")
        return found
