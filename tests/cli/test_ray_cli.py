"""``ingest --ray`` and ``pilot --ray`` with an address nobody serves fail at once, clearly,
writing nothing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import EXAMPLES

from ragtune.cli.main import cli
from ragtune.project import Project


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", [["ingest"], ["pilot", "-n", "4"]])
@pytest.mark.parametrize(
    ("address", "message"),
    [(None, "cannot reach the Ray cluster"), ("nonsense", "bad Ray address")],
)
def test_an_unreachable_or_bad_address_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], address: str | None,
    message: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("RAGTUNE_EMBEDDER__NAME", "hash")
    root = ["-C", str(tmp_path / "p")]
    runner = CliRunner()
    assert runner.invoke(cli, [*root, "init"]).exit_code == 0
    target = address or f"127.0.0.1:{_free_port()}"
    name, *rest = command
    docs = str(EXAMPLES / "docs" / "hr")
    result = runner.invoke(cli, [*root, name, docs, *rest, "--ray", target])
    assert result.exit_code != 0 and message in result.output
    project = Project.open(tmp_path / "p")
    assert project.store.count_chunks() == 0  # refused before anything was written
    assert not project.paths.pilot.exists()
