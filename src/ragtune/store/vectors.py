"""Dense search over the store's vectors, cached as plain ``.npy`` files.

SQLite holds the vectors (system of record). This index is a derived copy stamped with the
store's generation: a stale or missing cache is rebuilt from SQLite, never trusted. Exact
search answers small projects; from ``ann_min_chunks`` on (or always, with ``method =
"hnsw"``) an HNSW graph (:mod:`ragtune.store.ann`) answers, exact search being its fallback.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.store.ann import HnswGraph
from ragtune.store.base import Ranked, Store, WhereLike
from ragtune.types import SCHEMA_VERSION

METHODS = ("auto", "exact", "hnsw")


class DenseIndex:
    """Inner-product search (vectors are L2-normalised, so cosine)."""

    def __init__(
        self,
        store: Store,
        cache_dir: Path,
        method: str = "auto",
        ann_min_chunks: int = 50_000,
        ef_search: int = 384,
        seed_dir: Path | None = None,
    ) -> None:
        """``method``: exact, hnsw, or auto (hnsw from ``ann_min_chunks`` chunks on);
        ``seed_dir``: an index folder whose saved HNSW graph this one may start from."""
        if method not in METHODS:
            raise ValueError(f"unknown dense search method {method!r}; choose {METHODS}")
        self.store = store
        self.cache_dir = Path(cache_dir)
        self.method = method
        self.ann_min_chunks = ann_min_chunks
        self._generation = -1
        self._rowids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._graph = HnswGraph(self.cache_dir, ef_search, seed_dir)
        self._approximate = False

    @classmethod
    def configured(
        cls, store: Store, cache_dir: Path, settings: Any, seed_dir: Path | None = None
    ) -> DenseIndex:
        """The index as ``settings`` (a :class:`~ragtune.config.RetrievalSettings`) asks."""
        return cls(
            store, cache_dir, settings.dense_index, settings.ann_min_chunks,
            settings.hnsw_ef_search, seed_dir,
        )  # fmt: skip

    def refresh(self) -> None:
        """Bring the index up to the store now (an ingest does, so searches do not wait)."""
        self._fresh()

    def _fresh(self) -> None:
        generation = self.store.generation()
        if generation == self._generation:
            return
        if not self._load_cache(generation):
            self._rowids, self._matrix = self.store.iter_vectors()
            self._save_cache(generation)
        self._approximate = self.method == "hnsw" or (
            self.method == "auto" and len(self._rowids) >= self.ann_min_chunks
        )
        if self._approximate and len(self._rowids):
            self._graph.sync(self._rowids, self._matrix, generation)
        self._generation = generation

    @property
    def approximate(self) -> bool:
        """Whether searches go to the HNSW graph first (known after the first search)."""
        self._fresh()
        return self._approximate

    def _stamp(self, generation: int) -> dict[str, object]:
        """What a cache must match: this store (not one rebuilt beside the old folder, whose
        generation count starts again), its generation, the schema."""
        return {"generation": generation, "schema_version": SCHEMA_VERSION,
                "store_id": self.store.get_state("store_id")}  # fmt: skip

    def _load_cache(self, generation: int) -> bool:
        meta_path = self.cache_dir / "vectors.json"
        try:
            meta = json.loads(meta_path.read_text())
            if meta != self._stamp(generation):
                return False
            self._rowids = np.load(self.cache_dir / "rowids.npy")
            self._matrix = np.load(self.cache_dir / "vectors.npy", mmap_mode="r")
        except (OSError, ValueError):
            return False
        return len(self._rowids) == len(self._matrix)

    def _save_cache(self, generation: int) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # Temporary names per process and thread: pilot workers share the project folder.
        writer = f"{os.getpid()}-{threading.get_ident()}"
        for name, array in (("rowids.npy", self._rowids), ("vectors.npy", self._matrix)):
            tmp = self.cache_dir / f".{name}.{writer}.tmp"
            with open(tmp, "wb") as fh:
                np.save(fh, array)
            os.replace(tmp, self.cache_dir / name)
        meta = self._stamp(generation)
        tmp_meta = self.cache_dir / f".vectors.json.{writer}.tmp"
        tmp_meta.write_text(json.dumps(meta, sort_keys=True))
        os.replace(tmp_meta, self.cache_dir / "vectors.json")

    def __len__(self) -> int:
        self._fresh()
        return len(self._rowids)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (rowid, cosine) among all chunks, or among ``allowed`` rowids only."""
        self._fresh()
        if len(self._rowids) == 0:
            return []
        if self._approximate:
            hits = self._graph.search(query, k, allowed)
            if hits is not None:
                return hits
        return self.exact(query, k, allowed)

    def search_where(self, query: np.ndarray, k: int, where: WhereLike | None) -> Ranked:
        """Top-k among the rows ``where`` allows (their rowids, cached by the store)."""
        allowed = self.store.allowed_rowids(where) if where is not None else None
        return self.search(query, k, allowed)

    def exact(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-k by scoring every (allowed) vector: the reference the graph is measured by."""
        self._fresh()
        if len(self._rowids) == 0:
            return []
        rowids, matrix = self._rowids, self._matrix
        if allowed is not None:
            mask = np.isin(rowids, allowed)
            rowids, matrix = rowids[mask], matrix[mask]
            if len(rowids) == 0:
                return []
        scores = _scores(matrix, np.asarray(query, dtype=np.float32).ravel())
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(rowids[i]), float(scores[i])) for i in top]


def _scores(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``matrix @ query`` in torch's thread pool. numpy's BLAS keeps its own threads spinning
    after a call, against the embedder's torch threads that run right before: at 100k chunks
    a dense query (embedding + search) took 74 ms with numpy's product, 38 ms with torch's
    (bench/NOTES.md)."""
    import warnings

    import torch

    with warnings.catch_warnings():  # a read-only memmap: torch warns, but only reads it
        warnings.simplefilter("ignore", UserWarning)
        product = torch.mv(torch.from_numpy(np.asarray(matrix)), torch.from_numpy(query))
    return product.numpy()
