"""``plan_batches``: prompts grouped by length for batched generation (pure; the real model
runs these groups in tests/integration)."""

from __future__ import annotations

import random

from ragtune.generate.transformers_local import plan_batches


def _check_cover(groups: list[list[int]], n: int, batch_size: int) -> None:
    flat = [i for g in groups for i in g]
    assert sorted(flat) == list(range(n)) and all(1 <= len(g) <= batch_size for g in groups)


def test_similar_lengths_stay_in_one_batch() -> None:
    lengths = [300, 310, 295, 305, 320, 298]
    groups = plan_batches(lengths, 16, group_cost=24 * 32)
    assert groups == [sorted(range(6), key=lambda i: lengths[i])]


def test_a_short_prompt_is_not_padded_to_long_ones() -> None:
    lengths = [60, 480, 70, 500, 490, 65, 470, 510]  # unanswerable next to RAG prompts
    groups = plan_batches(lengths, 16, group_cost=24 * 32)
    assert [sorted(lengths[i] for i in g) for g in groups] == [
        [60, 65, 70],
        [470, 480, 490, 500, 510],
    ]
    # when another run of decoding steps costs more than the padding, it stays whole
    assert len(plan_batches(lengths, 16, group_cost=1e6)) == 1


def test_batch_size_is_respected_and_every_prompt_is_planned_once() -> None:
    rng = random.Random(0)
    for n in (0, 1, 7, 16, 17, 40):
        lengths = [rng.randint(20, 700) for _ in range(n)]
        for batch_size in (1, 4, 16):
            _check_cover(plan_batches(lengths, batch_size, 768), n, batch_size)
    assert plan_batches([100] * 40, 16, 768) == [
        list(range(0, 16)),
        list(range(16, 32)),
        list(range(32, 40)),
    ]
