"""``ragtune ingest``: a re-ingest never publishes a restricted document by omission."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.helpers.service import echo_settings

from ragtune.cli.main import cli
from ragtune.project import Project

PLAIN = "# Walrus\n\nThe walrus vault code is 5521.\n"


@pytest.mark.parametrize("flag", [[], ["--sync"], ["--public"]])
def test_cli_reingest_keeps_groups_unless_told(
    tmp_path: Path, flag: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGTUNE_EMBEDDER__NAME", "hash")
    monkeypatch.setenv("RAGTUNE_CHUNKING__SIZE", "64")
    monkeypatch.setenv("RAGTUNE_CHUNKING__OVERLAP", "8")
    project = Project.init(tmp_path / "p", echo_settings())
    docs = tmp_path / "p" / "docs"
    docs.mkdir()
    (docs / "w.md").write_text(PLAIN)
    project.ingest([docs], groups=["hr"])
    assert project.store.get_groups("w.md") == ("hr",)
    (docs / "w.md").write_text(PLAIN + "\nchanged\n")
    (docs / "new.md").write_text("# New\n\nnew text\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["-C", str(tmp_path / "p"), "ingest", str(docs), *flag])
    assert result.exit_code == 0, result.output
    project = Project(tmp_path / "p", project.settings)
    assert project.store.get_groups("w.md") == (() if "--public" in flag else ("hr",))
    assert project.store.get_groups("new.md") == ()
    result = runner.invoke(
        cli, ["-C", str(tmp_path / "p"), "ingest", str(docs), "--public", "--groups", "x"]
    )
    assert result.exit_code != 0 and "contradict" in result.output
