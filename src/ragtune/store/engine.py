"""One search request through a store's engine (``Store.search``), shared by both backends.

BM25 ranks first, in the caller's thread (a SQLite connection belongs to its thread), while
the query's embedding may still be computed elsewhere; then the dense index answers. Both
take the filters and ACL as the compiled condition: the BM25 index computes its statistics
over the rows it allows, SQLite's dense index keeps only those rows, and pgvector's query
carries the condition itself. Fusion stays above the store (``ragtune.retrieval``), the
same code for both backends, so their rankings are comparable.
"""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np

from ragtune.store.base import DenseSearch, Ranked, SearchRequest, Store


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
