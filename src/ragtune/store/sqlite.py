"""SQLite (WAL) store: documents, version history, chunks, vectors, FTS5 BM25 index.

Everything about one document changes in one transaction, so a crash (even SIGKILL) leaves
each document either fully present in its old state or fully in its new one.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
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
from ragtune.store.migrations import migrate
from ragtune.store.query_words import fts_query, query_words
from ragtune.store.records import (
    BM25_WEIGHTS,
    DOCUMENT_COLUMNS,
    METADATA_KEYS,
    AllowedRowids,
    document_row,
    now_iso,
)
from ragtune.store.scoped_bm25 import ALLOWED_ROWIDS, ScopedBM25
from ragtune.store.sqlite_rows import (
    chunk_from_row,
    delete_rows,
    document_from_row,
    insert_chunks,
    insert_meta,
)
from ragtune.types import Chunk, Document

_WEIGHTS = BM25_WEIGHTS
_BM25_WEIGHTS = ", ".join(map(str, _WEIGHTS))


class SQLiteStore(SharedQueries):
    """The system of record. One connection per instance; not shared across threads."""

    def __init__(self, path: Path, bm25_index: bool = True) -> None:
        """``bm25_index``: rank BM25 queries from the in-memory index (FTS5's scores, far
        faster on large stores; :mod:`ragtune.store.bm25_index`) instead of FTS5 itself."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            migrate(self.conn)
            # An identity for derived caches: a store rebuilt beside an old index folder
            # restarts its generation count, and must not inherit the old vectors.
            self.conn.execute(
                "INSERT OR IGNORE INTO state(key, value) VALUES('store_id', ?)",
                (uuid.uuid4().hex,),
            )
            self._scoped = ScopedBM25(self.conn)
            self._allowed = AllowedRowids()
            cache = self.path.parent / "index" / "bm25.npz"
            self._bm25 = BM25Index(self.conn, _WEIGHTS, cache) if bm25_index else None
        except sqlite3.DatabaseError as exc:
            raise RagtuneError(
                f"cannot open the store {self.path}: {exc}",
                "restore it from a backup or delete .ragtune/ and ingest again",
            ) from None

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Several reads that must see one state of the store. In autocommit mode each
        statement sees the latest commit, so an ingest committing between two of them (another
        process, WAL) mixes states: a term then occurs in more rows than the row count read
        a moment before (a negative BM25 IDF, a crash in math.log). A deferred read
        transaction pins one snapshot and blocks no writer."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def capabilities(self) -> dict[str, Any]:
        """What this backend does and how (the same keys on every backend)."""
        return {
            "backend": "sqlite",
            "location": str(self.path),
            "shared_by": "processes on one machine (WAL; one writer at a time)",
            "keyword": "BM25, FTS5 terms and formula (in-memory index)"
            if self._bm25 is not None
            else "BM25, FTS5 bm25() and the scoped SQL BM25",
            "dense": "in-process: exact, or a faiss HNSW graph (retrieval.dense_index)",
            "filters_acl": "inside each retriever's query",
            "atomic_per_document": True,
        }

    # -- plain SQL for the service's tables (keys, answers, feedback) --------------------
    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Rows of ``sql`` (``?`` placeholders, SQL both backends accept)."""
        return self.conn.execute(sql, list(params)).fetchall()

    def execute(self, sql: str, params: Sequence[object] = ()) -> int:
        return int(self.conn.execute(sql, list(params)).rowcount)

    def execute_many(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        self.conn.executemany(sql, rows)

    # -- state -------------------------------------------------------------------------
    def get_state(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM state WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_state(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO state(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def generation(self) -> int:
        """Bumped on every change to chunks, so derived indexes know when they are stale."""
        return int(self.get_state("generation") or 0)

    def _bump_generation(self) -> None:
        self._set_state("generation", str(self.generation() + 1))

    def check_embedder(self, name: str, dim: int) -> None:
        """Refuse to mix vectors of two embedders in one store."""
        stored = self.get_state("embedder")
        wanted = f"{name}:{dim}"
        if stored is None:
            with self.transaction():
                self._set_state("embedder", wanted)
        elif stored != wanted:
            raise RagtuneError(
                f"this store was embedded with {stored}, but the embedder is now {wanted}",
                "set embedder.name back, or delete .ragtune/ and ingest again",
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
            row = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM document_versions WHERE doc_id=?",
                (doc.id,),
            ).fetchone()
            version = int(row[0]) + 1
            delete_rows(conn, doc.id)
            stamp = now_iso()
            conn.execute(
                f"INSERT INTO documents({DOCUMENT_COLUMNS}) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                document_row(doc, fingerprint, version, stamp),
            )
            conn.execute(
                "INSERT INTO document_versions(doc_id, version, content_hash, fingerprint,"
                " ingested_at, n_chunks) VALUES(?,?,?,?,?,?)",
                (doc.id, version, doc.content_hash, fingerprint, stamp, len(chunks)),
            )
            insert_meta(conn, doc)
            insert_chunks(conn, doc, chunks, vectors)
            self._bump_generation()
        return version

    def delete_document(self, doc_id: str) -> bool:
        """Remove a document and its chunks; its version history records the removal."""
        with self.transaction() as conn:
            existed = delete_rows(conn, doc_id)
            if existed:
                conn.execute(
                    "UPDATE document_versions SET removed_at=? WHERE doc_id=? AND version="
                    "(SELECT MAX(version) FROM document_versions WHERE doc_id=?)",
                    (now_iso(), doc_id, doc_id),
                )
                self._bump_generation()
        return existed

    # -- reads -------------------------------------------------------------------------
    def get_fingerprint(self, doc_id: str) -> str | None:
        row = self.conn.execute(
            "SELECT fingerprint FROM documents WHERE id=?", (doc_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def get_groups(self, doc_id: str) -> tuple[str, ...] | None:
        """A stored document's access groups (``()``: public); None when it is not stored."""
        row = self.conn.execute("SELECT groups FROM documents WHERE id=?", (doc_id,)).fetchone()
        return None if row is None else tuple(json.loads(row[0]))

    def document_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM documents ORDER BY id")]

    def get_document(self, doc_id: str) -> Document:
        row = self.conn.execute("SELECT * FROM documents WHERE id=?", (doc_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no document with id {doc_id!r}", "see `ragtune docs list`")
        return document_from_row(row)

    def list_documents(self) -> list[Document]:
        rows = self.conn.execute("SELECT * FROM documents ORDER BY id").fetchall()
        return [document_from_row(r) for r in rows]

    def versions(self, doc_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT version, content_hash, ingested_at, removed_at, n_chunks"
            " FROM document_versions WHERE doc_id=? ORDER BY version",
            (doc_id,),
        ).fetchall()
        return [dict(r) for r in rows]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        rows = self.conn.execute(
            "SELECT * FROM chunks WHERE doc_id=? ORDER BY ordinal", (doc_id,)
        ).fetchall()
        return [chunk_from_row(r) for r in rows]

    def count_chunks(self, where: Where | None = None) -> int:
        """All chunks, or those of the documents ``where`` allows."""
        if where is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
        sql = f"SELECT COUNT(*) FROM ({ALLOWED_ROWIDS.format(where.sql)})"
        return int(self.conn.execute(sql, where.params).fetchone()[0])

    def term_chunk_counts(self, terms: Sequence[str], where: Where | None = None) -> dict[str, int]:
        """How many chunks (of those ``where`` allows) contain each term (FTS5 applies the
        same stemming as search); the document frequencies behind IDF-weighted evidence."""
        scope, params = "", []
        if where is not None:  # "+rowid": see allowed rows in bm25 for why
            scope, params = f" AND +rowid IN ({ALLOWED_ROWIDS.format(where.sql)})", where.params
        out: dict[str, int] = {}
        for term in dict.fromkeys(terms):
            phrase = '"' + term.replace('"', "") + '"'
            row = self.conn.execute(
                f"SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?{scope}",
                [phrase, *params],
            ).fetchone()
            out[term] = int(row[0])
        return out

    def metadata_keys(self, where: Where | None = None) -> list[str]:
        """Metadata fields of every document, or of those ``where`` allows."""
        if where is None:
            return [
                r[0] for r in self.conn.execute("SELECT DISTINCT key FROM doc_meta ORDER BY key")
            ]
        rows = self.conn.execute(METADATA_KEYS.format(where.sql), where.params)
        return [r[0] for r in rows]

    def chunks_by_rowid(self, rowids: Sequence[int]) -> dict[int, tuple[Chunk, Document]]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        rows = self.conn.execute(
            f"SELECT c.rowid AS rid, c.*, d.title AS d_title, d.metadata AS d_metadata,"
            f" d.groups AS d_groups, d.format AS d_format, d.source_path AS d_source,"
            f" d.version AS d_version FROM chunks c JOIN documents d ON d.id = c.doc_id"
            f" WHERE c.rowid IN ({marks})",
            list(rowids),
        ).fetchall()
        out = {}
        for r in rows:
            doc = Document(
                id=r["doc_id"], title=r["d_title"], text="", content_hash="",
                source_path=r["d_source"], format=r["d_format"],
                metadata=json.loads(r["d_metadata"]), groups=tuple(json.loads(r["d_groups"])),
                version=r["d_version"],
            )  # fmt: skip
            out[int(r["rid"])] = (chunk_from_row(r), doc)
        return out

    def stored_vectors(self, doc_id: str) -> list[tuple[str, str, str, np.ndarray]]:
        """(document title, section, text, vector) of each stored chunk of ``doc_id``: what
        an update of the document needs to keep the vectors of chunks it did not change."""
        rows = self.conn.execute(
            "SELECT d.title, c.section, c.text, c.embedding FROM chunks c"
            " JOIN documents d ON d.id = c.doc_id WHERE c.doc_id=? ORDER BY c.ordinal",
            (doc_id,),
        ).fetchall()
        return [(r[0], r[1] or "", r[2], np.frombuffer(r[3], dtype=np.float32)) for r in rows]

    def iter_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """All (rowids, vectors) in rowid order; the dense index caches this."""
        rows = self.conn.execute("SELECT rowid, embedding FROM chunks ORDER BY rowid").fetchall()
        rowids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return rowids, np.zeros((0, 0), dtype=np.float32)
        matrix = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        return rowids, matrix

    # -- search primitives -------------------------------------------------------------
    def refresh_bm25(self) -> None:
        """Bring the BM25 index (when used) up to the stored chunks and save it."""
        if self._bm25 is not None:
            with self._snapshot():
                self._bm25.refresh(self.generation())

    def bm25_search(self, query: str, k: int, where: Where | None) -> list[tuple[int, float]]:
        """(rowid, score) best first. With ``where``, the statistics (row count, lengths,
        document frequencies) are those of the allowed rows only: a caller's scores never
        depend on documents it may not read (:mod:`ragtune.store.scoped_bm25`)."""
        words = query_words(query)
        if self._bm25 is not None:
            if not words:
                return []
            with self._snapshot():
                self._bm25.refresh(self.generation())
                allowed = self.allowed_rowids(where) if where is not None else None
                # a word FTS5 splits ("py_buildvalue") is matched as its phrase, as FTS5 does
                terms = self._scoped.word_terms(words)
                return self._bm25.search(terms, k, allowed)
        if where is not None:
            with self._snapshot():
                return self._scoped.search(words, k, where, _WEIGHTS, self.generation())
        match = fts_query(query)
        if not match:
            return []
        sql = (
            f"SELECT rowid, -bm25(chunks_fts, {_BM25_WEIGHTS}) AS s FROM chunks_fts"
            f" WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts, {_BM25_WEIGHTS}) LIMIT ?"
        )
        return [(int(r[0]), float(r[1])) for r in self.conn.execute(sql, [match, k])]

    def allowed_rowids(self, where: Where) -> np.ndarray:
        """The rowids ``where`` allows (cached per generation: :class:`AllowedRowids`)."""
        sql = ALLOWED_ROWIDS.format(where.sql)
        return self._allowed.get(
            self.generation(), where, lambda: self.conn.execute(sql, where.params).fetchall()
        )

    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])


stores.register("sqlite")(SQLiteStore)
_IS_A_STORE: type[Store] = SQLiteStore  # the type checker verifies the protocol
