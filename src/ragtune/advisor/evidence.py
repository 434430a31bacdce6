"""Reading the numbers the advisor quotes out of ``ragtune compare`` results (the JSON of
:func:`ragtune.evaluation.report.build_results`) and the pilot's style check.

Every accessor returns ``None`` when a number was not measured, so rules can say so instead
of guessing. Example::

    ev = Evidence(results, style)
    ev.labels                       # ["base", "rag", "extract", "ft:knowledge", ...]
    ev.fmt(ev.metric("answers", "f1", "rag"))   # "0.231 [0.180, 0.284]"
    ev.diff("answers", "f1", "rag", "base")     # {"mean": .., "low": .., "significant": ..}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ragtune.errors import NotFoundError
from ragtune.evaluation.stats import fmt_interval
from ragtune.paths import ProjectPaths

QUALITY = ("answers", "f1")  # the primary quality metric: token F1 against the gold answer
RETRIEVING = ("rag", "extract", "ft+rag", "raft+rag")
# Simplest first: with no measured difference, the simpler strategy wins.
COMPLEXITY = ("base", "extract", "rag", "ft", "ft+rag", "raft+rag")
FAMILIES = {
    "base": "prompting only",
    "rag": "RAG",
    "extract": "RAG",
    "ft": "fine-tuning",
    "ft+rag": "hybrid",
    "raft+rag": "hybrid",
}

Stat = Mapping[str, Any]


def strategy_of(label: str) -> str:
    return label.split(":", 1)[0]


def adapter_of(label: str) -> str | None:
    return label.split(":", 1)[1] if ":" in label else None


def retrieves(label: str) -> bool:
    return strategy_of(label) in RETRIEVING


def complexity(label: str) -> int:
    name = strategy_of(label)
    return COMPLEXITY.index(name) if name in COMPLEXITY else len(COMPLEXITY)


fmt = fmt_interval  # the advisor's and the report's name for it (one implementation)


class Evidence:
    """Typed, None-safe access to one run's results plus the optional style check."""

    def __init__(self, results: Mapping[str, Any], style: Mapping[str, Any] | None = None):
        self.results = results
        self.style = style or None
        self.labels: list[str] = list(results.get("per_question") or {})
        self.n = int(results.get("run", {}).get("questions") or 0)

    fmt = staticmethod(fmt)

    def metric(self, group: str, name: str, label: str) -> Stat | None:
        stat = self.results.get("metrics", {}).get(group, {}).get(name, {}).get(label)
        return stat if stat and stat.get("n") and stat.get("mean") is not None else None

    def mean(self, group: str, name: str, label: str) -> float | None:
        stat = self.metric(group, name, label)
        return None if stat is None else float(stat["mean"])

    def quality(self, label: str) -> float | None:
        return self.mean(*QUALITY, label)

    def diff(self, group: str, name: str, a: str, b: str) -> dict[str, Any] | None:
        """Paired difference ``a - b`` (oriented), or None when it was not computed."""
        for p in self.results.get("paired", {}).get(group, {}).get(name, []):
            if p.get("mean") is None:
                continue
            if (p["a"], p["b"]) == (a, b):
                return dict(p)
            if (p["a"], p["b"]) == (b, a):
                return {**p, "a": a, "b": b, "mean": -p["mean"],
                        "low": -p["high"], "high": -p["low"]}  # fmt: skip
        return None

    def better(self, a: str, b: str) -> bool | None:
        """True when ``a`` beats ``b`` on quality with a significant paired difference,
        False when it is significantly worse, None when the data cannot tell them apart."""
        d = self.diff(*QUALITY, a, b)
        if d is None or not d.get("significant"):
            return None
        return bool(d["mean"] > 0)

    def latency_p95(self, label: str) -> Stat | None:
        lat = self.results.get("performance", {}).get(label, {}).get("latency_s", {})
        return (lat.get("total") or {}).get("p95")

    def cost(self, label: str) -> Stat | None:
        return self.results.get("cost", {}).get("strategies", {}).get(label)

    def monthly_cost(self, label: str, queries: int) -> float | None:
        c = self.cost(label)
        return None if c is None else c["per_query"] * queries

    def break_even(self) -> list[dict[str, Any]]:
        return list(self.results.get("cost", {}).get("break_even") or [])

    def freshness(self, label: str) -> dict[str, Any] | None:
        fresh = self.results.get("freshness") or {}
        return (fresh.get("strategies") or {}).get(label)

    def fresh_new(self, label: str) -> Stat | None:
        row = self.freshness(label)
        return None if row is None else row["fresh"].get("new")

    def forgetting(self, label: str) -> dict[str, Any] | None:
        adapter = adapter_of(label)
        probe = (self.results.get("forgetting") or {}).get(adapter or "")
        return probe if probe and "perplexity_increase_pct" in probe else None

    def style_pass(self, key: str) -> Stat | None:
        if not self.style:
            return None
        return (self.style.get("format_pass") or {}).get(key)

    def style_diff(self) -> dict[str, Any] | None:
        return None if not self.style else self.style.get("difference")


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


def load_json(path: Path | str) -> dict[str, Any]:
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
