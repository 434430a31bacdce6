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
    m = results["metrics"]
    assert m["retrieval"]["recall@k"]["rag"]["mean"] == 1.0  # the sample's retrieval is good
    assert m["answers"]["bertscore"]["rag"]["n"] == 2
    assert results["performance"]["rag"]["latency_s"]["generate"]["p50"]["mean"] > 0
    fresh = results["freshness"]
    assert fresh["questions"] == 2 and fresh["reindex_s"] > 0
    assert fresh["ingest"]["updated"] == 1 and fresh["ingest"]["unchanged"] >= 30
    assert Path(results["run"]["folder"], "updated", "update.json").exists()
    # The user's project still holds v1.
    leave = sample_project.document("hr/annual-leave.md").text
    assert "25 working days" in leave and "27 working days" not in leave
