"""The sections of :class:`ragtune.evaluation.results.Results` that are more than intervals
per strategy: the judge's self-test and agreement, freshness, forgetting, pathologies and the
abstention calibration. Each has ``to_dict``/``from_dict`` matching ``results.json``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ragtune.evaluation.stats import Interval, PairedDifference

FLAG_SHARE = 0.10  # a strategy is flagged when more of its answers than this show a kind


def read_intervals(data: Mapping[str, Any]) -> dict[str, Interval]:
    """``{key: Interval}`` from its JSON form (the inverse of :func:`dump_intervals`)."""
    return {k: Interval.from_dict(v) for k, v in data.items()}


def dump_intervals(data: Mapping[str, Interval]) -> dict[str, Any]:
    return {k: v.to_dict() for k, v in data.items()}


@dataclass
class SelfTest:
    """How often the judge caught deliberately edited answers (:mod:`.selftest`): per kind
    of edit, per strategy and ``"all"`` pooled."""

    sample: int
    threshold: float
    supported_min: float | None
    definitions: dict[str, str]
    answers: dict[str, int]
    caught: dict[str, dict[str, Interval]]  # kind -> label | "all" -> share caught
    unparsable: dict[str, dict[str, int]]
    missed: dict[str, dict[str, list[str]]]

    def pooled(self, kind: str) -> Interval | None:
        """The share caught of one kind of edit, every strategy pooled (None: not tested)."""
        return self.caught.get(kind, {}).get("all")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["caught"] = {k: dump_intervals(v) for k, v in self.caught.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SelfTest:
        return cls(
            sample=int(data.get("sample") or 0),
            threshold=float(data["threshold"]),
            supported_min=data.get("supported_min"),
            definitions=dict(data.get("definitions") or {}),
            answers=dict(data.get("answers") or {}),
            caught={k: read_intervals(v or {}) for k, v in (data.get("caught") or {}).items()},
            unparsable={k: dict(v) for k, v in (data.get("unparsable") or {}).items()},
            missed={k: dict(v) for k, v in (data.get("missed") or {}).items()},
        )


@dataclass
class Agreement:
    """An LLM judge asked twice about the same answers: how often it agreed with itself."""

    answers: int
    judgements: int
    agreement: dict[str, Interval]  # metric | "all" -> share of identical verdicts
    unparsable: dict[str, int]  # "first" / "second" -> verdicts it failed to give

    @property
    def overall(self) -> Interval | None:
        """The share of identical verdicts over every metric (``"all"``)."""
        return self.agreement.get("all")

    @property
    def unparsable_again(self) -> int:
        """Verdicts the judge failed to give when asked the second time."""
        return int(self.unparsable.get("second", 0))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "agreement": dump_intervals(self.agreement)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Agreement:
        return cls(
            answers=int(data.get("answers") or 0),
            judgements=int(data.get("judgements") or 0),
            agreement=read_intervals(data.get("agreement") or {}),
            unparsable=dict(data.get("unparsable") or {}),
        )


@dataclass(frozen=True)
class TimeToFresh:
    seconds: float | None
    how: str


@dataclass
class FreshRow:
    """One strategy on the changed-fact questions: the share of answers giving the new fact,
    the stale one or neither, before (``main``) and after (``fresh``) the update."""

    main: dict[str, Interval]
    fresh: dict[str, Interval]
    time_to_fresh: TimeToFresh

    @property
    def new_before(self) -> Interval | None:
        """The share of answers giving the new fact before the update."""
        return self.main.get("new")

    @property
    def stale_before(self) -> Interval | None:
        return self.main.get("stale")

    @property
    def new_after(self) -> Interval | None:
        return self.fresh.get("new")

    @property
    def stale_after(self) -> Interval | None:
        return self.fresh.get("stale")

    def to_dict(self) -> dict[str, Any]:
        return {
            "main": dump_intervals(self.main),
            "fresh": dump_intervals(self.fresh),
            "time_to_fresh": asdict(self.time_to_fresh),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FreshRow:
        ttf = data.get("time_to_fresh") or {}
        return cls(
            main=read_intervals(data["main"]),
            fresh=read_intervals(data["fresh"]),
            time_to_fresh=TimeToFresh(ttf.get("seconds"), str(ttf.get("how", ""))),
        )


@dataclass
class Freshness:
    update: str
    questions: int
    reindex_s: float | None
    ingest: dict[str, int] | None
    strategies: dict[str, FreshRow]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "strategies": {k: v.to_dict() for k, v in self.strategies.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Freshness:
        return cls(
            update=str(data.get("update", "")),
            questions=int(data.get("questions") or 0),
            reindex_s=data.get("reindex_s"),
            ingest=data.get("ingest"),
            strategies={
                k: FreshRow.from_dict(v) for k, v in (data.get("strategies") or {}).items()
            },
        )


@dataclass
class Forgetting:
    """One adapter's general-knowledge probe (perplexity and accuracy, base vs adapter);
    ``note`` instead when the adapter recorded none."""

    probe: dict[str, float] = field(default_factory=dict)
    note: str | None = None

    @property
    def measured(self) -> bool:
        return "perplexity_increase_pct" in self.probe

    def _value(self, key: str) -> float:
        return float(self.probe.get(key, math.nan))

    @property
    def base_perplexity(self) -> float:
        """The base model's perplexity on the general probe (NaN: not recorded)."""
        return self._value("base_perplexity")

    @property
    def adapter_perplexity(self) -> float:
        return self._value("adapter_perplexity")

    @property
    def perplexity_increase_pct(self) -> float:
        return self._value("perplexity_increase_pct")

    @property
    def base_accuracy(self) -> float:
        return self._value("base_accuracy")

    @property
    def adapter_accuracy(self) -> float:
        return self._value("adapter_accuracy")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.probe) if self.note is None else {"note": self.note}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Forgetting:
        if "note" in data:
            return cls(note=str(data["note"]))
        return cls(probe={k: float(v) for k, v in data.items()})


