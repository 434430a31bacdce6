"""``ragtune advise`` from the command line: one-line errors, --json, the report files."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from tests.helpers.pilot_results import make_results

from ragtune.cli.main import cli
from ragtune.project import Project


def test_advise_without_results_is_one_line(tmp_path: Path) -> None:
    Project.init(tmp_path / "p").close()
    result = CliRunner().invoke(cli, ["-C", str(tmp_path / "p"), "advise"])
    assert result.exit_code != 0
    assert "no compare results" in result.output and "Traceback" not in result.output


def test_advise_json_and_report(tmp_path: Path) -> None:
    Project.init(tmp_path / "p").close()
    results = tmp_path / "results.json"
    results.write_text(json.dumps(make_results().to_dict()))
    profile = tmp_path / "profile.toml"
    profile.write_text('need = "knowledge"\nlatency_budget_ms = 3000\n')
    args = ["-C", str(tmp_path / "p"), "advise", "--results", str(results), "--profile",
            str(profile), "--json"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["recommendation"]["choice"] == "RAG"
    assert Path(data["report"]["html"]).is_file()
    bad = CliRunner().invoke(cli, [*args[:-3], "--profile", str(results)])  # wrong schema
    assert bad.exit_code == 2 and "Error:" in bad.output
    human = CliRunner().invoke(cli, args[:-1])
    assert "Recommendation: RAG" in human.output and "report:" in human.output
