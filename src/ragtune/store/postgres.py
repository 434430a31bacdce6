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
from ragtune.store.fts5_terms import Fts5Terms
from ragtune.store.query_words import query_words
from ragtune.store.scoped_bm25 import ALLOWED_ROWIDS
from ragtune.store.sqlite import _WEIGHTS, _as_number, now_iso
from ragtune.types import Chunk, Document

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS documents(
    id TEXT COLLATE "C" PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL,
    content_hash TEXT NOT NULL, fingerprint TEXT NOT NULL, source_path TEXT COLLATE "C",
    format TEXT COLLATE "C", metadata TEXT NOT NULL, groups TEXT NOT NULL,
    version INTEGER NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS document_versions(
    doc_id TEXT NOT NULL, version INTEGER NOT NULL, content_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL, ingested_at TEXT NOT NULL, removed_at TEXT,
    n_chunks INTEGER NOT NULL, PRIMARY KEY(doc_id, version));
CREATE TABLE IF NOT EXISTS chunks(
    rowid BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    doc_id TEXT COLLATE "C" NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    section TEXT, text TEXT NOT NULL, n_tokens INTEGER, embedding vector NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS doc_meta(
    doc_id TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL, num DOUBLE PRECISION, PRIMARY KEY(doc_id, key, value));
CREATE INDEX IF NOT EXISTS doc_meta_key ON doc_meta(key, value);
CREATE TABLE IF NOT EXISTS doc_groups(
    doc_id TEXT COLLATE "C" NOT NULL, grp TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY(doc_id, grp));
CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys(
    id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE,
    groups TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, revoked_at TEXT);
CREATE TABLE IF NOT EXISTS answers(
    id TEXT PRIMARY KEY, key_id TEXT, question TEXT NOT NULL, text TEXT NOT NULL,
    strategy TEXT NOT NULL, model TEXT NOT NULL, adapter TEXT NOT NULL,
    citations TEXT NOT NULL, doc_ids TEXT NOT NULL, restricted INTEGER NOT NULL,
    created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS answers_key ON answers(key_id);
CREATE TABLE IF NOT EXISTS feedback(
    id BIGSERIAL PRIMARY KEY,
    answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE, key_id TEXT,
    rating TEXT NOT NULL CHECK(rating IN ('up', 'down')), comment TEXT NOT NULL,
    created_at TEXT NOT NULL, UNIQUE(answer_id, key_id));
INSERT INTO state(key, value) VALUES ('generation', '0') ON CONFLICT DO NOTHING;
INSERT INTO state(key, value) VALUES ('store_id', replace(gen_random_uuid()::text, '-', ''))
    ON CONFLICT DO NOTHING;
"""
_ALLOWED_CACHE = 16


def _pg(sql: str) -> str:
    """Compiled filter SQL (``?`` placeholders, no literals) in psycopg's style."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresStore:
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
        self._bm25 = BM25Index(self._terms.conn, _WEIGHTS, cache, source=self)
        self._allowed: dict[tuple[object, ...], np.ndarray] = {}

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
        with self.conn.cursor(row_factory=_row_factory) as cur:
            return cur.execute(_pg(sql), list(params)).fetchall()

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        return int(self.conn.execute(_pg(sql), list(params)).rowcount)

    def execute_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(_pg(sql), [list(r) for r in rows])

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
                "INSERT INTO documents(id, title, text, content_hash, fingerprint, source_path,"
                " format, metadata, groups, version, ingested_at)"
                " VALUES(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                [
                    doc.id, doc.title, doc.text, doc.content_hash, fingerprint, doc.source_path,
                    doc.format, json.dumps(doc.metadata, sort_keys=True, default=str),
                    json.dumps(sorted(doc.groups)), version, stamp,
                ],
            )  # fmt: skip
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
        rows = []
        for key, value in doc.metadata.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                if item is None:
                    continue
                text = str(item)
                num = float(item) if isinstance(item, int | float) else _as_number(text)
                rows.append((doc.id, key, text, num))
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO doc_meta(doc_id, key, value, num) VALUES(%s,%s,%s,%s)"
                " ON CONFLICT DO NOTHING",
                rows,
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
        rows = self._rows(f"SELECT {_DOC} FROM documents WHERE id=%s", [doc_id])
        if not rows:
            raise NotFoundError(f"no document with id {doc_id!r}", "see `ragtune docs list`")
        return _doc(rows[0])

    def list_documents(self) -> list[Document]:
        return [_doc(r) for r in self._rows(f"SELECT {_DOC} FROM documents ORDER BY id")]

    def versions(self, doc_id: str) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT version, content_hash, ingested_at, removed_at, n_chunks"
            " FROM document_versions WHERE doc_id=%s ORDER BY version",
            [doc_id],
        )
        keys = ("version", "content_hash", "ingested_at", "removed_at", "n_chunks")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        rows = self._rows(f"SELECT {_CHUNK} FROM chunks WHERE doc_id=%s ORDER BY ordinal", [doc_id])
        return [_chunk(r) for r in rows]

    def count_chunks(self, where: Where | None = None) -> int:
        if where is None:
            return int(self._rows("SELECT COUNT(*) FROM chunks")[0][0])
        sql = f"SELECT COUNT(*) FROM ({_pg(ALLOWED_ROWIDS.format(where.sql))}) a"
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

    def metadata_keys(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT DISTINCT key FROM doc_meta ORDER BY key")]

    def chunks_by_rowid(self, rowids: Sequence[int]) -> dict[int, tuple[Chunk, Document]]:
        if not len(rowids):
            return {}
        rows = self._rows(
            f"SELECT c.rowid, {_CHUNK_C}, d.title, d.metadata, d.groups, d.format,"
            " d.source_path, d.version FROM chunks c JOIN documents d ON d.id = c.doc_id"
            " WHERE c.rowid = ANY(%s)",
            [[int(r) for r in rowids]],
        )
        out = {}
        for r in rows:
            chunk = _chunk(r[1:9])
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
        return [(r[0], r[1] or "", r[2], _array(r[3])) for r in rows]

    def iter_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self._rows("SELECT rowid, embedding FROM chunks ORDER BY rowid")
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return rowids, np.zeros((0, 0), dtype=np.float32)
        return rowids, np.stack([_array(r[1]) for r in rows])

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
        key = (self.generation(), where.sql, *map(str, where.params))
        found = self._allowed.get(key)
        if found is None:
            rows = self._rows(_pg(ALLOWED_ROWIDS.format(where.sql)), where.params)
            found = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            found.setflags(write=False)
            if len(self._allowed) >= _ALLOWED_CACHE:
                self._allowed.pop(next(iter(self._allowed)))
            self._allowed[key] = found
        return found


_DOC = ("id, title, text, content_hash, source_path, format, metadata, groups, version,"
        " ingested_at")  # fmt: skip
_CHUNK = 'id, doc_id, text, start, "end", ordinal, section, n_tokens'
_CHUNK_C = 'c.id, c.doc_id, c.text, c.start, c."end", c.ordinal, c.section, c.n_tokens'


class Row(tuple):
    """A result row read by column name or index, like :class:`sqlite3.Row`."""

    names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self.names.index(key))
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: Any) -> Any:
    names = tuple(c.name for c in cursor.description or ())

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row.names = names
        return row

    return make


def _array(vector: Any) -> np.ndarray:
    """pgvector's value (a ``Vector``, or an array with older adapters) as float32."""
    values = vector.to_numpy() if hasattr(vector, "to_numpy") else vector
    return np.asarray(values, dtype=np.float32)


def _doc(r: Sequence[Any]) -> Document:
    return Document(id=r[0], title=r[1], text=r[2], content_hash=r[3], source_path=r[4] or "",
                    format=r[5] or "", metadata=json.loads(r[6]), groups=tuple(json.loads(r[7])),
                    version=r[8], ingested_at=r[9])  # fmt: skip


def _chunk(r: Sequence[Any]) -> Chunk:
    return Chunk(id=r[0], doc_id=r[1], text=r[2], start=r[3], end=r[4], ordinal=r[5],
                 section=r[6] or "", n_tokens=r[7] or 0)  # fmt: skip


stores.register("postgres")(PostgresStore)
_IS_A_STORE: type[Store] = PostgresStore  # the type checker verifies the protocol
