"""What both store backends write and keep the same way: the rows of a document, its
metadata and groups, timestamps, BM25's column weights, and the per-generation cache of
allowed rowids."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from ragtune.store.base import WhereLike
from ragtune.types import Document

# Column weights for BM25: title, section, text. A chunk's text starts with its heading
# and every chunk of a document shares its title, so full weight on both counts the same
# words two or three times; half weight measured best on both Python FAQ variants.
BM25_WEIGHTS = (0.5, 0.5, 1.0)
ALLOWED_CACHE = 16  # filter conditions whose allowed rowids are kept (per generation)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def document_row(doc: Document, fingerprint: str, version: int, stamp: str) -> tuple[object, ...]:
    """The ``documents`` row, columns in :data:`DOCUMENT_COLUMNS` order."""
    return (
        doc.id, doc.title, doc.text, doc.content_hash, fingerprint, doc.source_path,
        doc.format, json.dumps(doc.metadata, sort_keys=True, default=str),
        json.dumps(sorted(doc.groups)), version, stamp,
    )  # fmt: skip


DOCUMENT_COLUMNS = ("id, title, text, content_hash, fingerprint, source_path, format, metadata,"
                    " groups, version, ingested_at")  # fmt: skip


def meta_rows(doc: Document) -> list[tuple[str, str, str, float | None]]:
    """(doc id, key, text value, number or None) per metadata value; a list gives a row per
    item, so ``tags = b`` matches ``tags: [a, b]``."""
    rows = []
    for key, value in doc.metadata.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is None:
                continue
            text = str(item)
            num = float(item) if isinstance(item, int | float) else as_number(text)
            rows.append((doc.id, key, text, num))
    return rows


class AllowedRowids:
    """The rowids a condition allows, kept per store generation for a few conditions: a
    service asks with the same few key groups again and again, and at 100k chunks the
    query costs more than the search it restricts."""

    def __init__(self) -> None:
        self._found: dict[tuple[object, ...], np.ndarray] = {}

    def get(self, generation: int, where: WhereLike,
            fetch: Callable[[], list[tuple[int]]]) -> np.ndarray:  # fmt: skip
        key = (generation, where.sql, *map(str, where.params))
        found = self._found.get(key)
        if found is None:
            rows = fetch()
            found = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            found.setflags(write=False)
            if len(self._found) >= ALLOWED_CACHE:
                self._found.pop(next(iter(self._found)))
            self._found[key] = found
        return found


# The metadata fields of the documents a condition allows (alias d, as filters compile).
METADATA_KEYS = (
    "SELECT DISTINCT m.key FROM doc_meta m JOIN documents d ON d.id = m.doc_id"
    " WHERE {} ORDER BY m.key"
)
