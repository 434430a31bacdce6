"""What must hold after `kill -9` of a ragtune command, and how to deliver one.

Shared by the crash tests (tests/integration/test_crash_*.py) and the bench script
bench/crash_cycles.py, so a check tightened in one place is tightened in both. Every check
returns a list of problems (empty = passed) instead of asserting: the bench counts them per
cycle, the tests assert the list is empty and get every problem in the message.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

# One document as the store records it: (fingerprint, chunks its version recorded).
DocState = dict[str, tuple[str, int]]


def _connect_ro(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)


def count_rows(db: Path, table: str) -> int:
    """Rows in ``table``, or 0 while the database or table does not exist yet (polling)."""
    if not db.exists():
        return 0
    try:
        conn = _connect_ro(db)
        try:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def store_problems(db: Path) -> list[str]:
    """The project store after a kill: SQLite's own integrity check, and every document
    complete (its chunk count is what its current version recorded; the FTS index holds
    exactly the chunks that exist). A missing store is fine: the kill came before it."""
    if not db.exists():
        return []
    problems = []
    conn = sqlite3.connect(db, timeout=30)  # read-write: a hot WAL is replayed, as on resume
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if "documents" not in tables:
            return problems  # killed before the first migration committed
        rows = conn.execute(
            "SELECT d.id, v.n_chunks, (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id)"
            " FROM documents d LEFT JOIN document_versions v"
            " ON v.doc_id = d.id AND v.version = d.version"
        ).fetchall()
        for doc_id, expected, actual in rows:
            if expected is None or expected != actual or actual == 0:
                problems.append(f"{doc_id}: {actual} chunks, its version records {expected}")
        fts = conn.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
        chunks = conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        if fts != chunks:
            problems.append(f"chunks_fts has {fts} rows for {chunks} chunks")
    finally:
        conn.close()
    return problems


def store_state(db: Path) -> DocState:
    """doc id -> (fingerprint, chunk count): equal for two stores holding the same texts."""
    conn = _connect_ro(db)
    try:
        rows = conn.execute(
            "SELECT d.id, d.fingerprint, (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id)"
            " FROM documents d"
        ).fetchall()
    finally:
        conn.close()
    return {doc_id: (fp, n) for doc_id, fp, n in rows}


def adapter_problems(state_dir: Path) -> list[str]:
    """Every adapter the registry lists is whole: readable metadata naming it, a PEFT config,
    and weights whose safetensors header and data are all there (a torn file fails to open)."""
    from safetensors import safe_open

    from ragtune.finetune.adapters import META_FILE, list_adapters
    from ragtune.paths import ProjectPaths

    # the registry reads only where the state is
    project: Any = SimpleNamespace(state_dir=state_dir, paths=ProjectPaths(state_dir))
    try:
        listed = list_adapters(project)
    except Exception as exc:  # an unreadable ragtune.json surfaces here
        return [f"adapters list fails: {exc}"]
    problems = []
    for info in listed:
        folder = state_dir / "adapters" / info.name
        if not (folder / META_FILE).is_file():
            problems.append(f"{info.name}: listed, but {folder} has no {META_FILE}")
            continue
        if not (folder / "adapter_config.json").is_file():
            problems.append(f"{info.name}: no adapter_config.json")
        weights = folder / "adapter_model.safetensors"
        try:
            with safe_open(str(weights), framework="pt") as fh:
                for key in fh.keys():  # noqa: SIM118 (safe_open is not a mapping)
                    fh.get_tensor(key)
        except Exception as exc:  # safetensors raises its own error types
            problems.append(f"{info.name}: weights unreadable ({exc})")
    return problems


def run_problems(folder: Path) -> list[str]:
    """A compare run folder after a kill: its records database is intact and results.json,
    when present, is whole JSON (it is written to a temporary file, then renamed)."""
    problems = []
    db = folder / "records.sqlite"
    if db.exists():
        conn = sqlite3.connect(db, timeout=30)
        try:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            conn.close()
        if integrity != "ok":
            problems.append(f"records.sqlite integrity_check: {integrity}")
    results = folder / "results.json"
    if results.exists():
        try:
            json.loads(results.read_text())
        except ValueError as exc:
            problems.append(f"results.json is not whole JSON: {exc}")
    return problems


def quality(results: Mapping[str, Any]) -> str:
    """The numbers of a compare run that must not depend on how it got there (timings do)."""
    return json.dumps({k: results[k] for k in ("metrics", "paired", "judge")}, sort_keys=True)


def kill_after(
    cmd: Sequence[str],
    delay: float,
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    stage: Callable[[], str] | None = None,
) -> tuple[bool, str, str]:
    """Start ``cmd``, SIGKILL it ``delay`` seconds later. Returns (killed while running,
    the stage it was in just before the kill, its stderr). ``stage`` reads the on-disk state
    (the process cannot report it: kill -9 gives it no last word)."""
    proc = subprocess.Popen(
        list(cmd), env=dict(env), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    where = stage() if stage is not None else ""
    running = proc.poll() is None
    if running:
        proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate()
    return running, where if running else "finished", err.decode(errors="replace")


def run_to_end(
    cmd: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None, timeout: float = 600
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run ``cmd`` to completion: (wall seconds, the completed process)."""
    started = time.monotonic()
    done = subprocess.run(
        list(cmd), env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    return time.monotonic() - started, done
