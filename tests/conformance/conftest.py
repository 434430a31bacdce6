"""Every store backend, opened the same way, for the conformance suite."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.helpers.postgres import PgServer, pg_server

from ragtune.store.sqlite import SQLiteStore

BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    yield from pg_server(tmp_path_factory.mktemp("postgres"))


@dataclass
class Backend:
    """Opens stores (and their dense indexes) of one backend, on one database per test."""

    name: str
    open: Callable[[], Any]  # a new connection to this test's store
    folder: Path
    fresh: Callable[[], Any]  # a new, empty store (one per hypothesis example)
    dsn: str = ""

    def dense(self, store: Any, method: str = "exact", **kwargs: Any) -> Any:
        if self.name == "postgres":
            from ragtune.store.pgvector_index import PgVectorIndex

            return PgVectorIndex(store, method, **kwargs)
        from ragtune.store.vectors import DenseIndex

        return DenseIndex(store, store.path.parent / "index", method, **kwargs)

    def settings(self) -> dict[str, Any]:
        """``Settings.load`` overrides that put a project on this backend's store."""
        if self.name == "postgres":
            return {"store": {"backend": "postgres", "dsn": self.dsn}}
        return {}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    numbers = itertools.count()
    if request.param == "sqlite":
        return Backend(
            "sqlite", lambda: SQLiteStore(tmp_path / "s.db"), tmp_path,
            lambda: SQLiteStore(tmp_path / f"fresh-{next(numbers)}" / "s.db"),
        )  # fmt: skip
    from ragtune.store.postgres import PostgresStore

    server = request.getfixturevalue("postgres")
    dsn = server.new_database()
    return Backend(
        "postgres", lambda: PostgresStore(dsn, tmp_path / "index"), tmp_path,
        lambda: PostgresStore(server.new_database()), dsn,
    )  # fmt: skip
