"""Pilot pieces without models: question picking, stage hashing/skipping, the style check's
format features, config validation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES

from ragtune.errors import UsageError
from ragtune.evaluation.datasets import load_eval_file
from ragtune.pilot.config import PilotConfig, stage_names
from ragtune.pilot.run import Pilot, estimates, pick_items
from ragtune.pilot.stages import Display, StageBook, tree_hash
from ragtune.pilot.style import format_features, format_score
from ragtune.project import Project


def test_pick_items_keeps_changed_and_unanswerable_questions() -> None:
    items = load_eval_file(EXAMPLES / "eval.jsonl")
    picked = pick_items(items, 12)
    assert len(picked) == 12
    assert sum(i.changes for i in picked) == 4 and sum(i.unanswerable for i in picked) == 4
    order = [i.id for i in items]
    assert [i.id for i in picked] == sorted((i.id for i in picked), key=order.index)
    assert pick_items(items, 0) == items


def test_stage_book_skips_same_inputs_and_remembers_times(tmp_path: Path) -> None:
    book = StageBook(tmp_path)
    key = book.key({"docs": "abc", "seed": 0})
    assert not book.fresh("ingest", key)
    book.done("ingest", key, 12.5, {"documents": 3})
    again = StageBook(tmp_path)  # from disk
    assert again.fresh("ingest", key) and again.outputs("ingest") == {"documents": 3}
    assert not again.fresh("ingest", book.key({"docs": "abd", "seed": 0}))
    assert again.seconds("ingest") == 12.5


def test_tree_hash_follows_content_not_mtime(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("one")
    (tmp_path / ".hidden").write_text("ignored")
    first = tree_hash(tmp_path)
    (tmp_path / ".hidden").write_text("changed")
    (tmp_path / "a.md").write_text("one")
    assert tree_hash(tmp_path) == first
    (tmp_path / "a.md").write_text("two")
    assert tree_hash(tmp_path) != first


def test_display_logs_stages_without_a_terminal() -> None:
    display = Display({"ingest": 5.0, "data": 3.0}, enabled=False)
    with display.running():
        with display.stage("ingest") as tick:
            tick(1, 2)
        display.skipped("data")
    assert [(s["stage"], s["skipped"]) for s in display.log] == [
        ("ingest", False),
        ("data", True),
    ]


def test_style_features_are_learned_from_the_examples() -> None:
    rows = [line for line in (EXAMPLES / "style.jsonl").read_text().splitlines() if line]
    import json

    answers = [json.loads(r)["answer"] for r in rows]
    features = format_features(answers)
    assert ("first", "Short answer:") in features
    assert ("last", "-- Brightwater People & Finance Desk") in features
    assert format_score(answers[0], features) == (True, 1.0)
    ok, share = format_score("Yes, 25 days.", features)
    assert not ok and share == 0.0


def test_config_validation_and_stages(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown strategy"):
        PilotConfig(docs=EXAMPLES / "docs", strategies=("rag", "magic"))
    with pytest.raises(UsageError, match="not found"):
        PilotConfig(docs=tmp_path / "missing")
    config = PilotConfig(docs=EXAMPLES / "docs", strategies=("base", "rag"))
    assert stage_names(config) == ["ingest", "data", "compare", "advise + report"]
    full = PilotConfig(docs=EXAMPLES / "docs", style=EXAMPLES / "style.jsonl")
    assert "tune style LoRA" in stage_names(full) and "style check" in stage_names(full)
    assert set(estimates(full, StageBook(tmp_path), 30)) == set(stage_names(full))


def test_backend_is_checked_before_any_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="unknown backend 'openai'"):
        PilotConfig(docs=EXAMPLES / "docs", backend="openai")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name)
    )
    with pytest.raises(UsageError, match="needs llama-cpp-python") as info:
        PilotConfig(docs=EXAMPLES / "docs", backend="llamacpp")
    assert "make setup-llamacpp" in str(info.value.hint)
    assert PilotConfig(docs=EXAMPLES / "docs", backend="transformers").backend == "transformers"


def test_display_stages_can_overlap() -> None:
    """Parallel LoRA runs: two stages open at once, closed in any order, each timed."""
    display = Display({"a": 1.0, "b": 1.0}, enabled=False)
    tick_a = display.begin("a")
    display.begin("b")
    tick_a(1, 2)
    assert display.end("b", cpu_s=0.5) >= 0.0
    display.end("a", cpu_s=0.25)
    assert [(s["stage"], s["cpu_s"]) for s in display.log] == [("b", 0.5), ("a", 0.25)]


def test_raft_missing_share_is_bounded(tmp_path: Path) -> None:
    assert PilotConfig(docs=tmp_path, raft_missing=0.1).raft_missing == 0.1
    # the pilot trains no refusal unless asked (bench/NOTES.md: 43 % false refusals at 0.1)
    assert PilotConfig(docs=tmp_path).raft_missing == 0.0
    with pytest.raises(UsageError, match="--raft-missing"):
        PilotConfig(docs=tmp_path, raft_missing=0.9)


def test_pilot_changes_a_copy_of_the_settings(tmp_path: Path) -> None:
    """--k applies to the pilot's own project; the caller's settings are left as they were."""
    project = Project.init(tmp_path / "p")
    k = project.settings.retrieval.k
    pilot = Pilot(project, PilotConfig(docs=EXAMPLES / "docs", k=k + 3), progress=False)
    assert pilot.project.settings.retrieval.k == k + 3 and pilot.project.root == project.root
    assert project.settings.retrieval.k == k
    with pytest.raises(UsageError, match="no settings section"):
        project.with_settings(nonsense={"k": 1})
    with pytest.raises(ValueError):  # checked like the config file
        project.with_settings(retrieval={"k": "many"})
