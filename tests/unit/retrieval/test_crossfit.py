"""Cross-fitted abstention thresholds (pure scores; the runner test uses a real store)."""

import pytest

from ragtune.retrieval.answerability import CROSSFIT_MIN_PER_FOLD, calibrate, crossfit


def _set(n_ans: int, n_una: int) -> tuple[list[str], list[float], list[bool]]:
    questions = [f"answerable {i}?" for i in range(n_ans)] + [
        f"off topic {i}?" for i in range(n_una)
    ]
    scores = [0.6 + 0.3 * i / n_ans for i in range(n_ans)] + [
        0.1 + 0.3 * i / n_una for i in range(n_una)
    ]
    return questions, scores, [False] * n_ans + [True] * n_una


def test_each_question_gets_the_other_folds_threshold() -> None:
    questions, scores, flags = _set(40, 24)
    fit = crossfit(questions, scores, flags, max_false_abstention=0.1, seed=3)
    assert fit is not None and len(fit.folds) == 2
    # Rebuild the folds from the thresholds: a fold's members carry the *other* fold's value.
    by = {q: (s, u) for q, s, u in zip(questions, scores, flags, strict=True)}
    for j, cal in enumerate(fit.folds):
        other = fit.folds[1 - j].threshold
        members = [q for q, t in fit.thresholds.items() if t == other]
        ans = [by[q][0] for q in members if not by[q][1]]
        una = [by[q][0] for q in members if by[q][1]]
        # Stratified: each fold holds half of each kind.
        assert (len(ans), len(una)) == (20, 12)
        assert cal.n_answerable + cal.n_unanswerable == 32
    # Separable scores: every held-out question lands on the right side.
    assert all(
        (s < fit.thresholds[q]) == u for q, s, u in zip(questions, scores, flags, strict=True)
    )
    assert fit.full.n_answerable == 40 and fit.full.abstention_rate == 1.0
    assert fit.full.threshold == calibrate(scores[:40], scores[40:], 0.1).threshold
    assert fit.to_dict()["fold_thresholds"] == [c.threshold for c in fit.folds]


def test_folds_depend_on_the_seed_only_and_repeats_share_a_fold() -> None:
    questions, scores, flags = _set(40, 24)
    a = crossfit(questions, scores, flags, seed=1)
    b = crossfit(list(reversed(questions)), list(reversed(scores)), list(reversed(flags)), seed=1)
    assert a is not None and b is not None and a.thresholds == b.thresholds
    twice = crossfit(questions + questions[:3], scores + scores[:3], flags + flags[:3], seed=1)
    assert twice is not None and twice.thresholds == a.thresholds


@pytest.mark.parametrize("n_ans, n_una", [(40, 2 * CROSSFIT_MIN_PER_FOLD - 1), (5, 30), (0, 0)])
def test_too_few_questions_of_a_kind_gives_none(n_ans: int, n_una: int) -> None:
    assert crossfit(*_set(n_ans, n_una)) is None
    # Fewer a fold can be asked for (noisy: see CROSSFIT_MIN_PER_FOLD).
    if n_ans >= 6 and n_una >= 6:
        assert crossfit(*_set(n_ans, n_una), min_per_fold=3) is not None


def test_mismatched_lengths_are_refused() -> None:
    questions, scores, flags = _set(40, 24)
    with pytest.raises(ValueError):
        crossfit(questions, scores[:-1], flags)
