"""Numbered schema migrations. Append new ones; never edit an applied one."""

from __future__ import annotations

import sqlite3

from ragtune.errors import RagtuneError

MIGRATIONS: list[str] = [
    # 1: documents, version history, chunks with vectors, FTS5 index, metadata for filters.
    """
    CREATE TABLE documents(
        id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL,
        content_hash TEXT NOT NULL, fingerprint TEXT NOT NULL, source_path TEXT,
        format TEXT, metadata TEXT NOT NULL, groups TEXT NOT NULL,
        version INTEGER NOT NULL, ingested_at TEXT NOT NULL);
    CREATE TABLE document_versions(
        doc_id TEXT NOT NULL, version INTEGER NOT NULL, content_hash TEXT NOT NULL,
        fingerprint TEXT NOT NULL, ingested_at TEXT NOT NULL, removed_at TEXT,
        n_chunks INTEGER NOT NULL, PRIMARY KEY(doc_id, version));
    CREATE TABLE chunks(
        rowid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
        section TEXT, text TEXT NOT NULL, n_tokens INTEGER, embedding BLOB NOT NULL);
    CREATE INDEX chunks_doc ON chunks(doc_id);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(title, section, text, tokenize='porter unicode61');
    CREATE TABLE doc_meta(
        doc_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, num REAL,
        PRIMARY KEY(doc_id, key, value));
    CREATE INDEX doc_meta_key ON doc_meta(key, value);
    CREATE TABLE doc_groups(doc_id TEXT NOT NULL, grp TEXT NOT NULL, PRIMARY KEY(doc_id, grp));
    CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 2: the service: API keys (hashed), the answers it gave, and feedback on them.
    """
    CREATE TABLE api_keys(
        id TEXT PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE,
        groups TEXT NOT NULL, admin INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, revoked_at TEXT);
    CREATE TABLE answers(
        id TEXT PRIMARY KEY, key_id TEXT, question TEXT NOT NULL, text TEXT NOT NULL,
        strategy TEXT NOT NULL, model TEXT NOT NULL, adapter TEXT NOT NULL,
        citations TEXT NOT NULL, doc_ids TEXT NOT NULL, restricted INTEGER NOT NULL,
        created_at TEXT NOT NULL);
    CREATE INDEX answers_key ON answers(key_id);
    CREATE TABLE feedback(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        answer_id TEXT NOT NULL REFERENCES answers(id) ON DELETE CASCADE, key_id TEXT,
        rating TEXT NOT NULL CHECK(rating IN ('up', 'down')), comment TEXT NOT NULL,
        created_at TEXT NOT NULL, UNIQUE(answer_id, key_id));
    """,
]


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations, each in its own transaction; returns the schema version."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > len(MIGRATIONS):
        raise RagtuneError(
            f"the store has schema version {current}, newer than this ragtune ({len(MIGRATIONS)})",
            "upgrade ragtune",
        )
    for number in range(current + 1, len(MIGRATIONS) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # executescript would COMMIT implicitly; run statements one by one instead.
            for statement in MIGRATIONS[number - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(MIGRATIONS)
