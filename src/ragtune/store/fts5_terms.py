"""FTS5's tokenizer (porter stemming over unicode61) as a function: the index terms of a
query or of chunk texts, on a connection's TEMP tables (nothing is written to a store).

Every backend ranks BM25 with these terms, so a PostgreSQL store scores exactly as SQLite's
FTS5 does; a store without FTS5 of its own tokenizes on an in-memory SQLite connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence

from ragtune.store.query_words import is_phrase

TOKENIZE = "porter unicode61"


class Fts5Terms:
    def __init__(self, conn: sqlite3.Connection | None = None) -> None:
        self.conn = conn if conn is not None else sqlite3.connect(":memory:")
        self._query_ready = self._rows_ready = False

    def query_terms(self, words: Sequence[str]) -> list[str]:
        """The index terms of ``words``, in order, repeats kept (FTS5 scores each OR-ed
        phrase, so a repeated word counts twice)."""
        conn = self.conn
        if not self._query_ready:
            conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_tokens"
                f" USING fts5(q, tokenize='{TOKENIZE}')"
            )
            conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_tokens_v"
                " USING fts5vocab(temp, query_tokens, instance)"
            )
            self._query_ready = True
        conn.execute("DELETE FROM temp.query_tokens")
        conn.execute("INSERT INTO temp.query_tokens(q) VALUES (?)", (" ".join(words),))
        terms = [r[0] for r in conn.execute("SELECT term FROM temp.query_tokens_v ORDER BY offset")]
        conn.execute("DELETE FROM temp.query_tokens")
        return terms

    def word_terms(self, words: Sequence[str]) -> list[str | tuple[str, ...]]:
        """The terms of each query word as FTS5 matches it: one term, or for a word it
        splits into several ("py_buildvalue" -> "py", "buildvalu") that phrase, as a tuple."""
        out: list[str | tuple[str, ...]] = []
        plain = [w for w in words if not is_phrase(w)]
        out.extend(self.query_terms(plain) if plain else [])
        for word in words:
            if is_phrase(word):
                tokens = tuple(self.query_terms([word]))
                if len(tokens) > 1:
                    out.append(tokens)
                elif tokens:
                    out.append(tokens[0])
        return out

    def row_terms(
        self, rows: Iterable[tuple[int, str, str, str]], offsets: bool = False
    ) -> list[tuple[int, str, str, int]]:
        """(rowid, term, column, count) of (rowid, title, section, text) rows; with
        ``offsets``, one (rowid, term, column, offset) per token instead."""
        sql = "INSERT INTO temp.row_tokens(rowid, title, section, text) VALUES (?,?,?,?)"
        return self._tokens(lambda: self.conn.executemany(sql, rows), offsets)

    def stored_row_terms(
        self, rowids: Iterable[int], offsets: bool = False
    ) -> list[tuple[int, str, str, int]]:
        """As :meth:`row_terms`, for rows of this connection's own ``chunks_fts`` (the
        SQLite store): copied inside SQLite, the texts never travel through Python."""
        conn = self.conn

        def fill() -> None:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS row_ids(id INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM temp.row_ids")
            conn.executemany("INSERT INTO temp.row_ids(id) VALUES (?)", ((int(r),) for r in rowids))
            conn.execute(
                "INSERT INTO temp.row_tokens(rowid, title, section, text) SELECT rowid, title,"
                " section, text FROM main.chunks_fts WHERE rowid IN (SELECT id FROM temp.row_ids)"
            )
            conn.execute("DELETE FROM temp.row_ids")

        return self._tokens(fill, offsets)

    def _tokens(self, fill: Callable[[], object], offsets: bool) -> list[tuple[int, str, str, int]]:
        conn = self.conn
        if not self._rows_ready:
            conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.row_tokens"
                f" USING fts5(title, section, text, tokenize='{TOKENIZE}')"
            )
            conn.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.row_tokens_v"
                " USING fts5vocab(temp, row_tokens, instance)"
            )
            self._rows_ready = True
        conn.execute("DELETE FROM temp.row_tokens")
        fill()
        found = conn.execute(
            "SELECT doc, term, col, offset FROM temp.row_tokens_v"
            if offsets
            else "SELECT doc, term, col, COUNT(*) FROM temp.row_tokens_v GROUP BY doc, term, col"
        ).fetchall()
        conn.execute("DELETE FROM temp.row_tokens")
        return [(int(d), str(t), str(c), int(n)) for d, t, c, n in found]
