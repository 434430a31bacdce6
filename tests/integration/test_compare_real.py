"""``ragtune compare`` through the real packaged models (MiniLM + SmolLM2) on the sample:
a few questions, short answers, with the v2 update."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import EXAMPLES

from ragtune.evaluation.datasets import load_eval_file
from ragtune.evaluation.runner import CompareConfig, Runner, StrategySpec
from ragtune.project import Project


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_compare_real_models_on_sample(sample_project: Project) -> None:
    items = load_eval_file(EXAMPLES / "eval.jsonl")
    picked = [items[0], items[2], next(i for i in items if i.unanswerable)]
    specs = [StrategySpec("base"), StrategySpec("rag"), StrategySpec("extract")]
    config = CompareConfig(specs, options={"max_new_tokens": 16}, update=EXAMPLES / "v2",
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
    assert Path(results["run"]["folder"], "updated", "update.json").exists()
    # The user's project still holds v1.
    assert "hr/learning-and-development.md" not in {d.id for d in sample_project.documents()}
