from __future__ import annotations

import math

import numpy as np
import pytest

from ragtune.evaluation.stats import auc, bootstrap_ci, paired_difference


def test_interval_contains_mean_and_is_seeded() -> None:
    values = np.random.default_rng(1).random(80)
    a = bootstrap_ci(values, seed=3)
    b = bootstrap_ci(values, seed=3)
    assert a == b
    assert a.low < a.mean < a.high
    assert a.n == 80
    assert bootstrap_ci(values, seed=4) != a


def test_interval_width_shrinks_with_more_data() -> None:
    rng = np.random.default_rng(0)
    small = bootstrap_ci(rng.random(20), seed=0)
    large = bootstrap_ci(rng.random(2000), seed=0)
    assert (large.high - large.low) < (small.high - small.low) / 3


def test_coverage_is_near_nominal() -> None:
    # 95 % intervals of Bernoulli(0.3) samples should cover 0.3 roughly 95 % of the time.
    rng = np.random.default_rng(7)
    hits = 0
    for i in range(200):
        ci = bootstrap_ci(rng.random(60) < 0.3, seed=i, n_resamples=500)
        hits += ci.low <= 0.3 <= ci.high
    assert 0.88 <= hits / 200 <= 0.99


def test_nans_dropped_and_empty_is_nan() -> None:
    ci = bootstrap_ci([1.0, math.nan, 0.0, 1.0])
    assert ci.n == 3
    empty = bootstrap_ci([math.nan])
    assert empty.n == 0 and math.isnan(empty.mean)
    assert empty.format() == "n/a"
    assert empty.to_dict()["mean"] is None


def test_constant_values_give_zero_width() -> None:
    ci = bootstrap_ci([0.5] * 10)
    assert (ci.low, ci.mean, ci.high) == (0.5, 0.5, 0.5)


def test_paired_difference_flags_consistent_gap() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(50)
    better = base + 0.1 + rng.normal(0, 0.01, 50)
    d = paired_difference(better, base, seed=0)
    assert d.significant and d.low > 0
    noise = paired_difference(base, base[::-1], seed=0)
    assert not noise.significant


def test_paired_difference_drops_nan_pairs_and_checks_lengths() -> None:
    d = paired_difference([1.0, math.nan, 1.0], [0.0, 0.0, math.nan])
    assert d.n == 1 and not d.significant
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0], [1.0, 2.0])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1.0, 2.0], confidence=1.5)
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_ci([1.0, 2.0], n_resamples=0)


def test_auc() -> None:
    assert auc([1, 2, 3], [0, 0]) == 1.0
    assert auc([0.0], [1.0]) == 0.0
    assert auc([0.5], [0.5]) == 0.5
