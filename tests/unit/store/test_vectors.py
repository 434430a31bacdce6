"""The exact dense index's cache belongs to one store: a store rebuilt beside the old index
folder (its generation count starting again) never reads the old vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tests.unit.store.test_ann import _add, _vectors

from ragtune.store.sqlite import SQLiteStore
from ragtune.store.vectors import DenseIndex


def test_a_rebuilt_store_does_not_inherit_the_cached_vectors(tmp_path: Path) -> None:
    db, cache = tmp_path / "s.db", tmp_path / "index"
    old = SQLiteStore(db)
    _add(old, "d", _vectors(np.random.default_rng(1), 20))
    first = DenseIndex(old, cache, method="exact")
    assert len(first) == 20 and (cache / "vectors.npy").is_file()
    generation = old.generation()
    old.close()
    for path in tmp_path.glob("s.db*"):
        path.unlink()
    new = SQLiteStore(db)
    fresh = _vectors(np.random.default_rng(2), 20)
    _add(new, "d", fresh)
    assert new.generation() == generation  # the same count: only the store id differs
    index = DenseIndex(new, cache, method="exact")
    top = index.search(fresh[3], 1)
    assert top[0][1] > 0.999  # the new store's own vector, not the old one at that rowid
    new.close()
