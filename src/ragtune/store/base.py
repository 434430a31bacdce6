"""The storage protocol: what retrieval and ingestion need from a store.

SQLite implements it today; an external engine (pgvector, Qdrant, ...) would implement the
same methods and register itself in :data:`ragtune.registry.stores`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ragtune.types import Chunk, Document


class WhereLike(Protocol):
    """A compiled document filter: SQL over alias ``d`` (documents) with parameters."""

    sql: str
    params: list[object]


class Store(Protocol):
    def get_fingerprint(self, doc_id: str) -> str | None: ...

    def upsert_document(
        self, doc: Document, fingerprint: str, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> int: ...

    def delete_document(self, doc_id: str) -> bool: ...

    def get_document(self, doc_id: str) -> Document: ...

    def list_documents(self) -> list[Document]: ...

    def chunks_of(self, doc_id: str) -> list[Chunk]: ...

    def bm25_search(
        self, query: str, k: int, where: WhereLike | None
    ) -> list[tuple[int, float]]: ...

    def allowed_rowids(self, where: WhereLike) -> np.ndarray: ...

    def chunks_by_rowid(self, rowids: Sequence[int]) -> dict[int, tuple[Chunk, Document]]: ...
