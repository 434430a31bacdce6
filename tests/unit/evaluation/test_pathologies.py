"""Pathology flags: each kind on hand-made answers, shares over a constructed small run, and
what the results keep (threshold, flagged strategies, example ids)."""

from __future__ import annotations

import math

import pytest

from ragtune.evaluation.pathologies import (
    FLAG_SHARE,
    flag_text,
    flagged,
    kinds,
    pathology_scores,
    summary,
)
from ragtune.evaluation.results import Results
from ragtune.evaluation.stats import bootstrap_ci
from ragtune.generate.prompts import CANNOT_ANSWER
from ragtune.text.repetition import repeats

Q = "How many days of annual leave does a full-time employee get?"
LABELS = ["[1] Annual Leave Policy — Leave year and entitlement", "Annual Leave Policy"]
GOOD = "A full-time employee gets 25 working days of paid leave [1]."


@pytest.mark.parametrize(
    ("answer", "expected", "answerable"),
    [
        (GOOD, [], True),
        (f"{Q} [1]", ["echo"], True),
        ("How many annual leave days does a full-time employee get?", ["echo"], True),
        ("[1] Annual Leave Policy — Leave year and entitlement", ["label"], True),
        ("Annual Leave Policy [1]", ["label"], True),
        (CANNOT_ANSWER, ["refusal"], True),
        (CANNOT_ANSWER, [], False),  # declining an unanswerable question is right
        ("", ["empty"], True),
        ("[1]", ["empty"], True),
        ("The answer to the question is:", ["empty"], True),
        (f"{GOOD} {GOOD} {GOOD}", ["repetition"], True),
        ("the the the the the the the the", ["empty", "repetition"], True),
        ("paid paid paid paid paid paid paid", ["repetition"], True),
    ],
)
def test_each_kind(answer: str, expected: list[str], answerable: bool) -> None:
    assert kinds(Q, answer, LABELS, abstained=False, answerable=answerable) == expected


def test_an_abstention_flag_is_a_refusal_whatever_the_text() -> None:
    assert kinds(Q, "Sorry.", LABELS, abstained=True, answerable=True) == ["refusal"]


def test_repeats_tells_a_loop_from_a_list() -> None:
    assert repeats("Leave is 25 days. Leave is 25 days.") is not None
    assert repeats("After 5 years: 1 day. After 8 years: 2 days. After 10 years: 3 days.") is None
    assert repeats(GOOD) is None and repeats("") is None


def test_shares_on_a_small_run() -> None:
    # 10 questions (the last one unanswerable): 3 echoes, 1 label, 1 refused answerable
    # question, 1 empty, 1 loop; the unanswerable one is declined (right, no pathology).
    texts = [f"{Q}"] * 3 + ["Annual Leave Policy", CANNOT_ANSWER, "", f"{GOOD} {GOOD}"]
    texts += [GOOD, GOOD, CANNOT_ANSWER]
    n = len(texts)
    answerable = [True] * (n - 1) + [False]
    declined = [t == CANNOT_ANSWER for t in texts]
    per = pathology_scores([Q] * n, texts, [LABELS] * n, declined, answerable)
    assert per["echo"] == [1.0] * 3 + [0.0] * 7
    assert math.isnan(per["refusal"][-1]) and sum(per["refusal"][:-1]) == 1.0
    share = {k: bootstrap_ci(v, seed=0, n_resamples=50).mean for k, v in per.items()}
    assert share["echo"] == pytest.approx(0.3) and share["label"] == pytest.approx(0.1)
    assert share["refusal"] == pytest.approx(1 / 9) and share["empty"] == pytest.approx(0.1)
    assert share["repetition"] == pytest.approx(0.1)
    assert share["any_pathology"] == pytest.approx(0.7)
    ids = [f"q{k}" for k in range(n)]
    kept = summary({"rag": per, "extract": {k: [0.0] * n for k in per}}, ids)
    assert kept.threshold == FLAG_SHARE
    # strictly above 10 %: echo (30 %) and refusal (1 of 9 answerable) are; label is not
    assert set(kept.flagged) == {"rag"}
    assert set(kept.flagged["rag"]) == {"echo", "refusal"}
    assert kept.examples["rag"]["echo"] == ["q0", "q1", "q2"]


def test_flagged_reads_the_metric_means_and_old_results() -> None:
    stat = {"mean": 0.25, "low": 0.1, "high": 0.4, "n": 20}
    none = {"mean": 0.0, "low": 0.0, "high": 0.0, "n": 20}
    results = Results.from_dict(
        {
            "metrics": {"pathologies": {"echo": {"rag": stat, "base": none}}},
            "per_question": {"rag": {}, "base": {}},
        }
    )
    assert flagged(results) == {"rag": {"echo": 0.25}}
    old = Results.from_dict({"metrics": {"answers": {}}, "per_question": {"rag": {}}})
    assert flagged(old) == {}  # a run from before the flags
    assert flag_text({"label": 0.12, "echo": 0.25}) == "echo 25 %, label 12 %"
