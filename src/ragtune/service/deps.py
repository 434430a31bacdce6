"""The service's runtime: limits, worker threads that own store connections, the model lock.

SQLite connections belong to the thread that opened them, and the generator is not
thread-safe. So the service never touches the caller's :class:`Project` from request
threads; it runs work on three kinds of threads, each with its own ``Project`` on the same
folder (its own SQLite connection and dense-index cache, one shared embedder behind a lock):

* ``read``  — a small pool: key checks, search, document reads (WAL: readers run in parallel);
* ``write`` — one thread: uploads, deletions, feedback (one writer at a time);
* ``model`` — one thread: every answer, so generation is serialised and never interleaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ragtune.project import Project
from ragtune.service.batching import QueryBatcher

if TYPE_CHECKING:
    from ragtune.embed.base import Embedder

T = TypeVar("T")


@dataclass(frozen=True)
class ServiceConfig:
    """How the service runs. ``strategy``/``adapter`` pick the default model."""

    strategy: str = "rag"
    adapter: str | None = None
    max_body_bytes: int = 20 * 1024 * 1024
    max_question_chars: int = 2000
    generation_timeout_s: float = 120.0
    max_new_tokens: int = 512
    read_workers: int = 2
    # Searches that arrive together are embedded in one batch of up to query_batch queries
    # (1: each query alone, in its search's worker); the first waits query_window_ms.
    query_batch: int = 64
    query_window_ms: float = 2.0
    warm: bool = True
    report: Path | None = None

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1024:
            raise ValueError(f"max_body_bytes must be >= 1024, got {self.max_body_bytes}")
        if self.generation_timeout_s <= 0:
            raise ValueError(f"generation_timeout_s must be > 0, got {self.generation_timeout_s}")
        if not 1 <= self.read_workers <= 64:
            raise ValueError(f"read_workers must be in 1..64, got {self.read_workers}")
        if not 1 <= self.query_batch <= 1024:
            raise ValueError(f"query_batch must be in 1..1024, got {self.query_batch}")
        if not 0 <= self.query_window_ms <= 1000:
            raise ValueError(f"query_window_ms must be in 0..1000, got {self.query_window_ms}")


@dataclass(frozen=True)
class Caller:
    """Who is asking: an API key's id, groups and rights."""

    key_id: str
    name: str
    groups: tuple[str, ...]
    admin: bool


class LockedEmbedder:
    """One embedder shared by all worker threads; HF tokenizers are not thread-safe."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.max_tokens = inner.max_tokens
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        with self._lock:
            return self.inner.embed(texts, progress=progress)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return self.inner.embed_query(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        from ragtune.embed.base import embed_queries

        with self._lock:
            return embed_queries(self.inner, texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        with self._lock:
            return self.inner.count_tokens(texts)


def _one_torch_thread() -> None:
    import sys

    if "torch" in sys.modules:  # an embedder without torch needs nothing
        sys.modules["torch"].set_num_threads(1)


class Runtime:
    """Worker threads and their per-thread projects. ``start()`` once, ``close()`` once."""

    def __init__(
        self, project: Project, config: ServiceConfig,
        on_query_batch: Callable[[int], None] | None = None,
    ) -> None:  # fmt: skip
        self.project = project
        self._on_query_batch = on_query_batch
        self.config = config
        self.embedder: LockedEmbedder | None = None
        self._local = threading.local()
        self._numbers = itertools.count()
        self._clones: list[Project] = []
        self._clones_lock = threading.Lock()
        self._cache = Path(tempfile.mkdtemp(prefix="ragtune-serve-"))
        self.read = self._pool("read", config.read_workers)
        self.write = self._pool("write", 1)
        self.model = self._pool("model", 1)
        # Batched query embeddings. One torch thread: under concurrent load the cores are
        # busy with other requests, and two OpenMP threads spin-waiting on each other made
        # a MiniLM query 18 ms -> 340 ms on a loaded 2-core machine (bench/NOTES.md).
        self.embed = ThreadPoolExecutor(1, "ragtune-embed", initializer=_one_torch_thread)
        self.queries: QueryBatcher | None = None  # set by start() unless query_batch is 1
        self.in_flight = 0  # answers queued or running (read by /metrics)

    def _pool(self, role: str, workers: int) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(workers, f"ragtune-{role}", initializer=self._init_thread)

    def _init_thread(self) -> None:
        # The thread's own Project: its own SQLite connection and dense-index cache files
        # (two threads rewriting one cache file would corrupt it), one shared embedder.
        clone = Project(self.project.root, self.project.settings)
        if self.embedder is not None:
            clone.embedder = self.embedder
        from ragtune.store.vectors import DenseIndex

        number = next(self._numbers)
        if clone.settings.store.backend == "sqlite":  # PostgreSQL runs dense search itself
            clone.retriever.index = DenseIndex.configured(
                clone.store, self._cache / f"index-{number}", clone.settings.retrieval,
                seed_dir=self.project.index_dir,
            )  # fmt: skip
        self._local.project = clone
        with self._clones_lock:
            self._clones.append(clone)

    def local(self) -> Project:
        """The calling worker thread's project (only valid inside a submitted function)."""
        project: Project = self._local.project
        return project

    def start(self) -> None:
        """Build the shared embedder and, when configured, load the default model."""
        self.embedder = LockedEmbedder(self.project.embedder)
        if self.config.query_batch > 1:
            self.queries = QueryBatcher(
                self.embedder.embed_queries, self.embed, self.config.query_window_ms / 1000,
                self.config.query_batch, self._on_query_batch,
            )  # fmt: skip
        self.read.submit(lambda: self.local().store.generation()).result()
        if self.config.warm:
            self.model.submit(self._warm).result()

    def _warm(self) -> None:
        system = self.local().answer_system(self.config.strategy, adapter=self.config.adapter)
        if system.generator is not None:  # an extractive strategy has no model to load
            _ = system.generator.context_window  # loads the weights

    async def run(self, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on ``pool`` and await its result."""
        return await asyncio.wrap_future(pool.submit(fn, *args))

    def close(self) -> None:
        """Finish running work (queued work is dropped), close every connection."""
        for pool in (self.read, self.write, self.model, self.embed):
            pool.shutdown(wait=True, cancel_futures=True)
        with self._clones_lock:
            for clone in self._clones:
                # A connection belongs to its (now finished) thread; closing it from here
                # raises, and garbage collection closes it anyway.
                with contextlib.suppress(Exception):
                    clone.close()
            self._clones.clear()
        shutil.rmtree(self._cache, ignore_errors=True)
