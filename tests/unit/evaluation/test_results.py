"""The typed results model: what results.json holds, read back the same way by every
reader (advisor, report, plots, CLI tables)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ragtune.errors import NotFoundError
from ragtune.evaluation.results import Results
from ragtune.evaluation.stats import Interval, PairedDifference, fmt_interval


def _stat(mean: float | None, n: int, low: float = 0.0, high: float = 1.0) -> dict:
    return {"mean": mean, "low": low, "high": high, "n": n, "confidence": 0.95}


def small() -> dict:
    return {
        "run": {
            "id": "r1",
            "folder": "/tmp/r1",
            "questions": 2,
            "seed": 0,
            "latency_sample": 3,
            "judge_selftest_s": 0.1,
            "wall_s": 4.0,
        },
        "definitions": {"answers": {"f1": "token F1"}},
        "metrics": {"answers": {"f1": {"rag": _stat(0.5, 2, 0.4, 0.6), "base": _stat(None, 0)}}},
        "paired": {
            "answers": {
                "f1": [{"a": "base", "b": "rag", **_stat(-0.2, 2, -0.3, -0.1), "significant": True}]
            }
        },
        "judge": {
            "name": "offline",
            "failures": {},
            "judged": {"rag": 2, "base": 2},
            "selftest": None,
            "agreement": None,
        },
        "performance": {},
        "cost": None,
        "freshness": None,
        "forgetting": {"lora": {"note": "no probe recorded for this adapter"}},
        "pathologies": {"threshold": 0.1, "flagged": {}, "examples": {}},
        "calibration": None,
        "per_question": {
            "base": {"ids": ["a", "b"], "f1": [None, None]},
            "rag": {"ids": ["a", "b"], "f1": [0.4, 0.6]},
        },
    }


def test_round_trip_is_exact() -> None:
    data = small()
    results = Results.from_dict(data)
    assert results.to_dict() == data
    assert results.labels == ["base", "rag"] and results.run.latency_sample == 3
    assert results.latency_unit() == "s, first 3 answered alone"


def test_lookups_return_intervals_or_none() -> None:
    results = Results.from_dict(small())
    f1 = results.metric("answers", "f1", "rag")
    assert isinstance(f1, Interval) and fmt_interval(f1) == "0.500 [0.400, 0.600]"
    assert results.metric("answers", "f1", "base") is None  # no values behind it
    assert results.metric("answers", "nope", "rag") is None
    assert fmt_interval(None) == "n/a" and fmt_interval(f1, 2) == "0.50 [0.40, 0.60]"
    # the paired difference is stored once (base - rag) and read either way round
    d = results.difference("answers", "f1", "rag", "base")
    assert isinstance(d, PairedDifference) and d.significant
    assert (d.mean, d.low, d.high) == (0.2, 0.1, 0.3)
    assert results.difference("answers", "f1", "base", "rag").mean == -0.2  # type: ignore[union-attr]
    assert results.significant_sign("answers", "f1", "base", "rag") == 1
    assert results.significant_sign("answers", "f1", "rag", "base") == -1
    assert results.significant_sign("answers", "f1", "rag", "ft") == 0  # not compared
    assert results.difference("answers", "f1", "rag", "ft") is None


def test_unmeasured_intervals_keep_none_in_json() -> None:
    stat = Interval.from_dict(_stat(None, 0))
    assert math.isnan(stat.mean) and not stat.measured and stat.format() == "n/a"
    assert stat.to_dict()["mean"] is None


def test_older_results_without_sections_still_read() -> None:
    results = Results.from_dict({"run": {"id": "old", "questions": 5}, "per_question": {"rag": {}}})
    assert results.freshness is None and results.cost is None and results.judge.selftest is None
    assert results.metric("answers", "f1", "rag") is None and results.forgetting == {}
    assert results.pathologies.threshold == 0.1


def test_load_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not found"):
        Results.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(NotFoundError, match="not valid JSON"):
        Results.load(bad)
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(NotFoundError, match="expected a JSON object"):
        Results.load(tmp_path / "list.json")
    good = tmp_path / "results.json"
    good.write_text(json.dumps(small()))
    assert Results.load(good).run.id == "r1"


def test_labels_keep_the_run_order_after_a_round_trip_through_sorted_json() -> None:
    data = small()
    data["run"]["strategies"] = ["rag", "base"]  # the run's order; the file's keys are sorted
    text = json.dumps(data, sort_keys=True)
    assert Results.from_dict(json.loads(text)).labels == ["rag", "base"]
    data["run"]["strategies"] = ["rag"]  # not the same strategies: the keys' order
    assert Results.from_dict(data).labels == ["base", "rag"]


def test_style_check_round_trip() -> None:
    from ragtune.evaluation.sections import StyleCheck

    data = {
        "adapter": "pilot-style", "dataset": "style", "n": 2, "shots": 2,
        "features": ["starts with 'Short answer:'"],
        "format_pass": {"base": _stat(0.5, 2), "adapter": _stat(1.0, 2, 1.0, 1.0)},
        "format_parts": {"base": _stat(0.5, 2), "adapter": _stat(1.0, 2, 1.0, 1.0)},
        "difference": {**_stat(0.5, 2, 0.0, 1.0), "significant": False},
        "examples": [{"question": "q", "gold": "g", "base": "b", "adapter": "a"}],
    }  # fmt: skip
    check = StyleCheck.from_dict(data)
    assert check.to_dict() == data and check.format_pass["adapter"].mean == 1.0
    assert not check.difference.significant
