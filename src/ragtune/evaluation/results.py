"""The typed results of one ``ragtune compare`` run: what the advisor, the report, the plots
and the CLI tables read, and what ``results.json`` holds (:meth:`Results.to_dict`, read back
with :meth:`Results.from_dict`; the file's layout is unchanged by this model).

Every number with uncertainty is an :class:`~ragtune.evaluation.stats.Interval`; every lookup
that may miss returns ``None`` instead of raising, so readers can say "not measured".
Example::

    results = Results.from_dict(json.loads(path.read_text()))
    results.labels                                  # ["base", "rag", "extract", ...]
    results.metric("answers", "f1", "rag")          # Interval(mean=0.23, ...) or None
    results.difference("answers", "f1", "rag", "base")   # PairedDifference, rag - base
    results.cost.strategies["rag"].per_query        # USD
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ragtune.errors import NotFoundError
from ragtune.evaluation.cost import BreakEven, StrategyCost
from ragtune.evaluation.sections import (
    Agreement,
    CrossFitSummary,
    Forgetting,
    Freshness,
    Pathologies,
    SelfTest,
    dump_intervals,
    read_intervals,
)
from ragtune.evaluation.stats import Interval, PairedDifference

PerLabel = dict[str, Interval]  # strategy label -> interval
T = TypeVar("T")


def clean(obj: Any) -> Any:
    """NaN -> None everywhere (JSON has no NaN)."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean(v) for v in obj]
    return obj


@dataclass(frozen=True)
class Comparison:
    """A paired difference ``a - b`` on one metric (both answered the same questions)."""

    a: str
    b: str
    diff: PairedDifference

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, **self.diff.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        return cls(str(data["a"]), str(data["b"]), PairedDifference.from_dict(data))


@dataclass
class RunInfo:
    """Which run: its id and folder, how many questions, its wall time, and the settings it
    was run with (``settings``: the run store's config, kept as written)."""

    id: str
    folder: str
    questions: int
    settings: dict[str, Any] = field(default_factory=dict)
    wall_s: float | None = None
    judge_selftest_s: float | None = None

    @property
    def latency_sample(self) -> int:
        """How many answers per strategy were timed alone (0: batch wall time)."""
        return int(self.settings.get("latency_sample") or 0)

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "folder": self.folder, "questions": self.questions, **self.settings}
        out["judge_selftest_s"] = self.judge_selftest_s
        if self.wall_s is not None:
            out["wall_s"] = self.wall_s
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunInfo:
        known = {"id", "folder", "questions", "wall_s", "judge_selftest_s"}
        return cls(
            id=str(data.get("id", "")),
            folder=str(data.get("folder", "")),
            questions=int(data.get("questions") or 0),
            settings={k: v for k, v in data.items() if k not in known},
            wall_s=data.get("wall_s"),
            judge_selftest_s=data.get("judge_selftest_s"),
        )


@dataclass
class Judge:
    """Which judge scored the answers, how often it failed to give a verdict (per strategy
    and metric), and how far it can be trusted (self-test; an LLM judge's agreement)."""

    name: str
    failures: dict[str, dict[str, int]] = field(default_factory=dict)
    judged: dict[str, int] = field(default_factory=dict)
    selftest: SelfTest | None = None
    agreement: Agreement | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "failures": self.failures,
            "judged": self.judged,
            "selftest": self.selftest.to_dict() if self.selftest else None,
            "agreement": self.agreement.to_dict() if self.agreement else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Judge:
        test, agree = data.get("selftest"), data.get("agreement")
        return cls(
            name=str(data.get("name", "")),
            failures=dict(data.get("failures") or {}),
            judged=dict(data.get("judged") or {}),
            selftest=SelfTest.from_dict(test) if test else None,
            agreement=Agreement.from_dict(agree) if agree else None,
        )


@dataclass(frozen=True)
class Percentiles:
    p50: Interval
    p95: Interval

    def named(self) -> dict[str, Interval]:
        return {"p50": self.p50, "p95": self.p95}


