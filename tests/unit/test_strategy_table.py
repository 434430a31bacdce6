"""One strategy table: a strategy defined in one place (here, a toy) flows through compare,
the advisor, the report and the CLI tables; the built-ins' facts; the label codec."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tests.unit.evaluation.fake_backend as fake
from rich.console import Console
from tests.conftest import EXAMPLES

from ragtune import strategy_table
from ragtune.advisor.framework import advise
from ragtune.advisor.profile import Profile
from ragtune.cli.compare_tables import print_results
from ragtune.config import Settings
from ragtune.evaluation.datasets import load_eval_file
from ragtune.evaluation.runner import CompareConfig, Runner, plan_strategies
from ragtune.project import Project
from ragtune.registry import strategies as factories
from ragtune.report.html import write_report
from ragtune.routing import strategy_for
from ragtune.strategy_table import StrategyInfo


def _toy(project: Project, make: Any) -> Any:
    """A strategy of its own: rag's system under another name (same answers as rag)."""
    system = factories.create("rag", project, make)
    system.strategy = "toy"
    return system


@pytest.fixture
def toy() -> Iterator[StrategyInfo]:
    # The only place the toy strategy is described: simpler than rag, a hybrid by family,
    # recommended under its own name, not in the default set.
    info = strategy_table.define(
        StrategyInfo("toy", retrieves=True, family="hybrid", complexity=0.5,
                     choice="toy hybrid", cost=0.1, default=False), _toy,
    )  # fmt: skip
    yield info
    strategy_table.remove("toy")


def test_a_strategy_defined_once_flows_through_compare_advise_and_report(
    toy: StrategyInfo, tmp_path: Path
) -> None:
    settings = Settings.load(None, embedder={"name": "hash"}, generator={"backend": fake.NAME})
    project = Project.init(tmp_path / "proj", settings)
    project.ingest([EXAMPLES / "docs" / "hr"])
    items = [i for i in load_eval_file(EXAMPLES / "eval.jsonl") if not i.unanswerable][:24]
    specs, _ = plan_strategies(project, ["base", "rag", "toy"], [])
    assert [s.label for s in specs] == ["base", "rag", "toy"]
    runner = Runner(project, items, CompareConfig(specs, seed=0, resamples=200))
    results = runner.run()
    runner.close()
    assert results.labels == ["base", "rag", "toy"]
    assert results.metric("answers", "f1", "toy") == results.metric("answers", "f1", "rag")
    # the advisor: toy answers as rag does, so the simpler of the two (toy, by its facts) wins
    rec = advise(results, Profile(need="knowledge"))
    assert (rec.strategy, rec.choice) == ("toy", "toy hybrid")
    assert any(r.startswith("toy has the best") and "vs rag" in r for r in rec.reasons)
    paths = write_report(results, rec, tmp_path / "reports")
    assert "toy hybrid" in paths["html"].read_text(encoding="utf-8")
    out = Console(width=200, record=True)
    print_results(results, out)
    assert "toy" in out.export_text()
    # not in the default set; unknown to routing's twins, so it routes as itself
    assert "toy" not in strategy_table.names(default_only=True)
    assert strategy_for("toy", "some-adapter") == "toy"
    project.close()


def test_built_in_facts_and_the_label_codec() -> None:
    assert strategy_table.names(default_only=True) == (
        "base", "rag", "extract", "ft", "ft+rag", "raft+rag")  # fmt: skip
    assert strategy_table.needing_adapter() == ("ft", "ft+rag", "raft+rag")
    ft_rag = strategy_table.info("ft+rag:pilot-knowledge")
    assert ft_rag is not None and ft_rag.retrieves and ft_rag.needs_adapter
    assert not strategy_table.generative("extract") and strategy_table.generative("rag")
    assert strategy_table.info("nope") is None and strategy_table.generative("nope")
    assert strategy_table.label("ft", "a") == "ft:a" and strategy_table.label("rag", None) == "rag"
    assert strategy_table.parse_label("ft:a") == ("ft", "a")
    assert strategy_table.parse_label("rag") == ("rag", None)
    assert strategy_for("rag", "hr-lora") == "ft+rag" and strategy_for("raft+rag", "") == "rag"
    with pytest.raises(ValueError, match="already defined"):
        strategy_table.define(StrategyInfo("rag", True, "RAG", 2), _toy)
    with pytest.raises(ValueError, match="family"):
        StrategyInfo("odd", True, "magic", 1)
