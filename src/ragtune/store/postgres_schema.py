"""PostgreSQL's side of the store: its schema (the SQLite store's tables, in PostgreSQL
types) and how its rows become ragtune's types. Used by :mod:`ragtune.store.postgres`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

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


def pg_sql(sql: str) -> str:
    """Compiled filter SQL (``?`` placeholders, no literals) in psycopg's style."""
    return sql.replace("%", "%%").replace("?", "%s")


DOC_SELECT = ("id, title, text, content_hash, source_path, format, metadata, groups, version,"
        " ingested_at")  # fmt: skip
CHUNK_SELECT = 'id, doc_id, text, start, "end", ordinal, section, n_tokens'
CHUNK_SELECT_C = 'c.id, c.doc_id, c.text, c.start, c."end", c.ordinal, c.section, c.n_tokens'


class Row(tuple):
    """A result row read by column name or index, like :class:`sqlite3.Row`."""

    names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self.names.index(key))
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self.names)


def row_factory(cursor: Any) -> Any:
    names = tuple(c.name for c in cursor.description or ())

    def make(values: Sequence[Any]) -> Row:
        row = Row(values)
        row.names = names
        return row

    return make


def to_array(vector: Any) -> np.ndarray:
    """pgvector's value (a ``Vector``, or an array with older adapters) as float32."""
    values = vector.to_numpy() if hasattr(vector, "to_numpy") else vector
    return np.asarray(values, dtype=np.float32)


def to_document(r: Sequence[Any]) -> Document:
    return Document(id=r[0], title=r[1], text=r[2], content_hash=r[3], source_path=r[4] or "",
                    format=r[5] or "", metadata=json.loads(r[6]), groups=tuple(json.loads(r[7])),
                    version=r[8], ingested_at=r[9])  # fmt: skip


def to_chunk(r: Sequence[Any]) -> Chunk:
    return Chunk(id=r[0], doc_id=r[1], text=r[2], start=r[3], end=r[4], ordinal=r[5],
                 section=r[6] or "", n_tokens=r[7] or 0)  # fmt: skip
