"""The run store: one folder per comparison run, ``.ragtune/runs/<id>/``.

``run.json`` (sorted keys, version stamp) records what the run is; ``records.sqlite`` holds one
row per (phase, strategy, question) answer and per judgement, committed batch by batch, so a
run killed at any point resumes with exactly the questions it had not answered yet.
Example::

    store = RunStore.open(project.paths.run(run_id), config)
    done = store.answered("main", "rag")            # question ids already answered
    store.put_answers("main", "rag", {"a001": record})
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import UsageError

if TYPE_CHECKING:
    from ragtune.evaluation.results import Results

RUN_SCHEMA_VERSION = 1
# The meta key of a run's cross-fitted abstention calibration (written by the runner, read
# back by the results).
CROSSFIT_META = "abstention:crossfit"
_TABLES = """
CREATE TABLE IF NOT EXISTS answers (
    phase TEXT NOT NULL, strategy TEXT NOT NULL, item_id TEXT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (phase, strategy, item_id));
CREATE TABLE IF NOT EXISTS judgements (
    judge TEXT NOT NULL, phase TEXT NOT NULL, strategy TEXT NOT NULL, item_id TEXT NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (judge, phase, strategy, item_id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, data TEXT NOT NULL);
"""


def _dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


class RunStore:
    """Answers, judgements and measurements of one run (SQLite, WAL, commit per batch)."""

    def __init__(self, folder: Path, config: Mapping[str, Any]) -> None:
        self.folder = Path(folder)
        self.config = dict(config)
        # The pilot writes answers from its main thread while a helper thread re-indexes the
        # update or scores the run: one connection, one statement at a time (the lock).
        self._db = sqlite3.connect(self.folder / "records.sqlite", check_same_thread=False)
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_TABLES)

    @classmethod
    def open(cls, folder: Path, config: Mapping[str, Any]) -> RunStore:
        """Create the run folder, or reopen it (resume) when its config is the same."""
        folder = Path(folder)
        stamp = folder / "run.json"
        if stamp.exists():
            saved = json.loads(stamp.read_text(encoding="utf-8"))
            if saved.get("schema_version") != RUN_SCHEMA_VERSION:
                raise UsageError(
                    f"run {folder.name} was written by another ragtune version",
                    "start a new run with --fresh",
                )
            if _dumps(saved.get("config")) != _dumps(config):
                raise UsageError(
                    f"run {folder.name} exists with different settings",
                    "pass --fresh to replace it, or use another --run-id",
                )
        else:
            folder.mkdir(parents=True, exist_ok=True)
            from ragtune.version import __version__

            data = {
                "schema_version": RUN_SCHEMA_VERSION,
                "ragtune_version": __version__,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "config": config,
            }
            tmp = stamp.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
            tmp.replace(stamp)
        return cls(folder, config)

    # -- answers ---------------------------------------------------------------------------
    def answered(self, phase: str, strategy: str) -> set[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id FROM answers WHERE phase = ? AND strategy = ?", (phase, strategy)
            ).fetchall()
        return {r[0] for r in rows}

    def put_answers(self, phase: str, strategy: str, records: Mapping[str, Any]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?)",
                [(phase, strategy, k, _dumps(v)) for k, v in records.items()],
            )

    def answers(self, phase: str, strategy: str) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id, data FROM answers WHERE phase = ? AND strategy = ?",
                (phase, strategy),
            ).fetchall()
        return {r[0]: json.loads(r[1]) for r in rows}

    # -- judgements ------------------------------------------------------------------------
    def put_judgements(
        self, judge: str, phase: str, strategy: str, verdicts: Mapping[str, Any]
    ) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO judgements VALUES (?, ?, ?, ?, ?)",
                [(judge, phase, strategy, k, _dumps(v)) for k, v in verdicts.items()],
            )

    def judgements(self, judge: str, phase: str, strategy: str) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute(
                "SELECT item_id, data FROM judgements"
                " WHERE judge = ? AND phase = ? AND strategy = ?",
                (judge, phase, strategy),
            ).fetchall()
        return {r[0]: json.loads(r[1]) for r in rows}

    # -- measurements (re-index time, peak memory, ...) ------------------------------------
    def put_meta(self, key: str, value: Any) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, _dumps(value)))

    def meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT data FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def write_results(self, results: Results) -> Path:
        path = self.folder / "results.json"
        tmp = path.with_suffix(".tmp")
        data = results.to_dict()
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        tmp.replace(path)
        return path

    def close(self) -> None:
        with self._lock:
            self._db.close()
