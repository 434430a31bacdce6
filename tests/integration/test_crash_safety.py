"""SIGKILL in the middle of `ragtune ingest`: the store stays consistent and resumable."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import write

from ragtune.project import Project

N_DOCS = 600


def count_docs(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_sigkill_mid_ingest_then_resume(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    Project.init(root).close()
    docs = tmp_path / "docs"
    for i in range(N_DOCS):
        body = "\n\n".join(
            f"Paragraph {j} of document {i} about topic {i % 17}." for j in range(40)
        )
        write(docs / f"d{i:04d}.md", f"# Doc {i}\n\n{body}\n")
    env = {**os.environ, "RAGTUNE_EMBEDDER__NAME": "hash", "RAGTUNE_EMBEDDER__BATCH_SIZE": "8"}
    cmd = [sys.executable, "-m", "ragtune.cli.main", "-C", str(root), "ingest", str(docs)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = root / ".ragtune" / "ragtune.db"
    deadline = time.monotonic() + 120
    while count_docs(db) < N_DOCS // 5 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "ingest finished before it could be killed; raise N_DOCS"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    present = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    assert 0 < present < N_DOCS
    # Every document is complete: its chunk count matches what its version recorded, and the
    # FTS index holds exactly the chunks that exist.
    rows = conn.execute(
        "SELECT d.id, v.n_chunks, (SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id)"
        " FROM documents d JOIN document_versions v ON v.doc_id = d.id AND v.version = d.version"
    ).fetchall()
    assert rows and all(expected == actual > 0 for _, expected, actual in rows)
    assert (
        conn.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
        == conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    )
    conn.close()

    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{N_DOCS - present} added" in done.stdout and f"{present} unchanged" in done.stdout
    assert count_docs(db) == N_DOCS
