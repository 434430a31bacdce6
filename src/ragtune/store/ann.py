"""Approximate dense search: a faiss HNSW graph beside the exact vectors (issue 22, item 4).

The graph is derived, like every index here: it follows the exact index's (rowids, matrix)
and is trusted row by row only where it holds the very same vector for the same rowid. New
chunks are appended; removed ones are hidden by a selector until they are a fifth of the
graph, then it is rebuilt. Searches restricted by filters or the ACL run on the graph with a
selector when many rows are allowed, and exactly when few are (or the graph came back
short), so a filtered search still returns ``k`` hits whenever ``k`` allowed chunks exist.
"""

from __future__ import annotations

import json
import math
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.types import SCHEMA_VERSION

M = 32  # graph degree (bench/ann_speed.py)
EF_CONSTRUCTION = 40  # 100 built 2.7x slower for no recall gain on the same data
REBUILD_DEAD_SHARE = 0.2
# Below this share of allowed rows a selector makes HNSW wander: search those rows exactly.
SELECTOR_MIN_SHARE = 0.05
# The candidate list grows with k and with the graph: a fixed 384 found 0.95 of the top-10
# but 0.89 of the top-50 at 1M vectors; 800 found 0.98 of the top-50 at 100k, 1600 0.95 at
# 1M (bench/ann_speed.py --million, its ef sweep; RESULTS.md).
EF_PER_RESULT = 16
EF_GROWS_FROM = 100_000  # rows; the list doubles with every tenfold beyond


def ef_for(ef_search: int, k: int, rows: int) -> int:
    """The HNSW candidate list for a top-``k`` search among ``rows`` (pgvector's index too)."""
    scale = max(1.0, 1.0 + math.log10(max(rows, 1) / EF_GROWS_FROM))
    return max(int(ef_search), int(EF_PER_RESULT * k * scale), 1)


def faiss_module() -> Any:
    import faiss  # a compiled extension: imported only where the graph is used

    return faiss


