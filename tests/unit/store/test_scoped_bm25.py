"""BM25 and evidence statistics from the caller's own documents only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ragtune.retrieval.filters import Where, acl_where
from ragtune.store.sqlite import SQLiteStore
from ragtune.types import Chunk, Document

TEXTS = {
    "a": ("Leave policy", "Vacation days are 25 per year; unused vacation days carry over."),
    "b": ("Expenses", "Travel expenses are refunded within 30 days of the trip."),
    "c": ("Security", "Badges open the office doors. Lost badges cost 20 euros."),
    "d": ("Vacation planning", "Plan vacation early: vacation requests need two weeks."),
}


def _add(store: SQLiteStore, doc_id: str, title: str, text: str, groups: tuple = ()) -> None:
    doc = Document(doc_id, title, text, doc_id, groups=groups)
    halves = [text[: len(text) // 2], text[len(text) // 2 :]]
    chunks = [
        Chunk(f"{doc_id}-{i}", doc_id, t, 0, len(t), section=f"{title} part {i}")
        for i, t in enumerate(halves)
    ]
    store.upsert_document(doc, doc_id, chunks, np.ones((2, 4), dtype=np.float32))


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "s.db")
    for doc_id, (title, text) in TEXTS.items():
        _add(s, doc_id, title, text)
    return s


@pytest.mark.parametrize("query", ["vacation days", "badges office", "expenses trip days"])
def test_over_every_row_it_gives_fts5s_own_scores(store: SQLiteStore, query: str) -> None:
    fts5 = store.bm25_search(query, 10, None)
    scoped = store.bm25_search(query, 10, Where("1=1"))
    assert fts5, "the query should match"
    assert [r for r, _ in scoped] == [r for r, _ in fts5]
    assert np.allclose([s for _, s in scoped], [s for _, s in fts5], rtol=1e-9)


def test_restricted_documents_do_not_move_a_callers_scores(store: SQLiteStore) -> None:
    public = acl_where([])
    assert public is not None
    before = store.bm25_search("vacation days", 10, public)
    counts = store.term_chunk_counts(["vacation", "days"], public)
    n = store.count_chunks(public)
    text = "vacation days vacation days vacation " * 20
    _add(store, "secret", "Vacation days", text, groups=("hr",))
    assert store.bm25_search("vacation days", 10, public) == before
    assert store.term_chunk_counts(["vacation", "days"], public) == counts
    assert store.count_chunks(public) == n
    # Control: the unrestricted scores do move, so the test can see a change.
    assert store.bm25_search("vacation days", 10, None)[0][1] != before[0][1]
    hr = acl_where(["hr"])
    assert hr is not None and store.count_chunks(hr) == n + 2


def test_filtered_search_still_finds_only_allowed_rows(store: SQLiteStore) -> None:
    _add(store, "secret", "Vacation days", "vacation days " * 10, groups=("hr",))
    public = acl_where([])
    assert public is not None
    ids = {
        store.chunks_by_rowid([r])[r][0].doc_id
        for r, _ in store.bm25_search("vacation", 50, public)
    }
    assert ids == {"a", "d"}
    assert store.bm25_search("zzzunknown", 5, public) == []
