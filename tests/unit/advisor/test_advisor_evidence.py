"""The advisor's view of a run: typed, oriented and None where nothing was measured."""

from __future__ import annotations

from tests.helpers.pilot_results import make_results, make_style

from ragtune.advisor.evidence import Evidence
from ragtune.evaluation.results import Results


def test_differences_are_oriented_and_typed() -> None:
    ev = Evidence(make_results())
    ahead, behind = ev.diff("answers", "f1", "rag", "base"), ev.diff("answers", "f1", "base", "rag")
    assert ahead is not None and behind is not None and ahead.significant
    assert ahead.mean == -behind.mean and (ahead.low, ahead.high) == (-behind.high, -behind.low)
    assert ev.better("rag", "base") is True and ev.better("base", "rag") is False
    assert ev.diff("answers", "f1", "rag", "nope") is None and ev.better("rag", "nope") is None
    assert ev.fmt(ev.metric("answers", "f1", "rag")).startswith("0.4")
    assert ev.metric("citations", "citation_precision", "base") is None  # all NaN: unmeasured


def test_performance_cost_freshness_and_forgetting() -> None:
    ev = Evidence(make_results(p95={"base": 0.4, "rag": 0.8, "extract": 0.1, "ft:k": 1.5}))
    p95 = ev.latency_p95("ft:k")
    assert p95 is not None and p95.mean == 1.5
    cost = ev.cost("rag")
    assert cost is not None and ev.monthly_cost("rag", 1000) == cost.per_query * 1000
    assert [(b.a, b.b, b.queries) for b in ev.break_even()] == [("ft:k", "rag", 3300.0)]
    new = ev.fresh_new("rag")
    assert new is not None and new.measured
    probe = ev.forgetting("ft:k")
    assert probe is not None and probe.perplexity_increase_pct == 10.0
    assert ev.forgetting("rag") is None


def test_style_check_reads_as_intervals() -> None:
    ev = Evidence(make_results(), make_style(0.75, 0.0))
    tuned, diff = ev.style_pass("adapter"), ev.style_diff()
    assert tuned is not None and tuned.mean == 0.75
    assert diff is not None and diff.significant and diff.mean > 0
    assert Evidence(make_results()).style_pass("adapter") is None


def test_results_without_sections_say_not_measured() -> None:
    ev = Evidence(Results.from_dict({}))
    assert ev.labels == [] and ev.n == 0
    assert ev.latency_p95("rag") is None and ev.cost("rag") is None
    assert ev.break_even() == [] and ev.freshness("rag") is None and ev.fresh_new("rag") is None
    assert ev.forgetting("ft:k") is None and ev.style_diff() is None
