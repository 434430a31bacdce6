import random

import pytest

from ragtune.finetune.sampler import LengthWindowSampler, padding_share


def _lengths(n: int = 563, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(44, 128) for _ in range(n)]


def test_every_index_once_per_epoch_and_epochs_differ() -> None:
    lengths = _lengths()
    sampler = LengthWindowSampler(lengths, batch_size=4, seed=0)
    first = list(sampler)
    assert sorted(first) == list(range(len(lengths)))
    assert list(sampler) == first  # same epoch, same order (resume relies on it)
    sampler.set_epoch(1)
    second = list(sampler)
    assert sorted(second) == list(range(len(lengths))) and second != first


def test_less_padding_than_a_plain_shuffle() -> None:
    lengths = _lengths()
    plain = list(range(len(lengths)))
    random.Random(0).shuffle(plain)
    grouped = list(LengthWindowSampler(lengths, batch_size=4, seed=0))
    assert padding_share(lengths, grouped, 4) < 0.5 * padding_share(lengths, plain, 4)


def test_a_short_run_samples_the_whole_range_not_the_longest() -> None:
    # transformers' group_by_length would start with the longest examples of a mega-batch
    lengths = _lengths()
    seen = list(LengthWindowSampler(lengths, batch_size=4, seed=0))[:160]  # 40 steps
    mean_seen = sum(lengths[i] for i in seen) / len(seen)
    mean_all = sum(lengths) / len(lengths)
    assert abs(mean_seen - mean_all) < 8
    assert min(lengths[i] for i in seen) < 50 and max(lengths[i] for i in seen) > 120


def test_batches_stay_aligned_with_a_short_last_batch() -> None:
    lengths = [10, 50, 20, 60, 30, 70, 40]  # 7 examples, batch 2: the last batch has one
    order = list(LengthWindowSampler(lengths, batch_size=2, seed=3, window_batches=8))
    batches = [order[i : i + 2] for i in range(0, len(order), 2)]
    assert len(batches[-1]) == 1
    # within one window, each cut pairs neighbours in length order
    ranked = sorted(range(7), key=lambda i: lengths[i])
    pairs = {tuple(ranked[i : i + 2]) for i in range(0, 7, 2)}
    assert {tuple(sorted(b, key=lambda i: lengths[i])) for b in batches} == pairs


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        LengthWindowSampler([1, 2], batch_size=0)
