"""The retriever: BM25 (FTS5's scores), dense (exact cosine or HNSW), and their fusion.

Each search is one :class:`~ragtune.store.base.SearchRequest` to the store's engine, which
applies the filters and ACL inside each component's query, never on its output, so a
filtered search still returns ``k`` hits whenever ``k`` allowed chunks match. In hybrid
search the query is embedded in a helper thread while BM25 ranks in the caller's thread
(the store's SQLite connection belongs to that thread). Fusion is done here, the same for
every backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from ragtune.config import RetrievalSettings
from ragtune.embed.base import Embedder
from ragtune.errors import UsageError
from ragtune.retrieval.filters import Where, acl_where, compile_filter, parse_filter
from ragtune.retrieval.fusion import Ranked, convex, dbsf, lead_rrf, rrf
from ragtune.retrieval.openings import lift_openings
from ragtune.retrieval.rerank import NoopReranker, Reranker
from ragtune.store.base import DenseSearch, SearchRequest, Store
from ragtune.types import ScoredChunk

MODES = ("bm25", "dense", "hybrid")
# Shared by every retriever in the process (threads start on first use): one idle thread
# per project would pile up in a long-lived process that opens many.
_EMBEDDING = ThreadPoolExecutor(4, "ragtune-embed-query")
FUSIONS = ("lead_rrf", "rrf", "convex", "dbsf")


class Retriever:
    """``search(query, mode=..., k=..., filters=..., groups=...) -> list[ScoredChunk]``."""

    def __init__(
        self,
        store: Store,
        index: DenseSearch,
        embedder: Embedder,
        settings: RetrievalSettings,
        reranker: Reranker | None = None,
        rerank_top_n: int = 20,
    ) -> None:
        self.store = store
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.reranker = reranker or NoopReranker()
        self.rerank_top_n = rerank_top_n

    def where_for(
        self, filters: str | Iterable[str] | None, groups: Iterable[str] | None
    ) -> Where | None:
        """Compile filter expressions and the caller's groups into one SQL condition."""
        conditions = parse_filter(filters)
        where = compile_filter(conditions, self.store.metadata_keys()) if conditions else None
        acl = acl_where(groups)
        if where is None:
            return acl
        return where.and_(acl)

    def bm25(self, query: str, k: int, where: Where | None = None) -> Ranked:
        return self.store.search(SearchRequest(query, k, where), self.index)["bm25"]

    def dense(
        self,
        query: str,
        k: int,
        where: Where | None = None,
        vector: np.ndarray | Future[np.ndarray] | None = None,
    ) -> Ranked:
        """``vector``: the query's embedding when the caller already has it (the service
        embeds concurrent queries in one batch), or is computing it."""
        if vector is None:
            vector = self.embedder.embed_query(query)
        request = SearchRequest(query, k, where, keyword=False, vector=vector)
        return self.store.search(request, self.index)["dense"]

    def _embed_meanwhile(self, query: str) -> Future[np.ndarray]:
        return _EMBEDDING.submit(self.embedder.embed_query, query)

    def search(
        self,
        query: str,
        *,
        mode: str | None = None,
        k: int | None = None,
        filters: str | Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
        fusion: str | None = None,
        rerank: bool = True,
        query_vector: np.ndarray | None = None,
    ) -> list[ScoredChunk]:
        """Top-``k`` hits. With ``rerank=False`` the reranker's candidates come back unranked
        by it (so a caller can time that stage itself); ``query_vector`` is the query's
        embedding if the caller computed it."""
        mode = mode or self.settings.mode
        fusion = fusion or self.settings.fusion
        k = self.settings.k if k is None else k
        if mode not in MODES:
            raise UsageError(f"unknown search mode {mode!r}", f"choose one of: {', '.join(MODES)}")
        if fusion not in FUSIONS:
            raise UsageError(f"unknown fusion {fusion!r}", f"choose one of: {', '.join(FUSIONS)}")
        if k < 1:
            raise UsageError(f"k must be at least 1, got {k}")
        if not query.strip():
            raise UsageError("the query is empty")
        where = self.where_for(filters, groups)
        depth = (
            max(k, self.settings.candidates, self._rerank_depth())
            if mode == "hybrid"
            else max(k, self._rerank_depth())
        )
        if mode == "bm25":
            fused = [(r, s, {"bm25": s}) for r, s in self.bm25(query, depth, where)]
        elif mode == "dense":
            dense = self.dense(query, depth, where, query_vector)
            fused = [(r, s, {"dense": s}) for r, s in dense]
        else:
            vector = query_vector if query_vector is not None else self._embed_meanwhile(query)
            lists = self.store.search(SearchRequest(query, depth, where, vector=vector), self.index)
            if fusion == "lead_rrf":
                fused = lead_rrf(lists, self.settings.rrf_k)
            elif fusion == "rrf":
                fused = rrf(lists, self.settings.rrf_k)
            elif fusion == "dbsf":
                fused = dbsf(lists)
            else:
                alpha = self.settings.alpha
                fused = convex(lists, {"dense": alpha, "bm25": 1.0 - alpha})
        window = max(k, self._rerank_depth())
        if mode == "hybrid" and self.settings.lift_openings:
            hits = lift_openings(self._hydrate(fused), window)[:window]
        else:
            hits = self._hydrate(fused[:window])
        if not rerank:
            return hits
        if self._reranks():
            hits = self.reranker.rerank(query, hits)
        return hits[:k]

    def _reranks(self) -> bool:
        return not isinstance(self.reranker, NoopReranker)

    def _rerank_depth(self) -> int:
        return self.rerank_top_n if self._reranks() else 0

    def _hydrate(self, fused: list[tuple[int, float, dict[str, float]]]) -> list[ScoredChunk]:
        found = self.store.chunks_by_rowid([r for r, _, _ in fused])
        hits = []
        for rowid, score, per_mode in fused:
            if rowid not in found:  # deleted between the two queries
                continue
            chunk, doc = found[rowid]
            hits.append(
                ScoredChunk(
                    chunk=chunk,
                    score=score,
                    title=doc.title,
                    scores=per_mode,
                    metadata={**doc.metadata, "groups": list(doc.groups), "format": doc.format},
                )
            )
        return hits
