"""Reading the numbers the advisor quotes out of ``ragtune compare`` results (a
:class:`~ragtune.evaluation.results.Results`) and the pilot's style check (a
:class:`~ragtune.evaluation.sections.StyleCheck`).

Every accessor returns ``None`` when a number was not measured, so rules can say so instead
of guessing. Example::

    ev = Evidence(results, style)
    ev.labels                       # ["base", "rag", "extract", "ft:knowledge", ...]
    ev.fmt(ev.metric("answers", "f1", "rag"))   # "0.231 [0.180, 0.284]"
    ev.diff("answers", "f1", "rag", "base")     # PairedDifference(mean=.., significant=..)
"""

from __future__ import annotations

import math
from pathlib import Path

import ragtune.builtin_strategies  # noqa: F401  (defines the built-in strategies)
import ragtune.strategy_table as strategy_table
from ragtune.errors import NotFoundError
from ragtune.evaluation.cost import BreakEven, StrategyCost
from ragtune.evaluation.results import Results
from ragtune.evaluation.sections import Forgetting, FreshRow, StyleCheck
from ragtune.evaluation.stats import Interval, PairedDifference, fmt_interval
from ragtune.paths import ProjectPaths

QUALITY = ("answers", "f1")  # the primary quality metric: token F1 against the gold answer
TOTAL = "total"  # the latency stage of a whole answer


# The strategy facts the rules use, from the one strategy table (an unknown strategy in old
# results: not retrieving, the most complex, its own name as family).
def strategy_of(label: str) -> str:
    return strategy_table.parse_label(label)[0]


def adapter_of(label: str) -> str | None:
    return strategy_table.parse_label(label)[1]


def retrieves(label: str) -> bool:
    known = strategy_table.info(label)
    return known is not None and known.retrieves


def complexity(label: str) -> float:
    """Simplest first: with no measured difference, the simpler strategy wins."""
    known = strategy_table.info(label)
    return math.inf if known is None else known.complexity


def family(label: str) -> str:
    known = strategy_table.info(label)
    return strategy_of(label) if known is None else known.family


def recommended_as(label: str) -> str:
    known = strategy_table.info(label)
    return strategy_of(label) if known is None else known.recommended_as


fmt = fmt_interval  # the advisor's and the report's name for it (one implementation)


class Evidence:
    """None-safe access to one run's results plus the optional style check."""

    def __init__(self, results: Results, style: StyleCheck | None = None):
        self.results = results
        self.style = style
        self.labels: list[str] = results.labels
        self.n = results.run.questions

    fmt = staticmethod(fmt)

    def metric(self, group: str, name: str, label: str) -> Interval | None:
        return self.results.metric(group, name, label)

    def mean(self, group: str, name: str, label: str) -> float | None:
        stat = self.metric(group, name, label)
        return None if stat is None else float(stat.mean)

    def quality(self, label: str) -> float | None:
        return self.mean(*QUALITY, label)

    def diff(self, group: str, name: str, a: str, b: str) -> PairedDifference | None:
        """Paired difference ``a - b`` (oriented), or None when it was not computed."""
        return self.results.difference(group, name, a, b)

    def better(self, a: str, b: str) -> bool | None:
        """True when ``a`` beats ``b`` on quality with a significant paired difference,
        False when it is significantly worse, None when the data cannot tell them apart."""
        d = self.diff(*QUALITY, a, b)
        if d is None or not d.significant:
            return None
        return bool(d.mean > 0)

    def latency_p95(self, label: str) -> Interval | None:
        """The total latency's p95, or None when it was not measured."""
        perf = self.results.performance.get(label)
        total = None if perf is None else perf.latency_s.get(TOTAL)
        return total.p95 if total is not None and total.p95.measured else None

    def cost(self, label: str) -> StrategyCost | None:
        costs = self.results.cost
        return None if costs is None else costs.strategies.get(label)

    def monthly_cost(self, label: str, queries: int) -> float | None:
        c = self.cost(label)
        return None if c is None else c.per_query * queries

    def break_even(self) -> list[BreakEven]:
        return [] if self.results.cost is None else list(self.results.cost.break_even)

    def freshness(self, label: str) -> FreshRow | None:
        fresh = self.results.freshness
        return None if fresh is None else fresh.strategies.get(label)

    def fresh_new(self, label: str) -> Interval | None:
        """The share of answers stating the new fact after the update (may be unmeasured)."""
        row = self.freshness(label)
        return None if row is None else row.new_after

    def forgetting(self, label: str) -> Forgetting | None:
        probe = self.results.forgetting.get(adapter_of(label) or "")
        return probe if probe is not None and probe.measured else None

    def style_pass(self, key: str) -> Interval | None:
        return None if self.style is None else self.style.format_pass.get(key)

    def style_diff(self) -> PairedDifference | None:
        return None if self.style is None else self.style.difference


def latest_results(state_dir: Path) -> Path:
    """The newest ``runs/compare-*/results.json`` of a project."""
    runs = sorted(
        ProjectPaths(state_dir).runs.glob("compare-*/results.json"), key=lambda p: p.stat().st_mtime
    )
    if not runs:
        raise NotFoundError(
            "no compare results in this project",
            "run `ragtune compare` (or `ragtune pilot DOCS`) first, or pass --results FILE",
        )
    return runs[-1]
