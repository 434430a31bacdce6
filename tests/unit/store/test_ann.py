"""The HNSW graph finds what exact search finds, follows the store, and is a safe cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ragtune.config import Settings
from ragtune.project import Project
from ragtune.retrieval.filters import Where, acl_where
from ragtune.store import ann
from ragtune.store.sqlite import SQLiteStore
from ragtune.store.vectors import DenseIndex
from ragtune.types import Chunk, Document

DIM = 32
PER_DOC = 40


def _vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    """Clustered unit vectors, as embeddings are (uniform noise would make every method
    look alike)."""
    centres = rng.normal(size=(8, DIM))
    v = centres[rng.integers(0, 8, n)] + 0.6 * rng.normal(size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _add(store: SQLiteStore, doc_id: str, vectors: np.ndarray, groups: tuple = ()) -> None:
    chunks = [Chunk(f"{doc_id}-{i}", doc_id, f"text {i}", 0, 6) for i in range(len(vectors))]
    store.upsert_document(Document(doc_id, doc_id, "t", doc_id, groups=groups), doc_id, chunks,
                          vectors)  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    rng = np.random.default_rng(7)
    s = SQLiteStore(tmp_path / "s.db")
    for d in range(30):  # d0-d14 restricted to a group, the rest public
        groups = ("staff",) if d < 15 else ()
        _add(s, f"d{d}", _vectors(rng, PER_DOC), groups)
    return s


def _queries(n: int = 40) -> np.ndarray:
    return _vectors(np.random.default_rng(99), n)


def _recall(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> float:
    return len({r for r, _ in got} & {r for r, _ in want}) / len(want)


def test_hnsw_finds_what_exact_search_finds(store: SQLiteStore, tmp_path: Path) -> None:
    index = DenseIndex(store, tmp_path / "index", method="hnsw")
    assert index.approximate and len(index) == 30 * PER_DOC
    recalls = []
    for q in _queries():
        got, want = index.search(q, 10), index.exact(q, 10)
        assert len(got) == 10
        scores = dict(want)
        for rowid, score in got:  # a found row carries its exact cosine
            if rowid in scores:
                assert score == pytest.approx(scores[rowid], abs=1e-5)
        recalls.append(_recall(got, want))
    assert np.mean(recalls) >= 0.95
    assert (tmp_path / "index" / "hnsw.faiss").is_file()


def test_auto_switches_at_the_configured_size(store: SQLiteStore, tmp_path: Path) -> None:
    assert not DenseIndex(store, tmp_path / "a", method="auto", ann_min_chunks=5000).approximate
    assert DenseIndex(store, tmp_path / "b", method="auto", ann_min_chunks=1000).approximate
    assert not DenseIndex(store, tmp_path / "c", method="exact").approximate
    with pytest.raises(ValueError, match="unknown dense search method"):
        DenseIndex(store, tmp_path / "d", method="ivf")


@pytest.mark.parametrize("narrow", [False, True])
def test_restricted_search_returns_k_allowed_hits(store: SQLiteStore, tmp_path: Path,
                                                  narrow: bool) -> None:  # fmt: skip
    index = DenseIndex(store, tmp_path / "index", method="hnsw")
    # public documents: half the rows (the graph, with a selector); one document: 3 % of the
    # rows, searched exactly
    where = Where("d.id = ?", ["d0"]) if narrow else acl_where([])
    allowed = store.allowed_rowids(where)
    assert len(allowed) == (PER_DOC if narrow else 15 * PER_DOC)
    for q in _queries(10):
        got = index.search(q, 30, allowed)
        assert len(got) == 30
        assert set(r for r, _ in got) <= set(allowed.tolist())
        want = index.exact(q, 30, allowed)
        if narrow:
            assert got == want
        else:
            assert _recall(got, want) >= 0.9


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the graphs built from nothing from now on."""
    sizes: list[int] = []
    real_build = ann.HnswGraph.build

    def counted(self: ann.HnswGraph, rowids: np.ndarray, matrix: np.ndarray) -> None:
        sizes.append(len(rowids))
        real_build(self, rowids, matrix)

    monkeypatch.setattr(ann.HnswGraph, "build", counted)
    return sizes


