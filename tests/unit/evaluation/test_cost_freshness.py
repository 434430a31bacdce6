from __future__ import annotations

import pytest

from ragtune.config import PricingSettings
from ragtune.evaluation.cost import StrategyCost, break_even, strategy_cost
from ragtune.evaluation.freshness import fact_state, states_fact


def test_strategy_cost_from_prices() -> None:
    pricing = PricingSettings(
        cpu_hour=3.6, per_1k_tokens_in=1.0, per_1k_tokens_out=2.0, hardware="cpu"
    )
    c = strategy_cost(
        pricing, seconds_per_query=1.0, tokens_in=500, tokens_out=100, training_seconds=3600
    )
    assert c.per_query == pytest.approx(0.001 + 0.5 + 0.2)
    assert c.per_1k_queries == pytest.approx(701.0)
    assert c.training == pytest.approx(3.6)


def test_break_even() -> None:
    costs = {
        "rag": StrategyCost(0.004, 0.0),
        "ft": StrategyCost(0.002, 0.05),
        "base": StrategyCost(0.001, 0.0),
    }
    rows = {(r.a, r.b): r.queries for r in break_even(costs)}
    assert rows[("ft", "rag")] == pytest.approx(25.0)
    assert rows[("ft", "base")] is None  # base is cheaper per query too: never pays back
    assert ("base", "rag") not in rows and ("rag", "base") not in rows


def test_fact_state() -> None:
    old, new = "25 working days", "27 working days"
    assert fact_state("You now get 27 working days [1].", old, new) == "new"
    assert fact_state("It is 25 days.", old, new) == "stale"
    assert fact_state("I cannot answer from the documents.", old, new) == "other"
    assert fact_state("Either 25 or 27 days.", old, new) == "other"
    # One fact holds the other: the answer states the longer one, not both.
    assert fact_state("-i and -E [3]", "-i", "-i and -E") == "new"
    assert fact_state("Only -i [3]", "-i", "-i and -E") == "stale"
    assert fact_state("Use -i [1]", "-i and -E", "-i") == "new"
    assert states_fact("Reviews live in Harbor Reviews.", "Harbor Reviews", "ReviewLoop")
    assert (
        fact_state(
            "Send it to legal-intake@brightwater-analytics.example",
            "contracts@brightwater-analytics.example",
            "legal-intake@brightwater-analytics.example",
        )
        == "new"
    )
