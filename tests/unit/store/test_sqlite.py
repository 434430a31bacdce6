import sqlite3
from pathlib import Path

import numpy as np
import pytest

from ragtune.errors import NotFoundError, RagtuneError
from ragtune.store.migrations import MIGRATIONS
from ragtune.store.sqlite import SQLiteStore
from ragtune.types import Chunk, Document


def doc(text: str = "alpha beta") -> Document:
    return Document("d1", "Doc", text, "h", metadata={"tags": ["a", "b"], "n": 3}, groups=("hr",))


def test_migrations_are_idempotent_and_versioned(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "s.db").close()
    store = SQLiteStore(tmp_path / "s.db")
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(RagtuneError, match="newer"):
        SQLiteStore(tmp_path / "s.db")


def test_upsert_replaces_atomically_and_keeps_history(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    chunk = Chunk("c1", "d1", "alpha beta", 0, 10)
    store.upsert_document(doc(), "fp1", [chunk], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(ValueError):  # mismatched vectors: nothing written
        store.upsert_document(doc(), "fp2", [chunk], np.ones((2, 4), dtype=np.float32))
    assert store.get_fingerprint("d1") == "fp1"
    new = Chunk("c2", "d1", "gamma", 0, 5)
    assert store.upsert_document(doc("gamma"), "fp2", [new], np.ones((1, 4))) == 2
    assert [c.id for c in store.chunks_of("d1")] == ["c2"]
    assert store.bm25_search("alpha", 5, None) == []
    assert len(store.bm25_search("gamma", 5, None)) == 1
    assert sorted(store.metadata_keys()) == ["n", "tags"]
    assert store.delete_document("d1") and not store.delete_document("d1")
    assert store.versions("d1")[-1]["removed_at"]
    with pytest.raises(NotFoundError, match="docs list"):
        store.get_document("d1")


def test_embedder_mismatch_is_refused(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.check_embedder("minilm", 384)
    store.check_embedder("minilm", 384)
    with pytest.raises(RagtuneError, match="embedded with minilm:384"):
        store.check_embedder("hash", 256)
