"""Storage: SQLite is the system of record; vector and BM25 indexes follow it."""
