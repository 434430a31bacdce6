"""SQLite rows (read by column name) as the data model's Document and Chunk.

PostgreSQL's rows come back as tuples and have their own converters in postgres_schema.py.
"""

from __future__ import annotations

import json
import sqlite3

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
