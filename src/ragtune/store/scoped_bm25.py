"""BM25 whose statistics come only from the chunks a caller may read.

FTS5's ``bm25()`` takes its row count, average length and document frequencies from the
whole table. For a caller restricted by groups that leaks: adding a restricted document full
of a word changes the scores the caller sees for that word, so scores could be used to test
whether a word occurs in documents the caller cannot read. This module computes the same
formula as FTS5 (``fts5_aux.c``: k1 = 1.2, b = 0.75, column weights, the same IDF floor)
from FTS5's own index — per-instance hits from an ``fts5vocab`` table, token counts from the
``docsize`` shadow table — restricted to the caller's rows. Over the whole table it gives
FTS5's scores (tested), so restricted and unrestricted callers rank alike.
"""

from __future__ import annotations

import heapq
import math
import sqlite3
from collections import defaultdict
from collections.abc import Sequence

from ragtune.store.base import WhereLike
from ragtune.store.fts5_terms import Fts5Terms

K1, B = 1.2, 0.75
IDF_FLOOR = 1e-6  # FTS5 replaces a non-positive IDF (terms in over half the rows) by this
_BATCH = 500  # SQLite's default limit is 999 host parameters; stay well under it
_CACHE = 16

ALLOWED_ROWIDS = (
    "SELECT c.rowid FROM chunks c WHERE c.doc_id IN (SELECT d.id FROM documents d WHERE {})"
)


def _varints(blob: bytes) -> list[int]:
    """SQLite varints (big-endian 7-bit groups): the per-column token counts in docsize."""
    out, value = [], 0
    for byte in blob:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            out.append(value)
            value = 0
    return out


class ScopedBM25:
    """``search(words, k, where, weights, generation)`` on one store connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._terms = Fts5Terms(conn)
        self._ready = False
        # (generation, where) -> (rows, tokens) of the caller's view; cheap to keep a few.
        self._totals: dict[tuple[object, ...], tuple[int, int]] = {}

    def _setup(self) -> None:
        if self._ready:
            return
        # TEMP objects live only on this connection: nothing is written to the store.
        self.conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_fts_hits"
            " USING fts5vocab(main, chunks_fts, instance)"
        )
        self._ready = True

    def terms(self, words: Sequence[str]) -> list[str]:
        """The index terms of ``words`` through the store's own tokenizer (porter stems)."""
        return self._terms.query_terms(words)

    def word_terms(self, words: Sequence[str]) -> list[str | tuple[str, ...]]:
        """Per word: its term, or the phrase of a word FTS5 splits (see Fts5Terms)."""
        return self._terms.word_terms(words)

    def _view(self, where: WhereLike, generation: int) -> tuple[int, int]:
        key = (generation, where.sql, *where.params)
        if key not in self._totals:
            rows = self.conn.execute(
                "SELECT sz FROM chunks_fts_docsize WHERE id IN"
                f" ({ALLOWED_ROWIDS.format(where.sql)})",
                where.params,
            ).fetchall()
            tokens = sum(sum(_varints(r[0])) for r in rows)
            if len(self._totals) >= _CACHE:
                self._totals.pop(next(iter(self._totals)))
            self._totals[key] = (len(rows), tokens)
        return self._totals[key]

    def _sizes(self, rowids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for at in range(0, len(rowids), _BATCH):
            part = list(rowids[at : at + _BATCH])
            marks = ",".join("?" * len(part))
            for rid, sz in self.conn.execute(
                f"SELECT id, sz FROM chunks_fts_docsize WHERE id IN ({marks})", part
            ):
                out[int(rid)] = sum(_varints(sz))
        return out

    def search(
        self,
        words: Sequence[str],
        k: int,
        where: WhereLike,
        weights: Sequence[float],
        generation: int,
    ) -> list[tuple[int, float]]:
        """(rowid, score) best first over the rows ``where`` allows, FTS5's formula."""
        self._setup()
        terms = self.terms(words)
        n_rows, n_tokens = self._view(where, generation)
        if not terms or not n_rows:
            return []
        avgdl = n_tokens / n_rows
        freq: dict[int, dict[str, float]] = defaultdict(dict)
        idf: dict[str, float] = {}
        sql = (
            "SELECT doc, col, COUNT(*) FROM temp.chunks_fts_hits WHERE term = ?"
            f" AND doc IN ({ALLOWED_ROWIDS.format(where.sql)}) GROUP BY doc, col"
        )
        columns = {"title": 0, "section": 1, "text": 2}
        for term in dict.fromkeys(terms):
            for doc, col, count in self.conn.execute(sql, [term, *where.params]):
                row = freq[int(doc)]
                row[term] = row.get(term, 0.0) + weights[columns[col]] * count
            hits = sum(1 for row in freq.values() if term in row)
            value = math.log((n_rows - hits + 0.5) / (hits + 0.5))
            idf[term] = value if value > 0 else IDF_FLOOR
        sizes = self._sizes(list(freq))
        scored = []
        for rowid, row in freq.items():
            norm = K1 * (1 - B + B * sizes.get(rowid, 0) / avgdl)
            score = sum(idf[t] * row[t] * (K1 + 1) / (row[t] + norm) for t in terms if t in row)
            scored.append((rowid, score))
        return heapq.nlargest(k, scored, key=lambda x: (x[1], -x[0]))
