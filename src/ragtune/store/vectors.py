"""Exact dense search over the store's vectors, cached as plain ``.npy`` files.

SQLite holds the vectors (system of record). This index is a derived copy stamped with the
store's generation: a stale or missing cache is rebuilt from SQLite, never trusted.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np

from ragtune.store.sqlite import SQLiteStore
from ragtune.types import SCHEMA_VERSION


class DenseIndex:
    """Brute-force inner-product search (vectors are L2-normalised, so cosine)."""

    def __init__(self, store: SQLiteStore, cache_dir: Path) -> None:
        self.store = store
        self.cache_dir = Path(cache_dir)
        self._generation = -1
        self._rowids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, 0), dtype=np.float32)

    def _fresh(self) -> None:
        generation = self.store.generation()
        if generation == self._generation:
            return
        if not self._load_cache(generation):
            self._rowids, self._matrix = self.store.iter_vectors()
            self._save_cache(generation)
        self._generation = generation

    def _load_cache(self, generation: int) -> bool:
        meta_path = self.cache_dir / "vectors.json"
        try:
            meta = json.loads(meta_path.read_text())
            if meta != {"generation": generation, "schema_version": SCHEMA_VERSION}:
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
        meta = {"generation": generation, "schema_version": SCHEMA_VERSION}
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
