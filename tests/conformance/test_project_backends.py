"""A project on PostgreSQL works as one on SQLite, through the CLI and the Python API: the
same ingest report, the same hits for the same questions, and clear errors on a bad setup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import EXAMPLES
from tests.helpers.postgres import PgServer

from ragtune.cli.main import cli
from ragtune.config import Settings
from ragtune.errors import RagtuneError, UsageError
from ragtune.project import Project

QUESTIONS = ["How many vacation days do I get?", "Who approves travel expenses?",
             "What happens if I lose my badge?", "Can I work from home on Fridays?"]  # fmt: skip


def _cli(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["-C", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_same_search_on_both_backends(tmp_path: Path, postgres: PgServer,
                                          monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("RAGTUNE_EMBEDDER__NAME", "hash")
    reports, hits = {}, {}
    for backend in ("sqlite", "postgres"):
        if backend == "postgres":
            monkeypatch.setenv("RAGTUNE_STORE__BACKEND", "postgres")
            monkeypatch.setenv("RAGTUNE_STORE__DSN", postgres.new_database())
        root = tmp_path / backend
        _cli(root, "init")
        reports[backend] = json.loads(_cli(root, "ingest", str(EXAMPLES / "docs"), "--json"))
        hits[backend] = {
            mode: [json.loads(_cli(root, "search", q, "--mode", mode, "-k", "5", "--json"))
                   for q in QUESTIONS]
            for mode in ("bm25", "dense", "hybrid")
        }  # fmt: skip
        restricted = json.loads(_cli(root, "search", QUESTIONS[0], "--as-group", "nobody",
                                     "--json"))  # fmt: skip
        assert all(not h["metadata"]["groups"] for h in restricted)
    assert reports["sqlite"]["counts"] == reports["postgres"]["counts"]
    assert reports["sqlite"]["chunks_written"] == reports["postgres"]["chunks_written"] > 100
    for mode, per_question in hits["sqlite"].items():
        for got, want in zip(hits["postgres"][mode], per_question, strict=True):
            assert [h["chunk"]["id"] for h in got] == [h["chunk"]["id"] for h in want], mode
            assert [h["score"] for h in got] == pytest.approx([h["score"] for h in want],
                                                              rel=1e-5)  # fmt: skip
    # a second ingest of the same files changes nothing, as on SQLite
    again = json.loads(_cli(tmp_path / "postgres", "ingest", str(EXAMPLES / "docs"), "--json"))
    assert again["counts"]["unchanged"] == reports["postgres"]["counts"]["added"]


def test_a_bad_setup_is_refused_with_a_hint(tmp_path: Path) -> None:
    project = Project.init(tmp_path / "p", Settings.load(None, store={"backend": "postgres"}))
    with pytest.raises(UsageError, match=r"store\.dsn is empty"):
        _ = project.store
    nowhere = f"postgresql:///x?host={tmp_path}/nowhere"
    bad = Settings.load(None, store={"backend": "postgres", "dsn": nowhere})
    with pytest.raises(RagtuneError, match="cannot open the postgres store") as info:
        _ = Project.init(tmp_path / "q", bad).store
    assert "store.dsn" in str(info.value.hint)
