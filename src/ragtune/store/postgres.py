"""PostgreSQL + pgvector store: the same data model and guarantees as the SQLite store.

Documents, versions, chunks (vectors in a pgvector column), metadata and groups live in
PostgreSQL, so several processes or machines (pilot workers, service replicas) share one
store. What stays the same on both backends, so that pilots are comparable:

- filters and the ACL: the conditions :mod:`ragtune.retrieval.filters` compiles are plain
  SQL over the same tables (``d`` = documents, ``doc_meta``, ``doc_groups``), run here with
  PostgreSQL's placeholders; text compares byte-wise (``COLLATE "C"``), as SQLite does;
- BM25: ranked from the in-memory index of :mod:`ragtune.store.bm25_index` with FTS5's own
  terms (tokenized on an in-memory SQLite connection), so a query scores exactly as on
  SQLite (PostgreSQL's ``ts_rank`` is not BM25); the index follows the store's generation;
- dense search: :mod:`ragtune.store.pgvector_index` (exact, or pgvector's HNSW).

Each document changes in one transaction (a per-document advisory lock orders concurrent
writers), and every change bumps the generation derived indexes follow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.errors import NotFoundError, RagtuneError
from ragtune.registry import stores
from ragtune.store.base import Store
from ragtune.store.base import WhereLike as Where
from ragtune.store.bm25_index import BM25Index
from ragtune.store.engine import SharedQueries
from ragtune.store.fts5_terms import Fts5Terms
from ragtune.store.postgres_schema import (
    CHUNK_SELECT,
    CHUNK_SELECT_C,
    DOC_SELECT,
    SCHEMA,
    Row,
    pg_sql,
    row_factory,
    to_array,
    to_chunk,
    to_document,
)
from ragtune.store.query_words import query_words
from ragtune.store.records import (
    BM25_WEIGHTS,
    DOCUMENT_COLUMNS,
    METADATA_KEYS,
    AllowedRowids,
    document_row,
    meta_rows,
    now_iso,
)
from ragtune.store.scoped_bm25 import ALLOWED_ROWIDS
from ragtune.types import Chunk, Document


class PostgresStore(SharedQueries):
    """One connection per instance (autocommit; explicit transactions for writes)."""

    def __init__(self, dsn: str, cache_dir: Path | None = None) -> None:
        """``dsn``: a libpq connection string or URI; ``cache_dir``: where the BM25 index
        file goes (none: rebuilt in each process)."""
        try:
            import psycopg
            from pgvector.psycopg import register_vector
        except ImportError:
            raise RagtuneError(
                "the postgres store needs psycopg and pgvector",
                "pip install 'ragtune[postgres]'",
            ) from None
        self.dsn = dsn
        try:
            self.conn = psycopg.connect(dsn, autocommit=True)
            with self.transaction():
                self.conn.execute("SELECT pg_advisory_xact_lock(7419)")  # one migrator
                self.conn.execute(SCHEMA)
            register_vector(self.conn)
        except psycopg.Error as exc:
            raise RagtuneError(
                f"cannot open the postgres store: {str(exc).strip()}",
                "check store.dsn (or RAGTUNE_STORE__DSN) and that the server is running",
            ) from None
        self._terms = Fts5Terms()
        cache = Path(cache_dir) / "bm25.npz" if cache_dir is not None else None
        self._bm25 = BM25Index(self._terms.conn, BM25_WEIGHTS, cache, source=self)
        self._allowed = AllowedRowids()

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.conn.transaction():
            yield self.conn

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that must see one state (see :meth:`SQLiteStore._snapshot`)."""
        if self.conn.info.transaction_status != 0:  # already inside a transaction
            yield
            return
        with self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, list(params)).fetchall()

    def capabilities(self) -> dict[str, Any]:
        """What this backend does and how (the same keys on every backend)."""
        info = self.conn.info
        return {
            "backend": "postgres",
            "location": f"{info.host or 'socket'}:{info.port}/{info.dbname}",
            "shared_by": "any number of processes and machines (one writer per document)",
            "keyword": "BM25, FTS5 terms and formula (in-memory index fed from PostgreSQL)",
            "dense": "in PostgreSQL: pgvector exact, or its HNSW index (retrieval.dense_index)",
            "filters_acl": "inside each retriever's query",
            "atomic_per_document": True,
        }

    # -- plain SQL for the service's tables (keys, answers, feedback), as on SQLite --------
    def query(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Rows of ``sql`` written with ``?`` placeholders; a row reads by name or index."""
        with self.conn.cursor(row_factory=row_factory) as cur:
            return cur.execute(pg_sql(sql), list(params)).fetchall()

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        return int(self.conn.execute(pg_sql(sql), list(params)).rowcount)

    def execute_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(pg_sql(sql), [list(r) for r in rows])

    # -- state -------------------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        rows = self._rows("SELECT value FROM state WHERE key=%s", [key])
        return None if not rows else str(rows[0][0])

    def _set_state(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO state(key, value) VALUES(%s, %s)"
            " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            [key, value],
        )

    def generation(self) -> int:
        return int(self.get_state("generation") or 0)

    def _bump_generation(self) -> None:
        self.conn.execute(
            "UPDATE state SET value = (value::bigint + 1)::text WHERE key='generation'"
        )

    def check_embedder(self, name: str, dim: int) -> None:
        wanted = f"{name}:{dim}"
        with self.transaction():
            self.conn.execute("INSERT INTO state(key, value) VALUES('embedder', %s)"
                              " ON CONFLICT DO NOTHING", [wanted])  # fmt: skip
            stored = self.get_state("embedder")
        if stored != wanted:
            raise RagtuneError(
                f"this store was embedded with {stored}, but the embedder is now {wanted}",
                "set embedder.name back, or empty the database and ingest again",
            )

    # -- writes ------------------------------------------------------------------------
    def upsert_document(
        self, doc: Document, fingerprint: str, chunks: Sequence[Chunk], vectors: np.ndarray
    ) -> int:
        """Replace ``doc`` and its chunks atomically; returns the new version number."""
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [doc.id])
            row = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM document_versions WHERE doc_id=%s",
                [doc.id],
            ).fetchone()
            version = int(row[0]) + 1
            self._delete_rows(doc.id)
            stamp = now_iso()
            conn.execute(
                f"INSERT INTO documents({DOCUMENT_COLUMNS})"
                " VALUES(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                document_row(doc, fingerprint, version, stamp),
            )
            conn.execute(
                "INSERT INTO document_versions(doc_id, version, content_hash, fingerprint,"
                " ingested_at, n_chunks) VALUES(%s,%s,%s,%s,%s,%s)",
                [doc.id, version, doc.content_hash, fingerprint, stamp, len(chunks)],
            )
            self._insert_meta(doc)
            with conn.cursor() as cur:
                cur.executemany(
                    'INSERT INTO chunks(id, doc_id, ordinal, start, "end", section, text,'
                    " n_tokens, embedding) VALUES(%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    [
                        (c.id, c.doc_id, c.ordinal, c.start, c.end, c.section, c.text,
                         c.n_tokens, v)
                        for c, v in zip(chunks, vectors, strict=True)
                    ],
                )  # fmt: skip
            self._bump_generation()
        return version

    def _insert_meta(self, doc: Document) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO doc_meta(doc_id, key, value, num) VALUES(%s,%s,%s,%s)"
                " ON CONFLICT DO NOTHING",
                meta_rows(doc),
            )
            cur.executemany(
                "INSERT INTO doc_groups(doc_id, grp) VALUES(%s,%s) ON CONFLICT DO NOTHING",
                [(doc.id, g) for g in doc.groups],
            )

    def _delete_rows(self, doc_id: str) -> bool:
        conn = self.conn
        conn.execute("DELETE FROM chunks WHERE doc_id=%s", [doc_id])
        conn.execute("DELETE FROM doc_meta WHERE doc_id=%s", [doc_id])
        conn.execute("DELETE FROM doc_groups WHERE doc_id=%s", [doc_id])
        return conn.execute("DELETE FROM documents WHERE id=%s", [doc_id]).rowcount > 0

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document and its chunks; its version history records the removal."""
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [doc_id])
            existed = self._delete_rows(doc_id)
            if existed:
                conn.execute(
                    "UPDATE document_versions SET removed_at=%s WHERE doc_id=%s AND version="
                    "(SELECT MAX(version) FROM document_versions WHERE doc_id=%s)",
                    [now_iso(), doc_id, doc_id],
                )
                self._bump_generation()
        return existed

    # -- reads -------------------------------------------------------------------------
    def get_fingerprint(self, doc_id: str) -> str | None:
        rows = self._rows("SELECT fingerprint FROM documents WHERE id=%s", [doc_id])
        return None if not rows else str(rows[0][0])

    def get_groups(self, doc_id: str) -> tuple[str, ...] | None:
        rows = self._rows("SELECT groups FROM documents WHERE id=%s", [doc_id])
        return None if not rows else tuple(json.loads(rows[0][0]))

    def document_ids(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT id FROM documents ORDER BY id")]

    def get_document(self, doc_id: str) -> Document:
        rows = self._rows(f"SELECT {DOC_SELECT} FROM documents WHERE id=%s", [doc_id])
        if not rows:
            raise NotFoundError(f"no document with id {doc_id!r}", "see `ragtune docs list`")
        return to_document(rows[0])

    def list_documents(self) -> list[Document]:
        return [
            to_document(r) for r in self._rows(f"SELECT {DOC_SELECT} FROM documents ORDER BY id")
        ]

    def versions(self, doc_id: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT version, content_hash, ingested_at, removed_at, n_chunks"
            " FROM document_versions WHERE doc_id=%s ORDER BY version",
            [doc_id],
        )
        keys = ("version", "content_hash", "ingested_at", "removed_at", "n_chunks")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        rows = self._rows(
            f"SELECT {CHUNK_SELECT} FROM chunks WHERE doc_id=%s ORDER BY ordinal", [doc_id]
        )
        return [to_chunk(r) for r in rows]

    def count_chunks(self, where: Where | None = None) -> int:
        if where is None:
            return int(self._rows("SELECT COUNT(*) FROM chunks")[0][0])
        sql = f"SELECT COUNT(*) FROM ({pg_sql(ALLOWED_ROWIDS.format(where.sql))}) a"
        return int(self._rows(sql, where.params)[0][0])

    def term_chunk_counts(self, terms: Sequence[str], where: Where | None = None) -> dict[str, int]:
        """How many chunks (of those ``where`` allows) hold each word's terms (FTS5's
        stemming, from the BM25 index: the same counts as on SQLite)."""
        allowed = self.allowed_rowids(where) if where is not None else None
        with self._snapshot():
            self._bm25.refresh(self.generation())
        return {
            t: self._bm25.rows_with(self._terms.query_terms([t]), allowed)
            for t in dict.fromkeys(terms)
        }

    def metadata_keys(self, where: Where | None = None) -> list[str]:
        """Metadata fields of every document, or of those ``where`` allows."""
        if where is None:
            return [r[0] for r in self._rows("SELECT DISTINCT key FROM doc_meta ORDER BY key")]
        return [r[0] for r in self._rows(pg_sql(METADATA_KEYS.format(where.sql)), where.params)]

    def chunks_by_rowid(self, rowids: Sequence[int]) -> dict[int, tuple[Chunk, Document]]:
        if not len(rowids):
            return {}
        rows = self._rows(
            f"SELECT c.rowid, {CHUNK_SELECT_C}, d.title, d.metadata, d.groups, d.format,"
            " d.source_path, d.version FROM chunks c JOIN documents d ON d.id = c.doc_id"
            " WHERE c.rowid = ANY(%s)",
            [[int(r) for r in rowids]],
        )
        out = {}
        for r in rows:
            chunk = to_chunk(r[1:9])
            title, meta, groups, fmt, source, version = r[9:]
            doc = Document(id=chunk.doc_id, title=title, text="", content_hash="",
                           source_path=source or "", format=fmt or "",
                           metadata=json.loads(meta), groups=tuple(json.loads(groups)),
                           version=version)  # fmt: skip
            out[int(r[0])] = (chunk, doc)
        return out

    def stored_vectors(self, doc_id: str) -> list[tuple[str, str, str, np.ndarray]]:
        rows = self._rows(
            "SELECT d.title, c.section, c.text, c.embedding FROM chunks c"
            " JOIN documents d ON d.id = c.doc_id WHERE c.doc_id=%s ORDER BY c.ordinal",
            [doc_id],
        )
        return [(r[0], r[1] or "", r[2], to_array(r[3])) for r in rows]

    def iter_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self._rows("SELECT rowid, embedding FROM chunks ORDER BY rowid")
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return rowids, np.zeros((0, 0), dtype=np.float32)
        return rowids, np.stack([to_array(r[1]) for r in rows])

    # -- the BM25 index's row source ----------------------------------------------------
    def chunk_keys(self) -> list[tuple[int, str]]:
        return [
            (int(r), str(i)) for r, i in self._rows("SELECT rowid, id FROM chunks ORDER BY rowid")
        ]

    def chunk_texts(self, rowids: Sequence[int]) -> list[tuple[int, str, str, str]]:
        rows = self._rows(
            "SELECT c.rowid, d.title, c.section, c.text FROM chunks c"
            " JOIN documents d ON d.id = c.doc_id WHERE c.rowid = ANY(%s)",
            [list(rowids)],
        )
        return [(int(r), t, s or "", x) for r, t, s, x in rows]

    # -- search primitives -------------------------------------------------------------
    def refresh_bm25(self) -> None:
        with self._snapshot():
            self._bm25.refresh(self.generation())

    def bm25_search(self, query: str, k: int, where: Where | None) -> list[tuple[int, float]]:
        """(rowid, score) best first, FTS5's BM25 over every chunk or, with ``where``, with
        statistics from the allowed chunks only (as the SQLite store)."""
        words = query_words(query)
        if not words:
            return []
        with self._snapshot():
            self._bm25.refresh(self.generation())
            allowed = self.allowed_rowids(where) if where is not None else None
        return self._bm25.search(self._terms.word_terms(words), k, allowed)

    def allowed_rowids(self, where: Where) -> np.ndarray:
        """The rowids ``where`` allows (cached per generation: :class:`AllowedRowids`)."""
        sql = pg_sql(ALLOWED_ROWIDS.format(where.sql))
        return self._allowed.get(self.generation(), where, lambda: self._rows(sql, where.params))


stores.register("postgres")(PostgresStore)
_IS_A_STORE: type[Store] = PostgresStore  # the type checker verifies the protocol
