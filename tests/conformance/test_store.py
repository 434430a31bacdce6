"""One contract, every store backend: SQLite and PostgreSQL + pgvector (a real server).

Writes are atomic per document and versioned; filters and the ACL select the same rows;
BM25 gives the same scores and dense search the same neighbours on both backends, so a
pilot on either compares strategies, not stores.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.conformance.conftest import Backend

from ragtune.errors import NotFoundError
from ragtune.retrieval.filters import acl_where, compile_filter, parse_filter
from ragtune.store.base import SearchRequest
from ragtune.types import Chunk, Document

DIM = 16
TEXTS = {
    "hr-leave": ("Leave policy", "Vacation days accrue monthly. Unused vacation days expire.",
                 ("hr",), {"department": "hr", "year": 2024, "effective": "2025-06-01"}),
    "hr-badge": ("Badges", "Lost badges are replaced at the front office within two days.",
                 ("hr", "security"), {"department": "hr", "year": 2023, "tags": ["a", "b"]}),
    "fin-travel": ("Travel", "Travel expenses are refunded within ten days of the trip.",
                   (), {"department": "finance", "year": 2025, "effective": "2024-01-15"}),
    "fin-cards": ("Cards", "Company cards cover travel, meals and lodging on trips. Call "
                  "py_buildvalue to build the value; a py value alone is not it.",
                  ("finance",), {"department": "finance", "owner": "ana"}),
    "public-faq": ("FAQ", "How many vacation days do I get? Twenty vacation days a year.",
                   (), {"doc_type": "faq"}),
}  # fmt: skip


def _vector(seed: str) -> np.ndarray:
    v = np.random.default_rng(abs(hash(seed)) % 2**32).normal(size=DIM)
    return (v / np.linalg.norm(v)).astype(np.float32)


def _doc(doc_id: str, text: str | None = None) -> tuple[Document, list[Chunk], np.ndarray]:
    title, body, groups, meta = TEXTS[doc_id]
    body = text if text is not None else body
    sentences = [s.strip() + "." for s in body.split(".") if s.strip()]
    chunks = [Chunk(f"{doc_id}#{i}", doc_id, s, 0, len(s), ordinal=i, section=title)
              for i, s in enumerate(sentences)]  # fmt: skip
    vectors = np.stack([_vector(c.id + c.text) for c in chunks])
    return Document(doc_id, title, body, f"h-{body}", metadata=meta, groups=groups), chunks, vectors


def _fill(store: Any) -> None:
    for doc_id in TEXTS:
        doc, chunks, vectors = _doc(doc_id)
        store.upsert_document(doc, f"fp-{doc_id}", chunks, vectors)


def _docs_of(store: Any, rowids: Any) -> set[str]:
    return {c.doc_id for c, _ in store.chunks_by_rowid([int(r) for r in rowids]).values()}


def test_writes_are_atomic_versioned_and_bump_the_generation(backend: Backend) -> None:
    store = backend.open()
    doc, chunks, vectors = _doc("hr-leave")
    g0 = store.generation()
    assert store.upsert_document(doc, "fp1", chunks, vectors) == 1
    assert store.generation() > g0
    with pytest.raises(ValueError):  # mismatched vectors: nothing written
        store.upsert_document(doc, "fp2", chunks, vectors[:1])
    assert store.get_fingerprint("hr-leave") == "fp1"
    new, new_chunks, new_vectors = _doc("hr-leave", "Vacation days no longer expire.")
    assert store.upsert_document(new, "fp2", new_chunks, new_vectors) == 2
    assert [c.text for c in store.chunks_of("hr-leave")] == ["Vacation days no longer expire."]
    got = store.get_document("hr-leave")
    assert (got.title, got.groups, got.version) == ("Leave policy", ("hr",), 2)
    assert got.metadata["year"] == 2024
    assert [v["version"] for v in store.versions("hr-leave")] == [1, 2]
    assert store.delete_document("hr-leave") and not store.delete_document("hr-leave")
    assert store.versions("hr-leave")[-1]["removed_at"]
    with pytest.raises(NotFoundError):
        store.get_document("hr-leave")
    assert store.get_fingerprint("hr-leave") is None and store.count_chunks() == 0
    store.close()


def test_reads_list_and_round_trip_vectors(backend: Backend) -> None:
    store = backend.open()
    _fill(store)
    assert [d.id for d in store.list_documents()] == sorted(TEXTS)
    assert store.document_ids() == sorted(TEXTS)
    assert store.get_groups("hr-badge") == ("hr", "security") and store.get_groups("x") is None
    assert store.metadata_keys() == ["department", "doc_type", "effective", "owner", "tags",
                                     "year"]  # fmt: skip
    # only the fields of documents a caller may read (the service's filter check)
    assert store.metadata_keys(acl_where([])) == ["department", "doc_type", "effective", "year"]
    assert "owner" in store.metadata_keys(acl_where(["finance"]))
    assert "tags" not in store.metadata_keys(acl_where(["finance"]))
    # document views (the service's listing): no text, its length, only what a caller may read
    views = store.document_views()
    assert [v.id for v in views] == sorted(TEXTS)
    badge = store.get_document("hr-badge")
    (view,) = store.document_views(None, "hr-badge")
    assert (view.title, view.groups, view.n_chars) == (badge.title, badge.groups, len(badge.text))
    assert view.metadata == badge.metadata and view.version == badge.version
    assert {v.id for v in store.document_views(acl_where([]))} == {"fin-travel", "public-faq"}
    assert store.document_views(acl_where([]), "hr-badge") == []  # exists, not readable
    assert store.document_views(None, "missing") == []
    _, chunks, vectors = _doc("fin-cards")
    stored = store.stored_vectors("fin-cards")
    assert [t for _, _, t, _ in stored] == [c.text for c in chunks]
    assert np.array_equal(np.stack([v for *_, v in stored]), vectors)  # bit for bit
    rowids, matrix = store.iter_vectors()
    assert len(rowids) == store.count_chunks() == len(matrix) and list(rowids) == sorted(rowids)
    found = store.chunks_by_rowid(rowids[:3].tolist())
    chunk, doc = found[int(rowids[0])]
    assert doc.title == TEXTS[chunk.doc_id][0]
    store.close()


FILTERS = {
    "department = hr": {"hr-leave", "hr-badge"},
    "department != hr": {"fin-travel", "fin-cards", "public-faq"},
    "department in (hr, finance)": {"hr-leave", "hr-badge", "fin-travel", "fin-cards"},
    "department not in (hr)": {"fin-travel", "fin-cards", "public-faq"},
    "year >= 2024": {"hr-leave", "fin-travel"},
    "year < 2024.5": {"hr-leave", "hr-badge"},
    "effective >= 2025-01-01": {"hr-leave"},
    "exists(owner)": {"fin-cards"},
    "not exists(department)": {"public-faq"},
    "tags = b": {"hr-badge"},
    "id = fin-travel": {"fin-travel"},
    "title in (FAQ, Cards)": {"public-faq", "fin-cards"},
    "version = 1 and department = finance": {"fin-travel", "fin-cards"},
}


@pytest.mark.parametrize("expression", list(FILTERS))
def test_filters_select_the_same_documents(backend: Backend, expression: str) -> None:
    store = backend.open()
    _fill(store)
    where = compile_filter(parse_filter(expression), store.metadata_keys())
    assert where is not None
    assert _docs_of(store, store.allowed_rowids(where)) == FILTERS[expression]
    assert store.count_chunks(where) == len(store.allowed_rowids(where))
    store.close()


@pytest.mark.parametrize(
    ("groups", "readable"),
    [([], {"fin-travel", "public-faq"}),
     (["hr"], {"hr-leave", "hr-badge", "fin-travel", "public-faq"}),
     (["security", "finance"], {"hr-badge", "fin-cards", "fin-travel", "public-faq"})],
)  # fmt: skip
def test_acl_allows_public_documents_and_shared_groups(backend: Backend, groups: list[str],
                                                       readable: set[str]) -> None:  # fmt: skip
    store = backend.open()
    _fill(store)
    where = acl_where(groups)
    assert where is not None
    assert _docs_of(store, store.allowed_rowids(where)) == readable
    for query in ("vacation days", "travel trips", "badges office"):
        assert _docs_of(store, [r for r, _ in store.bm25_search(query, 20, where)]) <= readable
    store.close()


def _ranked(store: Any, hits: list[tuple[int, float]]) -> list[tuple[str, float]]:
    found = store.chunks_by_rowid([r for r, _ in hits])
    return [(found[r][0].id, s) for r, s in hits]


@pytest.fixture
def sqlite_reference(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """SQLite ranking BM25 without the in-memory index: FTS5's own bm25() for everyone,
    the scoped SQL BM25 for a restricted caller."""
    from ragtune.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path_factory.mktemp("reference") / "s.db", bm25_index=False)
    _fill(store)
    yield store
    store.close()


@pytest.mark.parametrize(
    "query", ["vacation days", "travel trips refunded", "badges", "zzz", "py_buildvalue value"]
)
@pytest.mark.parametrize("groups", [None, [], ["hr"]])
def test_bm25_scores_equal_sqlite_fts5(backend: Backend, sqlite_reference: Any, query: str,
                                       groups: list[str] | None) -> None:  # fmt: skip
    reference = sqlite_reference
    if "_" in query and groups is not None:
        # the scoped SQL BM25 scores a split word's terms apart; the index (both backends)
        # matches it as FTS5's phrase for every caller: compare with SQLite's index then
        from ragtune.store.sqlite import SQLiteStore

        reference = SQLiteStore(backend.folder / "with-index" / "s.db")
        _fill(reference)
    store = backend.open()
    _fill(store)
    got = _ranked(store, store.bm25_search(query, 10, acl_where(groups)))
    want = _ranked(reference, reference.bm25_search(query, 10, acl_where(groups)))
    assert [c for c, _ in got] == [c for c, _ in want]
    assert np.allclose([s for _, s in got], [s for _, s in want], rtol=1e-9)
    assert got if query == "vacation days" else True
    assert not got if query == "zzz" else True
    counts = store.term_chunk_counts(["vacation", "days", "zzz"], acl_where(groups))
    assert counts == reference.term_chunk_counts(["vacation", "days", "zzz"], acl_where(groups))
    store.close()


@pytest.mark.parametrize("method", ["exact", "hnsw"])
def test_dense_search_finds_the_exact_neighbours_and_k_allowed(backend: Backend,
                                                               method: str) -> None:  # fmt: skip
    store = backend.open()
    _fill(store)
    index = backend.dense(store, method)
    assert index.approximate == (method == "hnsw")
    rowids, matrix = store.iter_vectors()
    for i, query in enumerate(matrix):
        hits = index.search(query, 3)
        assert hits[0][0] == rowids[i] and hits[0][1] == pytest.approx(1.0, abs=1e-5)
        want = index.exact(query, 3)
        assert [r for r, _ in hits] == [r for r, _ in want]
    hr = store.allowed_rowids(acl_where(["hr"]))
    hits = index.search(matrix[0], len(hr), hr)
    assert len(hits) == len(hr) and {r for r, _ in hits} == set(hr.tolist())
    store.delete_document("fin-cards")
    assert all(r in store.iter_vectors()[0] for r, _ in index.search(matrix[0], 50))
    store.close()


@pytest.mark.parametrize("method", ["exact", "hnsw"])
def test_one_search_request_runs_both_components_with_filters_and_acl_inside(
    backend: Backend, method: str
) -> None:
    """``store.search``: per component, what that component alone gives for the same
    condition; dense under a condition = exact search over the rows it allows."""
    store = backend.open()
    _fill(store)
    index = backend.dense(store, method)
    _, matrix = store.iter_vectors()
    filters = compile_filter(parse_filter("department = hr"), store.metadata_keys())
    for where in (
        None,
        acl_where([]),
        acl_where(["finance"]),
        filters,
        filters.and_(acl_where([])),
    ):
        allowed = store.allowed_rowids(where) if where is not None else None
        for query in matrix[:4]:
            request = SearchRequest("vacation days travel", 4, where, vector=query)
            lists = store.search(request, index)
            assert lists["bm25"] == store.bm25_search("vacation days travel", 4, where)
            want = index.exact(query, 4, allowed)
            assert [r for r, _ in lists["dense"]] == [r for r, _ in want]
            assert np.allclose([s for _, s in lists["dense"]], [s for _, s in want], atol=1e-5)
            if allowed is not None:
                assert {r for r, _ in lists["dense"]} <= set(allowed.tolist())
                assert len(lists["dense"]) == min(4, len(allowed))  # k allowed, when they exist
    keyword_only = store.search(SearchRequest("vacation", 3, acl_where([])), index)
    assert set(keyword_only) == {"bm25"}
    store.close()


def test_two_connections_see_each_others_writes(backend: Backend) -> None:
    writer, reader = backend.open(), backend.open()
    _fill(writer)
    assert reader.bm25_search("vacation", 5, None)
    doc, chunks, vectors = _doc("public-faq", "Nothing about holidays here.")
    writer.upsert_document(doc, "fp-new", chunks, vectors)
    hits = reader.bm25_search("vacation", 10, None)
    assert "public-faq" not in _docs_of(reader, [r for r, _ in hits])
    writer.close()
    reader.close()


def test_capabilities_say_what_the_backend_is(backend: Backend) -> None:
    store = backend.open()
    caps = store.capabilities()
    assert caps["backend"] == backend.name and caps["atomic_per_document"] is True
    assert set(caps) == {"backend", "location", "shared_by", "keyword", "dense", "filters_acl",
                         "atomic_per_document"}  # fmt: skip
    store.close()
