"""Dense search inside PostgreSQL with pgvector: exact, or through an HNSW index.

The same contract as :class:`ragtune.store.vectors.DenseIndex` (``search``, ``exact``,
``refresh``, ``approximate``): exact search scores every allowed row (index scans off);
from ``ann_min_chunks`` on (or always, with ``method = "hnsw"``) pgvector's HNSW index
answers, with iterative scans so a filtered search keeps looking until it has ``k``
allowed rows, and exact search answers where the index came back short.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ragtune.store.ann import ef_for
from ragtune.store.base import Ranked, WhereLike
from ragtune.store.postgres import PostgresStore
from ragtune.store.postgres_schema import pg_sql

Only = np.ndarray | WhereLike | None  # what a search may return: allowed rowids or a condition
_EXACT = ["SET LOCAL enable_indexscan = off", "SET LOCAL enable_bitmapscan = off"]

METHODS = ("auto", "exact", "hnsw")


class PgVectorIndex:
    def __init__(
        self,
        store: PostgresStore,
        method: str = "auto",
        ann_min_chunks: int = 50_000,
        ef_search: int = 384,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown dense search method {method!r}; choose {METHODS}")
        self.store = store
        self.method = method
        self.ann_min_chunks = ann_min_chunks
        self.ef_search = ef_search
        self._generation = -1
        self._approximate = False
        self._dim = 0
        self._count = 0

    @classmethod
    def configured(cls, store: PostgresStore, settings: Any) -> PgVectorIndex:
        """The index as ``settings`` (a :class:`~ragtune.config.RetrievalSettings`) asks."""
        return cls(store, settings.dense_index, settings.ann_min_chunks, settings.hnsw_ef_search)

    def refresh(self) -> None:
        generation = self.store.generation()
        if generation == self._generation:
            return
        row = self.store.conn.execute("SELECT vector_dims(embedding) FROM chunks LIMIT 1")
        found = row.fetchone()
        self._dim = int(found[0]) if found else 0  # one embedder per store: one dimension
        self._count = count = self.store.count_chunks()  # per generation, not per search
        self._approximate = bool(self._dim) and (
            self.method == "hnsw" or (self.method == "auto" and count >= self.ann_min_chunks)
        )
        if self._approximate:
            # An expression index: the column holds any dimension, the index one. Built
            # once (minutes at 100k chunks), then kept up to date by PostgreSQL itself.
            self.store.conn.execute(
                f"CREATE INDEX IF NOT EXISTS chunks_hnsw_{self._dim} ON chunks USING hnsw"
                f" ((embedding::vector({self._dim})) vector_ip_ops)"
            )
        self._generation = generation

    @property
    def approximate(self) -> bool:
        self.refresh()
        return self._approximate

    def __len__(self) -> int:
        self.refresh()
        return self._count

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (rowid, cosine) among all chunks, or among ``allowed`` rowids only."""
        available = len(self) if allowed is None else len(allowed)
        return self._search(query, k, allowed, available)

    def search_where(self, query: np.ndarray, k: int, where: WhereLike | None) -> Ranked:
        """Top-k among the chunks ``where`` allows, the condition inside the one SQL query
        (HNSW's iterative scan goes on until it has k allowed rows)."""
        if where is None:
            return self.search(query, k)
        return self._search(query, k, where, len(self.store.allowed_rowids(where)))

    def _search(self, query: np.ndarray, k: int, only: Only, available: int) -> Ranked:
        self.refresh()
        if not self._approximate:
            return self._query("embedding", "%s", query, k, only, _EXACT)
        dim = self._dim
        # Only the allowed share of the candidates is kept: widen the list to match, as the
        # in-process graph does (at 35 % allowed: 0.92 of the exact top-50 with 800).
        ef = ef_for(self.ef_search, k, self._count) * self._count / max(available, 1)
        settings = [  # pgvector accepts an ef_search of at most 1000
            f"SET LOCAL hnsw.ef_search = {int(min(ef, 1000))}",
            "SET LOCAL hnsw.iterative_scan = relaxed_order",
        ]
        hits = self._query(f"embedding::vector({dim})", f"%s::vector({dim})", query, k,
                           only, settings)  # fmt: skip
        hits.sort(key=lambda h: (-h[1], h[0]))  # relaxed order: sorted here
        if len(hits) >= min(k, available):
            return hits
        return self._query("embedding", "%s", query, k, only, _EXACT)

    def exact(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Every (allowed) row scored: what the HNSW index is measured against."""
        return self._query("embedding", "%s", query, k, allowed, _EXACT)

    def _query(
        self, column: str, param: str, query: np.ndarray, k: int, only: Only,
        settings: list[str],
    ) -> list[tuple[int, float]]:  # fmt: skip
        """``only``: the rowids allowed, or a document condition (filters, ACL) as SQL."""
        vector = np.asarray(query, dtype=np.float32).ravel()
        where, params = "", list[object]([vector])
        if isinstance(only, np.ndarray):
            where, params = " WHERE rowid = ANY(%s)", [vector, only.astype(np.int64).tolist()]
        elif only is not None:
            where = f" WHERE doc_id IN (SELECT d.id FROM documents d WHERE {pg_sql(only.sql)})"
            params = [vector, *only.params]
        # Exact search breaks ties by rowid, as the in-process index does; the HNSW scan
        # can only order by distance (a second key would turn it into a full scan).
        tie = ", rowid" if column == "embedding" else ""
        sql = (f"SELECT rowid, -({column} <#> {param}) FROM chunks{where}"
               f" ORDER BY {column} <#> {param}{tie} LIMIT %s")  # fmt: skip
        with self.store.conn.transaction():
            for statement in settings:
                self.store.conn.execute(statement)
            rows = self.store.conn.execute(sql, [*params, vector, int(k)]).fetchall()
        return [(int(r), float(s)) for r, s in rows]