@dataclass
class Performance:
    """One strategy's latency per stage (p50/p95 with CIs), tokens, compute and memory."""

    latency_s: dict[str, Percentiles]
    tokens_in: Interval
    tokens_out: Interval
    compute_s_per_query: Interval
    peak_rss_mb: float | None = None
    training_wall_s: float = 0.0

    def per_query(self) -> dict[str, Interval]:
        """The per-answer measures, by the name the tables show them under."""
        return {
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "compute_s_per_query": self.compute_s_per_query,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_s": {
                k: {"p50": v.p50.to_dict(), "p95": v.p95.to_dict()}
                for k, v in self.latency_s.items()
            },
            "tokens_in": self.tokens_in.to_dict(),
            "tokens_out": self.tokens_out.to_dict(),
            "compute_s_per_query": self.compute_s_per_query.to_dict(),
            "peak_rss_mb": self.peak_rss_mb,
            "training_wall_s": self.training_wall_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Performance:
        return cls(
            latency_s={
                k: Percentiles(Interval.from_dict(v["p50"]), Interval.from_dict(v["p95"]))
                for k, v in (data.get("latency_s") or {}).items()
            },
            tokens_in=Interval.from_dict(data["tokens_in"]),
            tokens_out=Interval.from_dict(data["tokens_out"]),
            compute_s_per_query=Interval.from_dict(data["compute_s_per_query"]),
            peak_rss_mb=data.get("peak_rss_mb"),
            training_wall_s=float(data.get("training_wall_s") or 0.0),
        )


