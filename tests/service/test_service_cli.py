"""``ragtune keys`` and ``ragtune serve`` as a user runs them: real processes, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner
from tests.conftest import write

from ragtune.cli.main import cli


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    write(root / "ragtune.toml", '[embedder]\nname = "hash"\n[chunking]\nsize = 64\noverlap = 8\n')
    write(
        root / "docs" / "a.md", "---\ngroups: [hr]\n---\n# Leave\n\nParental leave is 16 weeks.\n"
    )
    write(root / "docs" / "p.md", "# Lunch\n\nLunch is served at noon.\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["-C", str(root), "init"]).exit_code == 0
    assert runner.invoke(cli, ["-C", str(root), "ingest", str(root / "docs")]).exit_code == 0
    return root


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    root = _project(tmp_path)
    runner = CliRunner()
    r = runner.invoke(cli, ["-C", str(root), "keys", "create", "-n", "ann", "--groups", "hr,eng",
                            "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    made = json.loads(r.output)
    assert made["key"].startswith("rt_") and made["groups"] == ["eng", "hr"]
    listed = runner.invoke(cli, ["-C", str(root), "keys", "list", "--json"]).output
    assert made["key"] not in listed and json.loads(listed)[0]["id"] == made["id"]
    db = (root / ".ragtune" / "ragtune.db").read_bytes()
    assert made["key"].encode() not in db  # only the hash is stored
    r = runner.invoke(cli, ["-C", str(root), "keys", "create", "--groups", "bad group!"])
    assert r.exit_code == 2 and "bad group name" in r.output
    assert runner.invoke(cli, ["-C", str(root), "keys", "revoke", "ann"]).exit_code == 0
    r = runner.invoke(cli, ["-C", str(root), "keys", "revoke", "ann"])
    assert r.exit_code == 1 and "no active key" in r.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_process_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    root = _project(tmp_path)
    runner = CliRunner()
    made = runner.invoke(cli, ["-C", str(root), "keys", "create", "--groups", "hr", "--json"])
    key = json.loads(made.output)["key"]
    port = _free_port()
    cmd = [sys.executable, "-m", "ragtune.cli.main", "-C", str(root), "serve", "--port",
           str(port), "--no-warm", "--log-level", "info"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"serve did not start: {proc.communicate()[0]!r}")
            time.sleep(0.2)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as c:
            hits = c.post("/v1/search", json={"query": "parental leave"}).json()["data"]
            assert hits[0]["chunk"]["doc_id"] == "a.md"
            assert "Ask a question" in httpx.get(f"{url}/").text  # the UI needs no key
            assert runner.invoke(cli, ["-C", str(root), "keys", "revoke", key[3:15]]).exit_code == 0
            assert c.post("/v1/search", json={"query": "leave"}).status_code == 401  # at once
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    # uvicorn finishes in-flight requests and the lifespan (closing the worker threads), then
    # re-raises SIGTERM so the exit status still says how the process ended.
    assert proc.returncode in (0, -signal.SIGTERM), out
    assert b"Application shutdown complete" in out, out


def test_serve_refuses_a_bad_strategy(tmp_path: Path) -> None:
    root = _project(tmp_path)
    r = CliRunner().invoke(cli, ["-C", str(root), "serve", "--strategy", "nope"])
    assert r.exit_code == 2 and "unknown strategy 'nope'" in r.output
