"""Micro-batching of search queries: queries that arrive together are embedded together.

Embedding one query is a full forward pass of the embedder, and the shared embedder runs
one call at a time (it is not thread-safe), so under concurrent load searches used to queue
behind each other's embeddings. Here a search hands its query to :class:`QueryBatcher`
instead: the first query of a quiet moment waits ``window_s`` for company, then everything
pending is embedded in one call; queries that arrive while a batch runs form the next one.
So the batch grows with the load by itself, and a lone query pays only the short window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

import numpy as np

EmbedMany = Callable[[Sequence[str]], np.ndarray]


class QueryBatcher:
    """``await embed(text)`` -> the query's vector, computed in a batch with its neighbours.
    Use from one event loop (the service's)."""

    def __init__(
        self, embed_many: EmbedMany, executor: Executor, window_s: float = 0.002,
        max_batch: int = 64, on_batch: Callable[[int], None] | None = None,
    ) -> None:  # fmt: skip
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self._embed_many = embed_many
        self._executor = executor
        self.window_s = window_s
        self.max_batch = max_batch
        self._pending: list[tuple[str, asyncio.Future[np.ndarray]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None
        self._on_batch = on_batch  # told each batch's size (the service's metrics)
        self.batches = 0  # embedder calls made
        self.queries = 0  # queries answered through them

    async def embed(self, text: str) -> np.ndarray:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._pending.append((text, future))
        if not self._draining:
            self._draining = True
            # Held: the loop keeps only a weak reference to a task.
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.sleep(self.window_s)
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                # A request whose client went away no longer waits for its vector.
                batch = [(text, f) for text, f in batch if not f.done()]
                if batch:
                    await self._run(loop, batch)
        finally:
            # No await between the last look at _pending and here: nothing can slip in.
            self._draining = False

    async def _run(
        self, loop: asyncio.AbstractEventLoop, batch: list[tuple[str, asyncio.Future[np.ndarray]]]
    ) -> None:
        texts = list(dict.fromkeys(text for text, _ in batch))  # the same query once
        try:
            vectors = await loop.run_in_executor(self._executor, self._embed_many, texts)
        except Exception as exc:  # every waiting request gets the embedder's error
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.batches += 1
        self.queries += len(batch)
        if self._on_batch is not None:
            self._on_batch(len(texts))
        row = {text: i for i, text in enumerate(texts)}
        for text, future in batch:
            if not future.done():
                future.set_result(vectors[row[text]])
