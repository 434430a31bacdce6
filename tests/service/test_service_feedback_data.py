"""``ragtune data build --from-feedback``: approved answers train, rejected ones evaluate."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from tests.service.conftest import make_keys, make_project

from ragtune.cli.main import cli
from ragtune.finetune.data import load_split
from ragtune.store.feedback import add_feedback, record_answer


def test_build_from_feedback(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    make_keys(project)
    store = project.store
    asked = {
        "good": project.ask("When does the office close for the spring holiday?", groups=[]),
        "bad": project.ask("How many vacation days do new hires get?", groups=[]),
        "secret": project.ask("When are salary bands reviewed?", groups=["a"]),
        "tie": project.ask("Which holiday closes the office?", groups=[]),
    }
    for answer in asked.values():
        record_answer(store, answer, "k1")
    add_feedback(store, asked["good"].id, "k1", "up", "")
    add_feedback(store, asked["bad"].id, "k1", "down", "says 90, should be 25")
    add_feedback(store, asked["secret"].id, "k1", "up")
    add_feedback(store, asked["tie"].id, "k1", "up")
    add_feedback(store, asked["tie"].id, "k2", "down")

    runner = CliRunner()
    r = runner.invoke(cli, ["-C", str(project.root), "data", "build", "--from-feedback", "--json"])
    assert r.exit_code == 0, r.output
    card = json.loads(r.output)
    assert card["name"] == "feedback" and card["generator"] == "feedback"
    assert any("restricted" in w for w in card["warnings"])
    assert any("equally often" in w for w in card["warnings"])
    trained = load_split(project, "feedback", "train") + load_split(
        project, "feedback", "validation"
    )
    assert [row.answer for row in trained] == [asked["good"].text]
    assert trained[0].doc_id == "public/holidays.md"
    (case,) = load_split(project, "feedback", "test")
    assert case.test_kind == "rejected" and case.extra["comment"] == "says 90, should be 25"
    assert case.extra["rejected_answer"] == asked["bad"].text
    assert case.messages == [{"role": "user", "content": asked["bad"].question}]

    r = runner.invoke(cli, ["-C", str(project.root), "data", "build", "--from-feedback"])
    assert r.exit_code == 2 and "already exists" in r.output
    r = runner.invoke(cli, ["-C", str(project.root), "data", "build", "--from-feedback",
                            "--include-restricted", "--force", "--json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (
        json.loads(r.output)["counts"]["train"] + json.loads(r.output)["counts"]["validation"] == 2
    )
    project.close()


def test_no_feedback_is_a_clear_error(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    r = CliRunner().invoke(cli, ["-C", str(project.root), "data", "build", "--from-feedback"])
    assert r.exit_code == 2 and "no usable feedback yet" in r.output
    project.close()
