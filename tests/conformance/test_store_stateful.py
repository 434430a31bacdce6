"""Random sequences of writes on every backend, checked against an in-memory model after
each step: the documents, the chunks, who may read what, and what BM25 and dense search
return (hypothesis' stateful testing; Haystack's store tests were the model)."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from tests.conformance.conftest import Backend

from ragtune.retrieval.filters import acl_where
from ragtune.types import Chunk, Document

DOC_IDS = ("d1", "d2", "d3", "d4")
WORDS = ("apple", "river", "stone", "cloud", "tiger", "piano")
GROUPS = ("red", "blue")
CALLERS: tuple[list[str] | None, ...] = (None, [], ["red"], ["blue"], ["red", "blue"])


def _readable(groups: tuple[str, ...], caller: list[str] | None) -> bool:
    return caller is None or not groups or bool(set(groups) & set(caller))


def machine_for(backend: Backend) -> type[RuleBasedStateMachine]:
    class StoreMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.store = backend.fresh()
            self.dense = backend.dense(self.store, "exact")
            self.model: dict[str, tuple[tuple[str, ...], list[list[str]]]] = {}
            self.rng = np.random.default_rng(0)

        @rule(
            doc_id=st.sampled_from(DOC_IDS),
            chunks=st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
                            min_size=1, max_size=3),
            groups=st.sets(st.sampled_from(GROUPS)),
        )  # fmt: skip
        def upsert(self, doc_id: str, chunks: list[list[str]], groups: set[str]) -> None:
            texts = [" ".join(words) for words in chunks]
            doc = Document(doc_id, f"Title {doc_id}", "\n".join(texts), str(texts),
                           groups=tuple(sorted(groups)))  # fmt: skip
            rows = [Chunk(f"{doc_id}#{i}", doc_id, t, 0, len(t), ordinal=i)
                    for i, t in enumerate(texts)]  # fmt: skip
            vectors = self.rng.normal(size=(len(rows), 8)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            self.store.upsert_document(doc, "fp", rows, vectors)
            self.model[doc_id] = (tuple(sorted(groups)), chunks)

        @rule(doc_id=st.sampled_from(DOC_IDS))
        def delete(self, doc_id: str) -> None:
            assert self.store.delete_document(doc_id) == (doc_id in self.model)
            self.model.pop(doc_id, None)

        @invariant()
        def documents_and_chunks_match(self) -> None:
            assert self.store.document_ids() == sorted(self.model)
            assert self.store.count_chunks() == sum(len(c) for _, c in self.model.values())

        @invariant()
        def callers_read_and_find_what_they_may(self) -> None:
            for caller in CALLERS:
                where = acl_where(caller)
                readable = {d for d, (g, _) in self.model.items() if _readable(g, caller)}
                if where is not None:
                    allowed = self.store.allowed_rowids(where)
                    assert self._docs(allowed) == readable
                for word in WORDS[:3]:
                    want = {d for d in readable if any(word in c for c in self.model[d][1])}
                    hits = self.store.bm25_search(word, 50, where)
                    assert self._docs([r for r, _ in hits]) == want
                n_readable = sum(len(self.model[d][1]) for d in readable)
                allowed_rows = self.store.allowed_rowids(where) if where is not None else None
                hits = self.dense.search(np.ones(8, dtype=np.float32) / 8**0.5, 50, allowed_rows)
                assert len(hits) == n_readable and self._docs([r for r, _ in hits]) == readable

        def _docs(self, rowids: Any) -> set[str]:
            found = self.store.chunks_by_rowid([int(r) for r in rowids])
            return {c.doc_id for c, _ in found.values()}

        def teardown(self) -> None:
            self.store.close()

    return StoreMachine


def test_random_writes_match_the_model(backend: Backend) -> None:
    run_state_machine_as_test(
        machine_for(backend),
        settings=settings(
            max_examples=15,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
