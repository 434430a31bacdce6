"""The swapped-gold check itself, on hand-made answers (no model: lexical metrics only)."""

from __future__ import annotations

import pytest

from ragtune.evaluation.separation import derangement_pairs, gold_separation

GOLDS = [f"The {w} setting controls the {w} cache size." for w in
         ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
          "juliet")]  # fmt: skip


def test_pairs_never_meet_their_own_gold_and_spread_over_the_list() -> None:
    pairs = derangement_pairs(10)
    assert all(i != j for i, j in pairs)
    assert len(pairs) == 8 * 10 and len(set(pairs)) == len(pairs)
    assert derangement_pairs(3) == [(0, 1), (1, 2), (2, 0), (0, 2), (1, 0), (2, 1)]


def test_an_answer_that_uses_its_gold_separates_and_a_gold_blind_one_does_not() -> None:
    right = gold_separation(GOLDS, GOLDS, None)
    assert right["auc"]["f1"] == 1.0 and right["auc"]["exact_match"] == 1.0
    assert right["swapped_mean"] == {"exact_match": 0.0, "contains": 0.0}
    assert right["n"] == 10 and right["swapped_pairs"] == 80
    assert "bertscore" not in right["auc"]  # no encoder: lexical metrics only
    blind = gold_separation(["It depends on the cache."] * 10, GOLDS, None)
    assert blind["auc"]["f1"] == 0.5 and blind["auc"]["rouge_l"] == 0.5


def test_too_few_or_unmatched_pairs_are_refused() -> None:
    with pytest.raises(ValueError, match="two or more"):
        gold_separation(["a"], ["a"], None)
    with pytest.raises(ValueError, match="two or more"):
        gold_separation(["a", "b"], ["a"], None)
