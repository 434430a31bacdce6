"""The storage protocol: what ingestion, retrieval, the service and the pilots need from a
store, and from its dense index.

Two backends implement it: :class:`ragtune.store.sqlite.SQLiteStore` (embedded, the
default) and :class:`ragtune.store.postgres.PostgresStore` (PostgreSQL + pgvector); each
module checks its class against :class:`Store` for the type checker, and
``tests/conformance/`` runs one behavioural suite on both. Conditions (filters, the ACL)
come in as :class:`WhereLike` SQL over the shared schema (``d`` = documents, ``doc_meta``,
``doc_groups``) with ``?`` placeholders; ``query``/``execute`` take the same style.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ragtune.types import Chunk, Document, DocumentView


class WhereLike(Protocol):
    """A compiled document filter: SQL over alias ``d`` (documents) with parameters."""

    sql: str
    params: list[object]


Ranked = list[tuple[int, float]]  # (rowid, score), best first


@dataclass(frozen=True)
class SearchRequest:
    """One search, as the store's engine runs it: BM25 over ``text`` (``keyword``) and/or
    dense search for ``vector`` (when given; a Future is awaited only after BM25 has
    ranked), both restricted inside the engine by ``where`` (filters and the caller's ACL),
    ``k`` results per component."""

    text: str
    k: int
    where: WhereLike | None = None
    keyword: bool = True
    vector: np.ndarray | Future[np.ndarray] | None = None


class Store(Protocol):
    # -- lifecycle and state ---------------------------------------------------------
    def close(self) -> None: ...

    def transaction(self) -> AbstractContextManager[Any]: ...

    def capabilities(self) -> dict[str, Any]: ...

    def get_state(self, key: str) -> str | None: ...

    def generation(self) -> int: ...

    def check_embedder(self, name: str, dim: int) -> None: ...

    # -- documents -------------------------------------------------------------------
    def upsert_document(
        self, doc: Document, fingerprint: str, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> int: ...

    def delete_document(self, doc_id: str) -> bool: ...

    def get_fingerprint(self, doc_id: str) -> str | None: ...

    def get_groups(self, doc_id: str) -> tuple[str, ...] | None: ...

    def document_ids(self) -> list[str]: ...

    def get_document(self, doc_id: str) -> Document: ...

    def list_documents(self) -> list[Document]: ...

    def versions(self, doc_id: str) -> list[dict[str, Any]]: ...

    def chunks_of(self, doc_id: str) -> list[Chunk]: ...

    def count_chunks(self, where: WhereLike | None = None) -> int: ...

    def metadata_keys(self, where: WhereLike | None = None) -> list[str]: ...

    def document_views(
        self, where: WhereLike | None = None, doc_id: str | None = None
    ) -> list[DocumentView]: ...

    def chunks_by_rowid(self, rowids: Sequence[int]) -> dict[int, tuple[Chunk, Document]]: ...

    def stored_vectors(self, doc_id: str) -> list[tuple[str, str, str, np.ndarray]]: ...

    def iter_vectors(self) -> tuple[np.ndarray, np.ndarray]: ...

    # -- search primitives -----------------------------------------------------------
    def refresh_bm25(self) -> None: ...

    def bm25_search(
        self, query: str, k: int, where: WhereLike | None
    ) -> list[tuple[int, float]]: ...

    def term_chunk_counts(
        self, terms: Sequence[str], where: WhereLike | None = None
    ) -> dict[str, int]: ...

    def allowed_rowids(self, where: WhereLike) -> np.ndarray: ...

    def search(self, request: SearchRequest, dense: DenseSearch) -> dict[str, Ranked]:
        """Per component ("bm25", "dense"), its top-k (rowid, score); see SearchRequest."""
        ...

    # -- the service's tables (keys, answers, feedback) ------------------------------
    def query(self, sql: str, params: Sequence[object] = ()) -> list[Any]: ...

    def execute(self, sql: str, params: Sequence[object] = ()) -> int: ...

    def execute_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None: ...


class DenseSearch(Protocol):
    """Dense search over a store's vectors: exact, or approximate with an exact fallback."""

    @property
    def approximate(self) -> bool: ...

    def refresh(self) -> None: ...

    def __len__(self) -> int: ...

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]: ...

    def exact(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]: ...

    def search_where(self, query: np.ndarray, k: int, where: WhereLike | None) -> Ranked:
        """Top-k among the chunks ``where`` allows, the condition applied by the engine."""
        ...
