"""Which prefix a batch shares (pure logic; the real model path is in
tests/integration/test_generation_real.py)."""

from __future__ import annotations

from ragtune.generate.prefix_cache import MIN_PREFIX, PrefixCache, shared_prefix


def test_shared_prefix_leaves_each_row_a_token_of_its_own() -> None:
    assert shared_prefix([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 9]]) == 2
    assert shared_prefix([[1, 2, 3], [1, 2, 3, 4]]) == 2  # the shorter row keeps its last
    assert shared_prefix([[7, 8, 9]]) == 2
    assert shared_prefix([[1], [1]]) == 0


def test_prefix_len_needs_a_long_enough_prefix_and_reuses_kept_ones() -> None:
    head = list(range(100, 100 + MIN_PREFIX))
    cache = PrefixCache()
    assert cache.prefix_len([[*head[:-1], 1], [*head[:-1], 2]], None) == 0  # too short
    assert cache.prefix_len([[*head, 1], [*head, 2, 3]], None) == MIN_PREFIX
    assert cache.prefix_len([[*head, 1]], None) == 0  # alone, nothing kept yet
    cache._entries[(None, tuple(head))] = object()
    assert cache.prefix_len([[*head, 1]], None) == MIN_PREFIX
    assert cache.prefix_len([[*head, 1]], "an-adapter") == 0  # other weights, other keys
    assert cache.prefix_len([head], None) == 0  # the prompt must go on past the prefix
