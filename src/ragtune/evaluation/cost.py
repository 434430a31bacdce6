"""Cost estimates from measured compute time, tokens and the ``[pricing]`` settings.

- cost per 1k queries = 1000 × (compute seconds per query / 3600 × hour price
  + tokens in / 1000 × price in + tokens out / 1000 × price out);
  compute seconds per query is the wall time of each batched ``answer_many`` call divided by
  its questions;
- one-off training cost = the adapter's recorded training wall time / 3600 × hour price;
- break-even volume between strategies A and B: the number of queries after which the one
  with the higher one-off cost has become cheaper overall,
  ``(training_A - training_B) / (per_query_B - per_query_A)``, when that is positive.

Example::

    costs = {"rag": StrategyCost(0.004, 0.0), "ft": StrategyCost(0.002, 0.05)}
    break_even(costs)   # [BreakEven(a="ft", b="rag", queries=25.0, ...)]
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

from ragtune.config import PricingSettings


@dataclass(frozen=True)
class StrategyCost:
    per_query: float  # USD
    training: float  # USD, one-off

    @property
    def per_1k_queries(self) -> float:
        return 1000.0 * self.per_query

    def to_dict(self) -> dict[str, float]:
        return {**asdict(self), "per_1k_queries": self.per_1k_queries}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StrategyCost:
        return cls(float(data["per_query"]), float(data["training"]))


def hour_price(pricing: PricingSettings) -> tuple[str, float]:
    """(hardware, price per hour); ``auto`` looks for CUDA (torch is loaded by then)."""
    hardware = pricing.hardware
    if hardware == "auto":
        try:
            import torch

            hardware = "gpu" if torch.cuda.is_available() else "cpu"
        except ImportError:
            hardware = "cpu"
    return hardware, pricing.gpu_hour if hardware == "gpu" else pricing.cpu_hour


def strategy_cost(
    pricing: PricingSettings,
    seconds_per_query: float,
    tokens_in: float,
    tokens_out: float,
    training_seconds: float = 0.0,
) -> StrategyCost:
    """Per-query and one-off cost of one strategy from its measured means."""
    _, hourly = hour_price(pricing)
    per_query = (
        seconds_per_query / 3600.0 * hourly
        + tokens_in / 1000.0 * pricing.per_1k_tokens_in
        + tokens_out / 1000.0 * pricing.per_1k_tokens_out
    )
    return StrategyCost(per_query, training_seconds / 3600.0 * hourly)


@dataclass(frozen=True)
class BreakEven:
    """``a`` paid ``extra_training_usd`` more up front than ``b`` and saves
    ``saving_per_query_usd`` per query; it is cheaper overall after ``queries`` (None: never)."""

    a: str
    b: str
    extra_training_usd: float
    saving_per_query_usd: float
    queries: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BreakEven:
        return cls(**{f: data[f] for f in cls.__dataclass_fields__})


def break_even(costs: dict[str, StrategyCost]) -> list[BreakEven]:
    """For each pair with different one-off costs: after how many queries the strategy that
    paid more up front (``a``) becomes cheaper overall; ``queries`` is None when it never does."""
    out = []
    for x, y in combinations(sorted(costs), 2):
        a, b = (x, y) if costs[x].training >= costs[y].training else (y, x)
        extra = costs[a].training - costs[b].training
        if extra <= 0:
            continue
        saving = costs[b].per_query - costs[a].per_query
        queries = extra / saving if saving > 0 else None
        if queries is not None and math.isinf(queries):
            queries = None
        out.append(
            BreakEven(
                a, b, extra, saving, None if queries is None or math.isinf(queries) else queries
            )
        )
    return out
