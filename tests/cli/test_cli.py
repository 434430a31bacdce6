"""The CLI through click's runner (in-process) with the hash embedder."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import write

from ragtune.cli.main import cli


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAGTUNE_EMBEDDER__NAME", "hash")
    root = tmp_path / "p"
    result = CliRunner().invoke(cli, ["-C", str(root), "init"])
    assert result.exit_code == 0, result.output
    write(
        root / "docs" / "hr" / "leave.md",
        "---\ndepartment: hr\ngroups: [hr]\n---\n# Leave\n\nNew hires get 25 days.\n",
    )
    write(
        root / "docs" / "it.txt", "---\ndepartment: it\n---\nLaptops are replaced every 3 years.\n"
    )
    return root


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-C", str(root), *args])
    return result.exit_code, result.output


def test_ingest_search_docs(project_dir: Path) -> None:
    write(project_dir / "docs" / "_draft.md", "Excluded by the default ingest.exclude.\n")
    code, out = run(project_dir, "ingest", str(project_dir / "docs"))
    assert code == 0 and "2 added" in out
    assert "excluded 1 path(s) matching ingest.exclude (_draft.md)" in out
    code, out = run(project_dir, "ingest", str(project_dir / "docs"), "--json")
    assert json.loads(out)["counts"]["unchanged"] == 2
    code, out = run(project_dir, "search", "new hires days", "--json", "-k", "1")
    assert code == 0 and json.loads(out)[0]["chunk"]["doc_id"] == "hr/leave.md"
    code, out = run(project_dir, "search", "new hires days", "--as-group", "eng", "--json")
    assert [h["chunk"]["doc_id"] for h in json.loads(out)] == ["it.txt"]
    code, out = run(project_dir, "search", "days", "--filter", "department = it", "--mode", "bm25")
    assert code == 0 and "No results." in out
    code, out = run(project_dir, "docs", "list")
    assert "hr/leave.md" in out and "2 documents" in out
    code, out = run(project_dir, "docs", "show", "hr/leave.md", "--json")
    assert json.loads(out)["versions"][0]["version"] == 1
    code, out = run(project_dir, "docs", "rm", "it.txt")
    assert code == 0 and "removed it.txt" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "x", "--mode", "nope"], "unknown search mode 'nope'"),
        (["search", "x", "--filter", "dept = hr"], "unknown filter field 'dept'"),
        (["search", "x", "--filter", "department ~ hr"], "malformed filter clause"),
        (["docs", "show", "missing.md"], "no document with id 'missing.md'"),
        (["docs", "rm", "missing.md"], "no such document"),
        (["ingest", "nowhere"], "path not found"),
        (["ingest", "docs", "--meta", "novalue"], "--meta expects KEY=VALUE"),
    ],
)
def test_errors_are_one_line(project_dir: Path, args: list[str], message: str) -> None:
    run(project_dir, "ingest", str(project_dir / "docs"))
    if args[0] == "ingest":
        args = [args[0], str(project_dir / args[1]), *args[2:]]
    code, out = run(project_dir, *args)
    assert code != 0 and message in out
    assert "Traceback" not in out and out.strip().count("\n") == 0


def test_failed_files_give_exit_code_3(project_dir: Path) -> None:
    write(project_dir / "docs" / "bad.txt", b"\x00\x00binary")
    code, out = run(project_dir, "ingest", str(project_dir / "docs"))
    assert code == 3 and "bad.txt: binary data" in out and "2 added" in out


def test_no_project(tmp_path: Path) -> None:
    code, out = run(tmp_path, "search", "x")
    assert code == 1 and "ragtune init" in out


def test_unknown_option_and_help(project_dir: Path) -> None:
    code, out = run(project_dir, "search", "x", "--colour")
    assert code == 2 and "No such option" in out
    code, out = run(project_dir, "search", "--help")
    assert "exists(owner)" in out and "cross-encoder" in out


@pytest.mark.parametrize("command", ["compare", "pilot"])
def test_shared_options_refuse_bad_values_before_any_work(tmp_path: Path, command: str) -> None:
    args = ["-C", str(tmp_path / "p"), command]
    if command == "pilot":
        args.append(str(tmp_path))
    result = CliRunner().invoke(cli, [*args, "--resamples", "0"])
    assert result.exit_code == 2 and "--resamples" in result.output
    result = CliRunner().invoke(cli, [*args, "--seed", "x"])
    assert result.exit_code == 2 and "--seed" in result.output
    assert not (tmp_path / "p").exists()  # nothing created