class HnswGraph:
    """An HNSW graph over a subset of rowids; labels are positions in ``self.rowids``."""

    def __init__(self, cache_dir: Path, ef_search: int = 384, seed_dir: Path | None = None) -> None:
        """``seed_dir``: another index folder whose saved graph this one may start from (the
        service's worker threads keep their own folders, and start from the project's)."""
        self.cache_dir = Path(cache_dir)
        self.seed_dir = Path(seed_dir) if seed_dir is not None else None
        self.ef_search = ef_search
        self.rowids = np.zeros(0, dtype=np.int64)
        self._graph: Any = None
        self._live = np.zeros(0, dtype=bool)  # per label: still in the store
        self._dirty = False

    # -- following the exact index ---------------------------------------------------------

    def sync(self, rowids: np.ndarray, matrix: np.ndarray, generation: int) -> None:
        """Bring the graph to the store's (rowids, matrix); ``generation`` stamps the cache."""
        if self._graph is None:
            self._load()
        if self._graph is not None and self._graph.d != matrix.shape[1]:
            self._graph = None
        if self._graph is None:
            self.build(rowids, matrix)
        else:
            self._follow(rowids, matrix)
        if self._live.size and (~self._live).mean() > REBUILD_DEAD_SHARE:
            self.build(rowids, matrix)
        if self._dirty:
            self._save(generation)

    def build(self, rowids: np.ndarray, matrix: np.ndarray) -> None:
        faiss = faiss_module()
        graph = faiss.IndexHNSWFlat(int(matrix.shape[1]), M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = EF_CONSTRUCTION
        if len(rowids):
            graph.add(np.ascontiguousarray(matrix, dtype=np.float32))
        self._graph = graph
        self.rowids = np.array(rowids, dtype=np.int64)
        self._live = np.ones(len(rowids), dtype=bool)
        self._dirty = True

    def _follow(self, rowids: np.ndarray, matrix: np.ndarray) -> None:
        """Hide rows gone from the store or whose vector changed; append the new ones."""
        rowids = np.asarray(rowids, dtype=np.int64)  # ascending: the store reads by rowid
        where = np.minimum(np.searchsorted(rowids, self.rowids), max(len(rowids) - 1, 0))
        keep = self._live.copy()
        if len(rowids):
            keep &= rowids[where] == self.rowids
        else:
            keep[:] = False
        labels = np.flatnonzero(keep)
        if len(labels):
            same = np.all(self._vectors(labels) == matrix[where[labels]], axis=1)
            keep[labels[~same]] = False
        covered = np.zeros(len(rowids), dtype=bool)
        covered[where[keep]] = True
        if not np.array_equal(keep, self._live):
            self._live = keep
            self._dirty = True
        if not covered.all():
            new = np.flatnonzero(~covered)
            self._graph.add(np.ascontiguousarray(matrix[new], dtype=np.float32))
            self.rowids = np.concatenate([self.rowids, rowids[new]])
            self._live = np.concatenate([self._live, np.ones(len(new), dtype=bool)])
            self._dirty = True

    def _vectors(self, labels: np.ndarray) -> np.ndarray:
        faiss = faiss_module()
        storage = faiss.downcast_index(self._graph.storage)
        flat = faiss.rev_swig_ptr(storage.get_xb(), storage.ntotal * storage.d)
        return np.asarray(flat).reshape(storage.ntotal, storage.d)[labels]

    # -- searching -------------------------------------------------------------------------

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]] | None:
        """Top-k (rowid, score), or None where an exact search must answer instead: few rows
        allowed, or the graph found fewer than ``k`` of the allowed rows."""
        faiss = faiss_module()
        live = int(self._live.sum())
        mask: np.ndarray | None = None
        if allowed is not None:
            mask = self._live & np.isin(self.rowids, allowed)
            if mask.sum() < max(k, SELECTOR_MIN_SHARE * live):
                return None
        elif live < len(self._live):
            mask = self._live
        available = live if mask is None else int(mask.sum())
        want = min(k, available)
        if want == 0:
            return []
        params = faiss.SearchParametersHNSW()
        share = available / max(live, 1)
        # Only the allowed share of the candidates can be kept: widen the list to match
        # (at 35 % allowed, 384 found 0.88 of the top-50, bench/ann_speed.py).
        ef = ef_for(self.ef_search, k, live)
        params.efSearch = int(max(k, min(4 * ef, ef / share)))
        if mask is not None:
            # A bitmap over the labels: built in microseconds (a batch selector hashes
            # every allowed id, ~5 ms per query at 100k rows); kept alive by ``bits``.
            bits = np.packbits(mask, bitorder="little")
            params.sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        scores, found = self._graph.search(
            np.asarray(query, dtype=np.float32).reshape(1, -1), want, params=params
        )
        pairs = zip(found[0], scores[0], strict=True)
        hits = [(int(self.rowids[i]), float(s)) for i, s in pairs if i >= 0]
        return hits if len(hits) >= want else None

    def __len__(self) -> int:
        return int(self._live.sum())

    # -- the cache file --------------------------------------------------------------------

    def _load(self) -> None:
        for folder in (self.cache_dir, self.seed_dir):
            if folder is not None and self._load_from(folder):
                self._dirty = folder != self.cache_dir
                return

    def _load_from(self, folder: Path) -> bool:
        faiss = faiss_module()
        try:
            meta = json.loads((folder / "hnsw.json").read_text())
            if meta.get("schema_version") != SCHEMA_VERSION:
                return False
            with np.load(folder / "hnsw_rows.npz") as rows:
                rowids, live = rows["rowids"], rows["live"]
            graph = faiss.read_index(str(folder / "hnsw.faiss"))
        except (OSError, ValueError, KeyError, RuntimeError):
            return False
        if graph.ntotal != len(rowids) or len(live) != len(rowids):
            return False
        self._graph, self.rowids, self._live = graph, rowids, live.astype(bool)
        return True

    def _save(self, generation: int) -> None:
        faiss = faiss_module()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # Temporary names per process and thread: pilot workers share the project folder.
        # The row file is written last: a graph whose row file does not match is not loaded.
        writer = f"{os.getpid()}-{threading.get_ident()}"
        tmp_graph = self.cache_dir / f".hnsw.faiss.{writer}.tmp"
        faiss.write_index(self._graph, str(tmp_graph))
        os.replace(tmp_graph, self.cache_dir / "hnsw.faiss")
        tmp_rows = self.cache_dir / f".hnsw_rows.{writer}.tmp.npz"
        np.savez(tmp_rows, rowids=self.rowids, live=self._live)
        os.replace(tmp_rows, self.cache_dir / "hnsw_rows.npz")
        meta = {"generation": generation, "schema_version": SCHEMA_VERSION, "m": M}
        tmp_meta = self.cache_dir / f".hnsw.json.{writer}.tmp"
        tmp_meta.write_text(json.dumps(meta, sort_keys=True))
        os.replace(tmp_meta, self.cache_dir / "hnsw.json")
        self._dirty = False