@dataclass
class Pathologies:
    """The flag threshold, each strategy's kinds above it, and example question ids."""

    threshold: float = 0.1
    flagged: dict[str, dict[str, float]] = field(default_factory=dict)
    examples: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pathologies:
        return cls(
            threshold=float(data.get("threshold", FLAG_SHARE)),
            flagged=dict(data.get("flagged") or {}),
            examples=dict(data.get("examples") or {}),
        )


@dataclass
class CrossFitSummary:
    """How a run's abstention thresholds were chosen: cross-fitted per fold, and the one
    calibrated on every question (``deploy``, a :class:`~ragtune.retrieval.answerability.
    Calibration` as written)."""

    method: str
    fold_thresholds: list[float]
    deploy: dict[str, Any]

    @property
    def threshold(self) -> float | None:
        value = self.deploy.get("threshold")
        return None if value is None else float(value)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CrossFitSummary:
        return cls(
            method=str(data.get("method", "")),
            fold_thresholds=[float(t) for t in data.get("fold_thresholds") or []],
            deploy=dict(data.get("deploy") or {}),
        )


@dataclass
class StyleCheck:
    """The pilot's house-style check: the format pass rate (and share of format parts) of
    prompting with examples (``base``) and of the style ``adapter`` on ``n`` held-out style
    questions, their paired difference, and a few example answers. ``style.json`` holds
    :meth:`to_dict`."""

    adapter: str
    n: int
    features: list[str]
    format_pass: dict[str, Interval]  # "base" / "adapter"
    format_parts: dict[str, Interval]
    difference: PairedDifference  # adapter - base, on format pass
    dataset: str = ""
    shots: int = 0
    examples: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "adapter": self.adapter,
            "dataset": self.dataset,
            "n": self.n,
            "shots": self.shots,
            "features": list(self.features),
            "format_pass": dump_intervals(self.format_pass),
            "format_parts": dump_intervals(self.format_parts),
            "difference": self.difference.to_dict(),
            "examples": list(self.examples),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StyleCheck:
        return cls(
            adapter=str(data.get("adapter", "")),
            n=int(data.get("n") or 0),
            features=[str(f) for f in data.get("features") or []],
            format_pass=read_intervals(data.get("format_pass") or {}),
            format_parts=read_intervals(data.get("format_parts") or {}),
            difference=PairedDifference.from_dict(data["difference"]),
            dataset=str(data.get("dataset", "")),
            shots=int(data.get("shots") or 0),
            examples=list(data.get("examples") or []),
        )
