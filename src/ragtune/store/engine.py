"""The parts of a store written once for both backends, on their shared schema: one search
request through a store's engine (``Store.search``) and the document views a reader may see.

BM25 ranks first, in the caller's thread (a SQLite connection belongs to its thread), while
the query's embedding may still be computed elsewhere; then the dense index answers. Both
take the filters and ACL as the compiled condition: the BM25 index computes its statistics
over the rows it allows, SQLite's dense index keeps only those rows, and pgvector's query
carries the condition itself. Fusion stays above the store (``ragtune.retrieval``), the
same code for both backends, so their rankings are comparable.
"""

from __future__ import annotations

import json
from concurrent.futures import Future
from typing import cast

import numpy as np

from ragtune.store.base import DenseSearch, Ranked, SearchRequest, Store, WhereLike
from ragtune.types import DocumentView


def run_search(store: Store, request: SearchRequest, dense: DenseSearch) -> dict[str, Ranked]:
    lists: dict[str, Ranked] = {}
    if request.keyword:
        lists["bm25"] = store.bm25_search(request.text, request.k, request.where)
    if request.vector is not None:
        vector = request.vector
        if isinstance(vector, Future):
            vector = vector.result()
        lists["dense"] = dense.search_where(np.asarray(vector), request.k, request.where)
    return lists


_VIEW = (
    "SELECT d.id, d.title, d.format, d.metadata, d.groups, d.version, d.ingested_at,"
    " d.source_path, length(d.text) AS n_chars FROM documents d"
)


def document_views(
    store: Store, where: WhereLike | None = None, doc_id: str | None = None
) -> list[DocumentView]:
    """The documents ``where`` allows (all with None), or only ``doc_id`` if it is allowed;
    in id order, without their text (SQL both backends run through ``Store.query``)."""
    conditions: list[str] = []
    params: list[object] = []
    if doc_id is not None:
        conditions.append("d.id = ?")
        params.append(doc_id)
    if where is not None:
        conditions.append(f"({where.sql})")
        params.extend(where.params)
    sql = _VIEW + (" WHERE " + " AND ".join(conditions) if conditions else "") + " ORDER BY d.id"
    return [
        DocumentView(
            id=r["id"],
            title=r["title"],
            format=r["format"],
            metadata=json.loads(r["metadata"]),
            groups=tuple(json.loads(r["groups"])),
            version=int(r["version"]),
            ingested_at=str(r["ingested_at"] or ""),
            source_path=r["source_path"],
            n_chars=int(r["n_chars"]),
        )
        for r in store.query(sql, params)
    ]


class SharedQueries:
    """The :class:`~ragtune.store.base.Store` methods both backends share, written once:
    each backend's class inherits them."""

    def search(self, request: SearchRequest, dense: DenseSearch) -> dict[str, Ranked]:
        """BM25 and dense search for one request, filters and ACL inside."""
        return run_search(cast("Store", self), request, dense)

    def document_views(
        self, where: WhereLike | None = None, doc_id: str | None = None
    ) -> list[DocumentView]:
        """Documents without their text, those ``where`` allows."""
        return document_views(cast("Store", self), where, doc_id)
