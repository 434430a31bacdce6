"""``ragtune compare`` through the real packaged models (MiniLM + SmolLM2) on the sample:
a few questions, short answers, with the v2 update."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES

from ragtune.evaluation.datasets import load_eval_file
from ragtune.evaluation.runner import CompareConfig, Runner, StrategySpec
from ragtune.project import Project


@pytest.mark.slow
@pytest.mark.timeout(1500)  # ~5 CPU-min incl. the shared sample fixture; slow on a loaded box
def test_compare_real_models_on_sample(sample_project: Project, tmp_path: Path) -> None:
    # The update: v1 with the v2 leave policy (one document to re-embed keeps this quick).
    update = tmp_path / "update"
    shutil.copytree(EXAMPLES / "docs", update)
    shutil.copy(EXAMPLES / "v2" / "hr" / "annual-leave.md", update / "hr" / "annual-leave.md")
    items = load_eval_file(EXAMPLES / "eval.jsonl")
    picked = [items[0], items[2], next(i for i in items if i.unanswerable)]
    specs = [StrategySpec("base"), StrategySpec("rag"), StrategySpec("extract")]
    config = CompareConfig(specs, options={"max_new_tokens": 16}, update=update,
                           batch_size=4, resamples=200)  # fmt: skip
    runner = Runner(sample_project, picked, config, run_id="real")
    results = runner.run()
    runner.close()
    m = results.metrics
    assert m["retrieval"]["recall@k"]["rag"].mean == 1.0  # the sample's retrieval is good
    assert m["answers"]["bertscore"]["rag"].n == 2
    assert results.performance["rag"].latency_s["generate"].p50.mean > 0
    fresh = results.freshness
    assert fresh is not None and fresh.questions == 2 and (fresh.reindex_s or 0) > 0
    assert fresh.ingest and fresh.ingest["updated"] == 1 and fresh.ingest["unchanged"] >= 30
    assert Path(results.run.folder, "updated", "update.json").exists()
    # The user's project still holds v1.
    leave = sample_project.document("hr/annual-leave.md").text
    assert "25 working days" in leave and "27 working days" not in leave


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_strategies_in_two_processes_store_the_same_answers(
    sample_project: Project, tmp_path: Path
) -> None:
    """workers=2 (spawned 1-thread processes) stores what the sequential run stores, with
    the update phase too."""
    update = tmp_path / "update"
    shutil.copytree(EXAMPLES / "docs", update)
    shutil.copy(EXAMPLES / "v2" / "hr" / "annual-leave.md", update / "hr" / "annual-leave.md")
    items = load_eval_file(EXAMPLES / "eval.jsonl")
    changed = next(i for i in items if i.changes and "hr/annual-leave.md" in i.source_docs)
    picked = [items[2], changed, next(i for i in items if i.unanswerable)]
    specs = [StrategySpec("base"), StrategySpec("rag"), StrategySpec("extract")]
    answers = {}
    for workers in (1, 2):
        config = CompareConfig(specs, options={"max_new_tokens": 12}, update=update,
                               batch_size=2, resamples=50, workers=workers)  # fmt: skip
        runner = Runner(sample_project, picked, config, run_id=f"w{workers}", fresh=True)
        runner.run()
        answers[workers] = {
            (phase, s.label): {k: v["answer"]["text"] for k, v in
                               runner.store.answers(phase, s.label).items()}
            for phase in ("main", "fresh") for s in specs
        }  # fmt: skip
        assert runner.store.meta("retrieves:rag") is True
        assert runner.store.meta("retrieves:base") is False
        runner.close()
    assert answers[1] == answers[2]
    assert all(len(v) == 3 for (phase, _), v in answers[2].items() if phase == "main")
    assert len(answers[2][("fresh", "rag")]) == sum(i.changes for i in picked) >= 1
