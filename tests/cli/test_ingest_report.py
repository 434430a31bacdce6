"""``ragtune ingest`` says how many chunks of an update kept their vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.unit.ingest.test_reuse_vectors import manual

from ragtune.cli.main import cli


def test_update_report_counts_kept_vectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGTUNE_EMBEDDER__NAME", "hash")
    monkeypatch.setenv("RAGTUNE_CHUNKING__SIZE", "64")
    monkeypatch.setenv("RAGTUNE_CHUNKING__OVERLAP", "8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "manual.md").write_text(manual())
    runner = CliRunner()
    root = ["-C", str(tmp_path / "p")]
    assert runner.invoke(cli, [*root, "init"]).exit_code == 0
    first = runner.invoke(cli, [*root, "ingest", str(docs)])
    assert first.exit_code == 0, first.output
    assert "1 added" in first.output and "kept their vectors" not in first.output
    (docs / "manual.md").write_text(manual(changed="Security"))
    result = runner.invoke(cli, [*root, "ingest", str(docs), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["counts"]["updated"] == 1
    assert 0 < report["chunks_reused"] < report["chunks_written"]
    (docs / "manual.md").write_text(manual(changed="Leave"))
    text = runner.invoke(cli, [*root, "ingest", str(docs)]).output
    assert "1 updated" in text and "kept their vectors" in text