def test_follows_deletes_and_additions_without_rebuilding(store: SQLiteStore, tmp_path: Path,
                                                          builds: list[int]) -> None:  # fmt: skip
    index = DenseIndex(store, tmp_path / "index", method="hnsw")
    index.refresh()
    builds.clear()
    gone = {r for r, _ in index.search(_queries(1)[0], 200)}
    store.delete_document("d3")
    _add(store, "new", _vectors(np.random.default_rng(1), PER_DOC))
    index.refresh()
    assert builds == []  # appended and hidden, not rebuilt
    assert len(index) == 30 * PER_DOC
    deleted = set(range(3 * PER_DOC + 1, 4 * PER_DOC + 1))
    assert gone & deleted  # the query did reach d3's rows before
    new_rows = set(store.allowed_rowids(Where("d.id = ?", ["new"])).tolist())
    for q in _queries(20):
        got = {r for r, _ in index.search(q, 200)}
        assert not got & deleted
    assert any(new_rows & {r for r, _ in index.search(v, 5)} for v in _vectors(
        np.random.default_rng(1), PER_DOC)[:5])  # fmt: skip
    for d in range(4, 12):  # over a fifth of the graph removed: it is rebuilt
        store.delete_document(f"d{d}")
    index.search(_queries(1)[0], 5)
    assert builds == [22 * PER_DOC]


def test_a_saved_graph_is_reused_and_a_foreign_or_damaged_one_is_not(
    store: SQLiteStore, tmp_path: Path, builds: list[int]
) -> None:
    folder = tmp_path / "index"
    DenseIndex(store, folder, method="hnsw").refresh()
    builds.clear()
    q = _queries(1)[0]
    again = DenseIndex(store, folder, method="hnsw")
    assert again.search(q, 10) and builds == []
    # a store rebuilt beside the old cache: same rowids, other vectors -> rows re-added
    other = SQLiteStore(tmp_path / "other.db")
    rng = np.random.default_rng(3)
    for d in range(30):
        _add(other, f"d{d}", _vectors(rng, PER_DOC))
    foreign = DenseIndex(other, folder, method="hnsw")
    assert _recall(foreign.search(q, 10), foreign.exact(q, 10)) >= 0.8
    assert len(foreign) == 30 * PER_DOC
    (folder / "hnsw.faiss").write_bytes(b"not a graph")
    damaged = DenseIndex(store, folder, method="hnsw")
    assert len(damaged.search(q, 10)) == 10 and builds  # rebuilt


def test_a_worker_starts_from_the_projects_graph(store: SQLiteStore, tmp_path: Path) -> None:
    DenseIndex(store, tmp_path / "index", method="hnsw").refresh()
    worker = DenseIndex(store, tmp_path / "worker", method="hnsw", seed_dir=tmp_path / "index")
    q = _queries(1)[0]
    assert worker.search(q, 10) == DenseIndex(store, tmp_path / "index", method="hnsw").search(
        q, 10
    )
    assert (tmp_path / "worker" / "hnsw.faiss").is_file()


def test_project_builds_the_graph_at_ingest_and_searches_with_it(tmp_path: Path) -> None:
    settings = Settings.load(None, embedder={"name": "hash"},
                             retrieval={"dense_index": "hnsw"})  # fmt: skip
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(5):
        (docs / f"f{i}.md").write_text(f"# Topic {i}\n\nParagraph about topic {i} and more.\n")
    project = Project.init(tmp_path / "p", settings)
    project.ingest([docs])
    assert (tmp_path / "p" / ".ragtune" / "index" / "hnsw.faiss").is_file()
    hits = project.search("topic 3", mode="hybrid", k=3)
    assert hits and hits[0].chunk.doc_id.endswith("f3.md")
    assert project.dense_index.approximate


def test_the_candidate_list_grows_with_k_and_with_the_graph() -> None:
    ef_for = ann.ef_for
    assert ef_for(384, 10, 50_000) == 384  # the setting rules small searches
    assert ef_for(384, 50, 50_000) == ef_for(384, 50, 100_000) == 800
    assert ef_for(384, 50, 1_000_000) == 1600  # a tenfold larger graph: twice the list
    assert ef_for(384, 10, 1_000_000) == 384 and ef_for(2000, 50, 1_000_000) == 2000
    assert ef_for(1, 0, 0) == 1
