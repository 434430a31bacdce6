"""The data model in and out of SQLite rows: rows (read by column name) as Document and
Chunk, and a document's rows written or deleted in its tables (inside the caller's
transaction).

PostgreSQL's rows come back as tuples and have their own converters in postgres_schema.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

import numpy as np

from ragtune.store.records import meta_rows
from ragtune.types import Chunk, Document


def document_from_row(row: sqlite3.Row) -> Document:
    return Document(
        id=row["id"], title=row["title"], text=row["text"], content_hash=row["content_hash"],
        source_path=row["source_path"] or "", format=row["format"] or "",
        metadata=json.loads(row["metadata"]), groups=tuple(json.loads(row["groups"])),
        version=row["version"], ingested_at=row["ingested_at"],
    )  # fmt: skip


def chunk_from_row(row: sqlite3.Row) -> Chunk:
    return Chunk(
        id=row["id"], doc_id=row["doc_id"], text=row["text"], start=row["start"],
        end=row["end"], ordinal=row["ordinal"], section=row["section"] or "",
        n_tokens=row["n_tokens"] or 0,
    )  # fmt: skip


def insert_meta(conn: sqlite3.Connection, doc: Document) -> None:
    """The document's metadata and access groups, as the rows filters and the ACL query."""
    conn.executemany(
        "INSERT OR IGNORE INTO doc_meta(doc_id, key, value, num) VALUES(?,?,?,?)",
        meta_rows(doc),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO doc_groups(doc_id, grp) VALUES(?,?)",
        [(doc.id, g) for g in doc.groups],
    )


def insert_chunks(
    conn: sqlite3.Connection, doc: Document, chunks: Sequence[Chunk], vectors: np.ndarray
) -> None:
    """Each chunk with its vector, and its FTS5 row (title, section, text) under the same rowid."""
    for chunk, vector in zip(chunks, vectors, strict=True):
        cur = conn.execute(
            "INSERT INTO chunks(id, doc_id, ordinal, start, end, section, text, n_tokens,"
            " embedding) VALUES(?,?,?,?,?,?,?,?,?)",
            (
                chunk.id, chunk.doc_id, chunk.ordinal, chunk.start, chunk.end,
                chunk.section, chunk.text, chunk.n_tokens, vector.tobytes(),
            ),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO chunks_fts(rowid, title, section, text) VALUES(?,?,?,?)",
            (cur.lastrowid, doc.title, chunk.section, chunk.text),
        )


def delete_rows(conn: sqlite3.Connection, doc_id: str) -> bool:
    """A document's rows in every table but its version history; False if it had none."""
    conn.execute(
        "DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE doc_id=?)",
        (doc_id,),
    )
    conn.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
    conn.execute("DELETE FROM doc_meta WHERE doc_id=?", (doc_id,))
    conn.execute("DELETE FROM doc_groups WHERE doc_id=?", (doc_id,))
    return conn.execute("DELETE FROM documents WHERE id=?", (doc_id,)).rowcount > 0
