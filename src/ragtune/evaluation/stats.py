"""Bootstrap confidence intervals and paired differences (numpy; no model imports).

Every metric the pilots report is a mean over questions; its uncertainty is a percentile
bootstrap over those questions. Two strategies answer the *same* questions, so their
difference is bootstrapped on the per-question differences (paired), which is much tighter
than comparing two independent intervals. Example::

    from ragtune.evaluation.stats import bootstrap_ci, paired_difference
    ci = bootstrap_ci([0.2, 0.5, 0.9, 0.4], seed=0)
    print(f"{ci.mean:.2f} [{ci.low:.2f}, {ci.high:.2f}] n={ci.n}")
    diff = paired_difference([0.9, 0.8, 0.7], [0.1, 0.2, 0.3], seed=0)
    diff.significant  # True: the 95 % interval of mean(a - b) excludes zero

NaN values (a metric that does not apply to a question, e.g. abstention on an answerable
one) are dropped before resampling; in :func:`paired_difference` a pair is dropped when
either side is NaN. The same ``seed`` always gives the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Self

import numpy as np

DEFAULT_RESAMPLES = 2000
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean with its bootstrap interval; ``n`` counts the non-NaN values behind it.
    With no values every field but ``n`` is NaN."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float = DEFAULT_CONFIDENCE

    def to_dict(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Interval:
        """The inverse of :meth:`to_dict` (``None`` back to NaN)."""
        return cls(
            _num(data["mean"]), _num(data["low"]), _num(data["high"]), int(data["n"] or 0),
            float(data.get("confidence", DEFAULT_CONFIDENCE)),
        )  # fmt: skip

    @property
    def measured(self) -> bool:
        """True when at least one value stands behind the mean."""
        return self.n > 0 and not math.isnan(self.mean)

    def format(self, digits: int = 3) -> str:
        """``0.512 [0.431, 0.590]``; ``n/a`` with no values."""
        if not self.measured:
            return "n/a"
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"

    def negated(self) -> Self:
        """The interval of ``-x`` (a paired difference read the other way round)."""
        return replace(self, mean=-self.mean, low=-self.high, high=-self.low)


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class PairedDifference(Interval):
    """``mean(a - b)`` over paired questions; ``significant`` when the interval excludes 0."""

    significant: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PairedDifference:
        b = Interval.from_dict(data)
        return cls(b.mean, b.low, b.high, b.n, b.confidence, bool(data.get("significant")))


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    return arr[~np.isnan(arr)]


def _check(n_resamples: int, confidence: float) -> None:
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _resampled_means(values: np.ndarray, seed: int, n_resamples: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # In blocks so memory stays small for large evaluation sets.
    block = max(1, 2_000_000 // max(1, values.size))
    means = []
    for start in range(0, n_resamples, block):
        size = min(block, n_resamples - start)
        idx = rng.integers(0, values.size, size=(size, values.size))
        means.append(values[idx].mean(axis=1))
    return np.concatenate(means)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    *,
    seed: int = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Interval:
    """Percentile bootstrap interval of the mean of ``values`` (NaNs dropped).

    >>> bootstrap_ci([1.0, 1.0, 1.0]).format()
    '1.000 [1.000, 1.000]'
    """
    _check(n_resamples, confidence)
    arr = _clean(values)
    if arr.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    mean = float(arr.mean())
    if arr.size == 1 or np.all(arr == arr[0]):
        return Interval(mean, mean, mean, int(arr.size), confidence)
    means = _resampled_means(arr, seed, n_resamples)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return Interval(mean, float(low), float(high), int(arr.size), confidence)


def paired_difference(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    seed: int = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
) -> PairedDifference:
    """Bootstrap interval of ``mean(a_i - b_i)`` over the same questions.

    ``a`` and ``b`` must have the same length (question ``i`` in both); pairs with a NaN on
    either side are dropped. ``significant`` is True when the interval excludes zero.

    >>> paired_difference([1, 1, 1, 1], [0, 0, 0, 0]).significant
    True
    """
    xa = np.asarray(a, dtype=float).ravel()
    xb = np.asarray(b, dtype=float).ravel()
    if xa.shape != xb.shape:
        raise ValueError(f"paired values need equal lengths, got {xa.size} and {xb.size}")
    diff = xa - xb
    ci = bootstrap_ci(diff, seed=seed, n_resamples=n_resamples, confidence=confidence)
    significant = ci.n > 1 and (ci.low > 0.0 or ci.high < 0.0)
    return PairedDifference(ci.mean, ci.low, ci.high, ci.n, confidence, bool(significant))


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half):
    the ROC AUC, used to check that a metric separates right answers from wrong ones.

    >>> auc([0.9, 0.8], [0.1, 0.8])
    0.875
    """
    pos, neg = _clean(positives), _clean(negatives)
    if pos.size == 0 or neg.size == 0:
        raise ValueError("auc needs at least one positive and one negative score")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


def percentile_ci(
    values: Sequence[float] | np.ndarray,
    q: float,
    *,
    seed: int = 0,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Interval:
    """Bootstrap interval of the ``q``-th percentile (0-100), e.g. latency p95.

    >>> percentile_ci([1.0, 2.0, 3.0], 50).mean
    2.0
    """
    _check(n_resamples, confidence)
    arr = _clean(values)
    if arr.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    point = float(np.percentile(arr, q))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(n_resamples, arr.size))
    stats = np.percentile(arr[idx], q, axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(stats, [tail, 100.0 - tail])
    return Interval(point, float(low), float(high), int(arr.size), confidence)


def fmt_interval(stat: Interval | None, digits: int = 3) -> str:
    """``0.231 [0.180, 0.284]`` (mean [95 % CI]); ``n/a`` when not measured or None."""
    return "n/a" if stat is None else stat.format(digits)
