"""The in-memory BM25 index ranks as FTS5 and the scoped BM25 do, and follows the store."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import EXAMPLES
from tests.unit.store.test_scoped_bm25 import TEXTS, _add

from ragtune.config import Settings
from ragtune.project import Project
from ragtune.retrieval.filters import Where, acl_where
from ragtune.store.bm25_index import BM25Index
from ragtune.store.sqlite import SQLiteStore


def same_ranking(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> None:
    """Equal scores in the same order; rows may swap only where their scores tie."""
    assert len(got) == len(want)
    assert np.allclose([s for _, s in got], [s for _, s in want], rtol=1e-9, atol=1e-12)
    for (r1, s1), (r2, s2) in zip(got, want, strict=True):
        if r1 != r2:  # a tie: FTS5 leaves their order open
            assert s1 == pytest.approx(s2, rel=1e-9)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[SQLiteStore, SQLiteStore]:
    """The same database through the index and through FTS5 / the scoped SQL path."""
    indexed = SQLiteStore(tmp_path / "s.db")
    for doc_id, (title, text) in TEXTS.items():
        _add(indexed, doc_id, title, text)
    yield indexed, SQLiteStore(tmp_path / "s.db", bm25_index=False)


@pytest.mark.parametrize("query", ["vacation days", "badges office", "expenses trip days", "x"])
def test_ranks_as_fts5_and_the_scoped_path(pair: tuple[SQLiteStore, SQLiteStore], query: str):
    indexed, plain = pair
    same_ranking(indexed.bm25_search(query, 10, None), plain.bm25_search(query, 10, None))
    public = acl_where([])
    same_ranking(indexed.bm25_search(query, 10, public), plain.bm25_search(query, 10, public))


def test_a_word_fts5_splits_is_matched_as_its_phrase(pair: tuple[SQLiteStore, SQLiteStore]):
    indexed, plain = pair
    _add(indexed, "p", "Loading", "Call lua_load to read a chunk; lua_load reads it whole.")
    _add(indexed, "q", "Lua", "Lua is small. To load a file, Lua reads it; load load load.")
    got = indexed.bm25_search("how does lua_load work", 10, None)
    same_ranking(got, plain.bm25_search("how does lua_load work", 10, None))
    assert {indexed.chunks_by_rowid([r])[r][0].doc_id for r, _ in got} == {"p"}  # adjacent only


def test_follows_updates_deletes_and_acl(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    indexed, plain = pair
    queries = ["vacation days", "badges", "travel refunded"]
    public = acl_where([])
    for q in queries:
        indexed.bm25_search(q, 5, None)  # built at this generation
        indexed.bm25_search(q, 5, public)  # and the public rows kept for it
    before = set(indexed.allowed_rowids(public).tolist())
    _add(indexed, "secret", "Vacation days", "vacation days vacation " * 10, groups=("hr",))
    _add(indexed, "b", "Expenses", "Travel is refunded in 10 days; badges are not.")
    assert indexed.delete_document("c")
    after = set(indexed.allowed_rowids(public).tolist())
    assert after != before and after == set(plain.allowed_rowids(public).tolist())
    for q in queries:
        for where in (None, public, acl_where(["hr"]), Where("1=1")):
            same_ranking(indexed.bm25_search(q, 10, where), plain.bm25_search(q, 10, where))
    found = {indexed.chunks_by_rowid([r])[r][0].doc_id for r, _ in indexed.bm25_search(
        "vacation", 50, public)}  # fmt: skip
    assert found == {"a", "d"}


def test_a_new_process_loads_the_cache_and_tokenizes_only_new_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    for doc_id, (title, text) in TEXTS.items():
        _add(store, doc_id, title, text)
    first = store.bm25_search("vacation days", 10, None)
    store.close()
    assert (tmp_path / "index" / "bm25.npz").exists()
    tokenized: list[int] = []
    real = BM25Index._tokenize

    def counting(self: BM25Index, rowids: np.ndarray) -> list:
        tokenized.extend(rowids.tolist())
        return real(self, rowids)

    monkeypatch.setattr(BM25Index, "_tokenize", counting)
    written = (tmp_path / "index" / "bm25.npz").stat().st_mtime_ns
    again = SQLiteStore(tmp_path / "s.db")
    assert again.bm25_search("vacation days", 10, None) == first and tokenized == []
    assert (tmp_path / "index" / "bm25.npz").stat().st_mtime_ns == written  # not rewritten
    _add(again, "e", "Parking", "Parking permits for vacation days are free.")
    assert len(again.bm25_search("vacation parking", 10, None)) > 0
    assert len(tokenized) == 2  # the new document's two chunks, nothing else


def test_a_cache_from_another_store_or_damaged_is_not_trusted(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    for doc_id, (title, text) in TEXTS.items():
        _add(store, doc_id, title, text)
    store.bm25_search("vacation", 10, None)
    store.close()
    for name in ("s.db", "s.db-wal", "s.db-shm"):  # a new store: the same rowids again
        (tmp_path / name).unlink(missing_ok=True)
    fresh = SQLiteStore(tmp_path / "s.db")
    _add(fresh, "z", "Zebras", "Zebra crossings are painted white.")
    plain = SQLiteStore(tmp_path / "s.db", bm25_index=False)
    assert fresh.bm25_search("vacation", 10, None) == []
    same_ranking(fresh.bm25_search("zebra", 5, None), plain.bm25_search("zebra", 5, None))
    fresh.close()
    (tmp_path / "index" / "bm25.npz").write_bytes(b"not a zip file")
    damaged = SQLiteStore(tmp_path / "s.db")
    same_ranking(damaged.bm25_search("zebra", 5, None), plain.bm25_search("zebra", 5, None))


@pytest.mark.slow
def test_the_sample_ranks_as_fts5_for_every_eval_question(tmp_path: Path) -> None:
    """The bundled sample (39 files, every format) and its 60 evaluation questions."""
    settings = Settings.load(None, embedder={"name": "hash"})
    project = Project.init(tmp_path / "p", settings)
    project.ingest([EXAMPLES / "docs"])
    plain = SQLiteStore(project.db_path, bm25_index=False)
    questions = [json.loads(line)["question"] for line in (EXAMPLES / "eval.jsonl").open()]
    hr = acl_where(["hr"])
    assert sum(bool(plain.bm25_search(q, 20, None)) for q in questions) > 50  # not vacuous
    for q in questions:
        same_ranking(project.store.bm25_search(q, 20, None), plain.bm25_search(q, 20, None))
        same_ranking(project.store.bm25_search(q, 20, hr), plain.bm25_search(q, 20, hr))
    project.close()


def test_stores_in_threads_share_one_cache_file_safely(tmp_path: Path) -> None:
    """The service gives each worker thread its own store of one project: their index
    files go through their own temporary names, so the file left is always whole."""
    first = SQLiteStore(tmp_path / "s.db")
    for doc_id, (title, text) in TEXTS.items():
        _add(first, doc_id, title, text)
    first.close()

    def build(n: int) -> list[tuple[int, float]]:
        store = SQLiteStore(tmp_path / "s.db")
        try:
            for i in range(4):
                _add(store, f"t{n}-{i}", "Threads", f"vacation thread {n} round {i}")
                store.bm25_search("vacation", 5, None)
            return store.bm25_search("vacation", 50, None)
        finally:
            store.close()

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(build, range(3)))
    assert not list((tmp_path / "index").glob(".*.tmp"))
    again, plain = SQLiteStore(tmp_path / "s.db"), SQLiteStore(tmp_path / "s.db", bm25_index=False)
    same_ranking(again.bm25_search("vacation", 50, None), plain.bm25_search("vacation", 50, None))


def test_ingest_leaves_the_index_current(hash_project: Project, tmp_path: Path) -> None:
    """The index is brought up to date by the ingest, so the first search pays nothing."""
    cache = hash_project.state_dir / "index" / "bm25.npz"
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.md").write_text("# Alpha\n\nThe alpha vault opens at nine.\n")
    hash_project.ingest([tmp_path / "d"])
    assert cache.exists()
    store = hash_project.store
    assert store._bm25 is not None and len(store._bm25) == store.count_chunks()
    stamp = cache.stat().st_mtime_ns
    hash_project.ingest([tmp_path / "d"])  # nothing changed: nothing rebuilt
    assert cache.stat().st_mtime_ns == stamp
    (tmp_path / "d" / "a.md").unlink()
    hash_project.ingest([tmp_path / "d"], sync=True)
    assert len(store._bm25) == 0 and hash_project.search("alpha", mode="bm25") == []
