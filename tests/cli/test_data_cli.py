"""`ragtune data build|list|show` through click's runner, with the hash embedder."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import write

from ragtune.cli.main import cli

DOCS = {
    "hr/leave.md": "# Leave Policy\n\nUp to 5 days of unused leave may be carried over into the "
    "next leave year.\n\nManagers should approve or decline a request within 3 working days.\n",
    "it/vpn.md": "# VPN Guide\n\nThe VPN disconnects idle sessions after 30 minutes.\n\n"
    "Passwords must contain at least 14 characters.\n",
    "finance/expenses.md": "# Expense Policy\n\nExpense claims must be submitted within 60 days "
    "of the date the expense was incurred.\n",
    "product/api.md": "# API Reference\n\nThe API allows 600 requests per minute per token.\n\n"
    "Cursors expire after 15 minutes.\n",
    "hr/salary.md": "---\ngroups: [hr]\n---\n# Salary Bands\n\nThe merit budget is 4 percent of "
    "total base payroll.\n",
}


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RAGTUNE_EMBEDDER__NAME", "hash")
    root = tmp_path / "p"
    assert run(root, "init")[0] == 0
    for name, text in DOCS.items():
        write(root / "docs" / name, text)
    assert run(root, "ingest", str(root / "docs"))[0] == 0
    return root


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-C", str(root), *args])
    return result.exit_code, result.output


def test_build_list_show(project_dir: Path) -> None:
    code, out = run(project_dir, "data", "build")
    assert code == 0, out
    assert "default" in out and "train" in out and "held-out document" in out
    assert "skipped 1 restricted document" in out
    folder = project_dir / ".ragtune" / "datasets" / "default"
    assert sorted(p.name for p in folder.iterdir()) == [
        "card.json", "test.jsonl", "train.jsonl", "validation.jsonl"]  # fmt: skip
    code, out = run(project_dir, "data", "list")
    assert code == 0 and "default" in out and "1 datasets" in out
    code, out = run(project_dir, "data", "list", "--json")
    assert [c["name"] for c in json.loads(out)] == ["default"]
    code, out = run(project_dir, "data", "show", "default")
    assert code == 0 and "Q: " in out and "A: " in out and "test" in out
    code, out = run(project_dir, "data", "show", "default", "--json")
    shown = json.loads(out)
    assert shown["card"]["name"] == "default" and set(shown["samples"]) == {
        "train", "validation", "test"}  # fmt: skip
    assert all(1 <= len(rows) <= 3 for rows in shown["samples"].values())


def test_build_json_force_and_options(project_dir: Path, tmp_path: Path) -> None:
    style = write(tmp_path / "style.jsonl", "".join(
        json.dumps({"question": f"Can I do thing number {i}?", "answer": f"Yes ({i})."}) + "\n"
        for i in range(10)))  # fmt: skip
    args = ["data", "build", "--name", "mix", "--style", str(style), "--raw", "--seed", "3",
            "--phrasings", "2", "--include-restricted", "--json"]  # fmt: skip
    code, out = run(project_dir, *args)
    assert code == 0, out
    card = json.loads(out)
    assert card["seed"] == 3 and card["sources"]["style"] == 10 and card["sources"]["raw"] > 0
    assert card["warnings"] == [] and card["path"].endswith("mix")
    code, out = run(project_dir, *args)
    assert code == 2 and out.strip() == (
        f"Error: dataset 'mix' already exists ({project_dir}/.ragtune/datasets/mix) "
        "(pass --force to rebuild)"
    )
    code, out = run(project_dir, *args, "--force")
    assert code == 0 and json.loads(out)["hash"] == card["hash"]  # same inputs, same files


def test_import_and_skip_invalid(project_dir: Path, tmp_path: Path) -> None:
    rows = [json.dumps({"question": f"What is rule number {i}?", "answer": f"Rule {i}."})
            for i in range(6)]  # fmt: skip
    path = write(tmp_path / "mine.jsonl", "\n".join([rows[0], '{"question": 1}', *rows[1:]]))
    code, out = run(project_dir, "data", "build", "-n", "imp", "-i", str(path), "--no-qa")
    assert code == 2 and f"{path}:2: field 'question' must be a string, got int" in out
    assert "Traceback" not in out and out.strip().count("\n") == 0
    args = ["data", "build", "-n", "imp", "-i", str(path), "--no-qa", "--skip-invalid"]
    code, out = run(project_dir, *args)
    assert code == 0 and f"warning: skipped {path}:2:" in out and "import 6" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "show", "nope"], "no dataset named 'nope'"),
        (["data", "build", "--import", "missing.jsonl"], "import file not found: missing.jsonl"),
        (["data", "build", "--name", "a/b"], "bad dataset name 'a/b'"),
        (["data", "build", "--phrasings", "0"], "phrasings must be between 1 and 10"),
        (["data", "build", "--no-qa"], "too few examples to split: 0"),
    ],
)
def test_errors_are_one_line(project_dir: Path, args: list[str], message: str) -> None:
    code, out = run(project_dir, *args)
    assert code != 0 and message in out
    assert "Traceback" not in out and out.strip().count("\n") == 0


def test_help_explains_format_split_and_restricted(project_dir: Path) -> None:
    code, out = run(project_dir, "data", "build", "--help")
    assert code == 0
    for text in ("heldout_doc", "paraphrase", "card.json", "byte-identical", "--skip-invalid",
                 "anyone who can query the model", "test_kind"):  # fmt: skip
        assert text in out


def test_build_raft(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--raft through the CLI: the rag prompt of the configured generator, the plain split.
    (An openai-backend generator counts tokens without loading a model; the packaged model's
    prompts are checked in tests/integration/test_hybrid_real.py.)"""
    monkeypatch.setenv("RAGTUNE_GENERATOR__BACKEND", "openai")
    monkeypatch.setenv("RAGTUNE_GENERATOR__MODEL", "served-model")
    assert run(project_dir, "data", "build", "--name", "plain", "--seed", "2")[0] == 0
    args = ["data", "build", "--name", "r", "--raft", "--raft-k", "1", "--raft-p-missing", "0.5",
            "--seed", "2", "--json"]  # fmt: skip
    code, out = run(project_dir, *args)
    assert code == 0, out
    card = json.loads(out)
    assert card["raft"]["k"] == 1 and card["raft"]["p_missing"] == 0.5
    folder = project_dir / ".ragtune" / "datasets"
    assert json.loads((folder / "r" / "card.json").read_text())["raft"]["k"] == 1
    for split in ("train", "validation", "test"):
        rows = [json.loads(x) for x in (folder / "r" / f"{split}.jsonl").read_text().splitlines()]
        plain = [
            json.loads(x) for x in (folder / "plain" / f"{split}.jsonl").read_text().splitlines()
        ]
        assert sorted(r["question"] for r in rows) == sorted(
            p["messages"][0]["content"] for p in plain
        )
        assert all(r["messages"][0]["role"] == "system" for r in rows)
        assert all(r["messages"][1]["content"].startswith("Context:\n[1] ") for r in rows)
    code, out = run(project_dir, "data", "show", "r")
    assert code == 0 and "Q: Context" not in out and "Q: " in out
    code, out = run(project_dir, "data", "build", "--name", "r2", "--raft")
    assert code == 0 and "raft: 4 distractors per example; oracle left out in" in out
    for bad, message in [
        (["--raft-k", "2"], "Error: --raft-k and --raft-p-missing need --raft"),
        (["--raft-p-missing", "0.3"], "Error: --raft-k and --raft-p-missing need --raft"),
        (["--raft", "--raft-k", "0"], "Error: --raft-k must be between 1 and 20, got 0"),
        (["--raft", "--raft-p-missing", "2"], "Error: --raft-p-missing must be in [0, 1], got 2.0"),
    ]:
        code, out = run(project_dir, "data", "build", "--name", "bad", *bad)
        assert code == 2 and out.strip() == message, out