@dataclass
class Cost:
    """Per-strategy cost at the configured hardware price, and the break-even points."""

    hardware: str
    hour_price: float
    pricing: dict[str, Any]
    strategies: dict[str, StrategyCost]
    break_even: list[BreakEven]

    def to_dict(self) -> dict[str, Any]:
        return {
            "hardware": self.hardware,
            "hour_price": self.hour_price,
            "pricing": self.pricing,
            "strategies": {k: v.to_dict() for k, v in self.strategies.items()},
            "break_even": [b.to_dict() for b in self.break_even],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cost:
        return cls(
            hardware=str(data.get("hardware", "")),
            hour_price=float(data.get("hour_price") or 0.0),
            pricing=dict(data.get("pricing") or {}),
            strategies={
                k: StrategyCost.from_dict(v) for k, v in (data.get("strategies") or {}).items()
            },
            break_even=[BreakEven.from_dict(b) for b in data.get("break_even") or []],
        )


@dataclass
class Results:
    """Everything one run measured (see the module docstring)."""

    run: RunInfo
    definitions: dict[str, dict[str, str]]  # group -> metric -> what it measures
    metrics: dict[str, dict[str, PerLabel]]  # group -> metric -> label -> interval
    paired: dict[str, dict[str, list[Comparison]]]  # group -> metric -> every pair
    judge: Judge
    performance: dict[str, Performance]
    cost: Cost | None
    freshness: Freshness | None
    forgetting: dict[str, Forgetting]  # adapter name -> its probe
    pathologies: Pathologies
    calibration: CrossFitSummary | None
    per_question: dict[str, dict[str, list[Any]]]  # label -> "ids" and metric -> values
    # The pilot's only: each adapter's false-abstention check from its training (pilot.json)
    abstention: dict[str, Any] | None = None

    @property
    def labels(self) -> list[str]:
        """The strategies, in the order they were run: the run's own list, since
        results.json is written with sorted keys (read back, ``per_question`` is sorted)."""
        ran = self.run.settings.get("strategies")
        if isinstance(ran, list) and sorted(ran) == sorted(self.per_question):
            return [str(s) for s in ran]
        return list(self.per_question)

    def by_label(self, per: Mapping[str, T]) -> list[tuple[str, T]]:
        """A label-keyed section's entries in the run's order (a file read back is sorted)."""
        return [(s, per[s]) for s in self.labels if s in per]

    def metric(self, group: str, name: str, label: str) -> Interval | None:
        """The measured interval, or None (not measured, or no value behind it)."""
        stat = self.metrics.get(group, {}).get(name, {}).get(label)
        return stat if stat is not None and stat.measured else None

    def difference(self, group: str, name: str, a: str, b: str) -> PairedDifference | None:
        """``a - b`` on one metric, whichever way round it was computed; None when the pair
        was not compared or had no question with both values."""
        for p in self.paired.get(group, {}).get(name, []):
            if not p.diff.measured:
                continue
            if (p.a, p.b) == (a, b):
                return p.diff
            if (p.a, p.b) == (b, a):
                return p.diff.negated()
        return None

    def significant_sign(self, group: str, name: str, ref: str, label: str) -> int:
        """+1 / -1 when ``label`` is significantly above / below ``ref``; 0 otherwise."""
        d = self.difference(group, name, label, ref)
        if d is None or not d.significant:
            return 0
        return 1 if d.mean > 0 else -1

    def latency_unit(self) -> str:
        """What a latency row measures: seconds, and on which answers (see CompareConfig)."""
        n = self.run.latency_sample
        return f"s, first {n} answered alone" if n else "s, batch wall time"

    def scores(self, label: str, metric: str) -> list[Any]:
        """One strategy's per-question values of a metric ([] when not recorded)."""
        return list(self.per_question.get(label, {}).get(metric, []))

    def to_dict(self) -> dict[str, Any]:
        out = {
            "run": self.run.to_dict(),
            "definitions": self.definitions,
            "metrics": {
                g: {m: dump_intervals(per) for m, per in ms.items()}
                for g, ms in self.metrics.items()
            },
            "paired": {
                g: {m: [p.to_dict() for p in ps] for m, ps in ms.items()}
                for g, ms in self.paired.items()
            },
            "judge": self.judge.to_dict(),
            "performance": {k: v.to_dict() for k, v in self.performance.items()},
            "cost": self.cost.to_dict() if self.cost else None,
            "freshness": self.freshness.to_dict() if self.freshness else None,
            "forgetting": {k: v.to_dict() for k, v in self.forgetting.items()},
            "pathologies": self.pathologies.to_dict(),
            "calibration": self.calibration.to_dict() if self.calibration else None,
            "per_question": self.per_question,
        }
        if self.abstention is not None:
            out["abstention"] = self.abstention
        cleaned: dict[str, Any] = clean(out)
        return cleaned

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Results:
        """Read a ``results.json``; sections an older run did not write come back empty."""
        fresh, cal, cost = data.get("freshness"), data.get("calibration"), data.get("cost")
        return cls(
            run=RunInfo.from_dict(data.get("run") or {}),
            definitions={g: dict(d) for g, d in (data.get("definitions") or {}).items()},
            metrics={
                g: {m: read_intervals(per) for m, per in ms.items()}
                for g, ms in (data.get("metrics") or {}).items()
            },
            paired={
                g: {m: [Comparison.from_dict(p) for p in ps] for m, ps in ms.items()}
                for g, ms in (data.get("paired") or {}).items()
            },
            judge=Judge.from_dict(data.get("judge") or {}),
            performance={
                k: Performance.from_dict(v) for k, v in (data.get("performance") or {}).items()
            },
            cost=Cost.from_dict(cost) if cost else None,
            freshness=Freshness.from_dict(fresh) if fresh else None,
            forgetting={
                k: Forgetting.from_dict(v) for k, v in (data.get("forgetting") or {}).items()
            },
            pathologies=Pathologies.from_dict(data.get("pathologies") or {}),
            calibration=CrossFitSummary.from_dict(cal) if cal else None,
            per_question={k: dict(v) for k, v in (data.get("per_question") or {}).items()},
            abstention=data.get("abstention"),
        )

    @classmethod
    def load(cls, path: Path | str) -> Results:
        """Read a ``results.json`` file (a clear error when it is missing or not JSON)."""
        return cls.from_dict(load_json(path))


def load_json(path: Path | str) -> dict[str, Any]:
    """A JSON object from ``path``, or a :class:`NotFoundError` saying what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"{path} not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise NotFoundError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise NotFoundError(f"{path}: expected a JSON object")
    return data
