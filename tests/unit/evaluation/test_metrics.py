from __future__ import annotations

import math

import numpy as np
import pytest
from tests.helpers.fakes import QueuedGenerator

from ragtune.embed.base import HashEmbedder
from ragtune.evaluation.metrics.answers import (
    EmbedderEncoder,
    answer_scores,
    contains,
    exact_match,
    is_abstention,
    token_f1,
)
from ragtune.evaluation.metrics.citations import citation_scores
from ragtune.evaluation.metrics.ragas import (
    JudgeInput,
    LLMJudge,
    OfflineJudge,
    average_precision,
    parse_rating,
    parse_verdicts,
)
from ragtune.evaluation.metrics.retrieval import retrieval_scores
from ragtune.evaluation.metrics.text import numbers, sentences, supported, ungrounded
from ragtune.generate.prompts import CANNOT_ANSWER

ENC = EmbedderEncoder(HashEmbedder(64))


def test_answer_basics() -> None:
    assert exact_match("The 25 working days.", "25 working days") == 1.0
    assert contains("You get 25 working days [1].", "25 working days") == 1.0
    assert contains("You get 250 working days", "25 working days") == 0.0
    assert token_f1("25 working days", "25 working days") == 1.0
    assert token_f1("", "x") == 0.0
    assert 0 < token_f1("It is 25 days", "25 working days") < 1
    assert is_abstention(f"Sorry. {CANNOT_ANSWER}")
    assert not is_abstention("25 days")
    assert is_abstention("25 days", flag=True)


def test_answer_scores_shape_and_nans() -> None:
    s = answer_scores(
        ["25 days", CANNOT_ANSWER], ["25 days", ""], [False, True], [False, True], ENC
    )
    assert s["f1"][0] == 1.0 and math.isnan(s["f1"][1])
    assert s["rouge_l"][0] == pytest.approx(1.0)
    assert s["cosine"][0] == pytest.approx(1.0, abs=1e-5)
    assert s["bertscore"][0] == pytest.approx(1.0, abs=1e-5)
    assert s["abstain_unanswerable"] == [s["abstain_unanswerable"][0], 1.0]
    assert math.isnan(s["abstain_unanswerable"][0]) and s["false_abstain"][0] == 0.0
    no_enc = answer_scores(["a b"], ["a b"], [False], [False], None)
    assert math.isnan(no_enc["cosine"][0])


def test_text_helpers() -> None:
    assert numbers("EUR 2,000 and 3.5") == {"2000", "3.5"}
    assert sentences("It is 25 days [1]. And more.") == ["It is 25 days.", "And more."]
    assert supported("Leave is 25 working days.", ["Employees get 25 working days of leave."])
    assert not supported("Leave is 27 working days.", ["Employees get 25 working days."])


def test_retrieval_scores() -> None:
    s = retrieval_scores(["b", "a", "b", "c"], {"a"}, k=5)
    assert s["recall@k"] == 1.0 and s["mrr"] == 0.5
    assert s["ndcg@k"] == pytest.approx(1 / math.log2(3))
    assert retrieval_scores(["x"], {"a"}, k=5)["mrr"] == 0.0
    assert all(math.isnan(v) for v in retrieval_scores([], {"a"}, 5, retrieved=False).values())


def test_citation_scores() -> None:
    s = citation_scores({"c1", "c3"}, {"c1", "c2"}, has_contexts=True)
    assert s["citation_precision"] == 0.5 and s["citation_recall"] == 0.5
    assert math.isnan(citation_scores(set(), {"c1"}, has_contexts=True)["citation_precision"])
    assert math.isnan(citation_scores({"c"}, {"c"}, has_contexts=False)["citation_recall"])


CTX = [
    "Full-time employees receive 25 working days of paid annual leave per leave year.",
    "The office is closed between Christmas and New Year.",
]
ITEM = JudgeInput(
    "How many days of annual leave?",
    "Employees get 25 working days of annual leave [1].",
    "25 working days",
    CTX,
)


def test_offline_faithfulness_drops_with_unsupported_sentence() -> None:
    judge = OfflineJudge(ENC)
    extra = JudgeInput(
        ITEM.question, ITEM.answer + " Parking at the office costs EUR 12 a day.", ITEM.gold, CTX
    )
    before, after = judge.judge([ITEM, extra])
    assert before.scores["faithfulness"] == 1.0
    assert after.scores["faithfulness"] == 0.5


def test_offline_context_recall_drops_without_supporting_chunk() -> None:
    judge = OfflineJudge(ENC)
    without = JudgeInput(ITEM.question, ITEM.answer, ITEM.gold, CTX[1:])
    before, after = judge.judge([ITEM, without])
    assert before.scores["context_recall"] == 1.0 and after.scores["context_recall"] == 0.0
    assert before.scores["context_precision"] == 1.0 and after.scores["context_precision"] == 0.0


def test_offline_not_applicable_is_nan_not_failure() -> None:
    judge = OfflineJudge(None)
    [v] = judge.judge([JudgeInput("q?", CANNOT_ANSWER, "", [], abstained=True, unanswerable=True)])
    assert all(math.isnan(x) for x in v.scores.values()) and v.failed == []


def test_average_precision() -> None:
    assert average_precision([True, False]) == 1.0
    assert average_precision([False, True]) == 0.5
    assert average_precision([False]) == 0.0


def test_parsers() -> None:
    assert parse_verdicts("1: yes\n2: No", 2) == [True, False]
    assert parse_verdicts("1. yes", 2) is None
    assert parse_verdicts("whatever", 1) is None
    assert parse_rating("I'd say 4.") == 0.75
    assert parse_rating("great") is None


def test_llm_judge_parses_and_counts_failures() -> None:
    # faithfulness, relevancy, precision, recall for ITEM: 4 prompts in that order.
    gen = QueuedGenerator(["1: yes", "5", "1: yes\n2: no", "garbage"])
    [v] = LLMJudge(gen).judge([ITEM])  # type: ignore[arg-type]
    assert v.scores["faithfulness"] == 1.0
    assert v.scores["answer_relevancy"] == 1.0
    assert v.scores["context_precision"] == 1.0
    assert math.isnan(v.scores["context_recall"]) and v.failed == ["context_recall"]
    assert len(gen.prompts) == 4 and "Statements:" in gen.prompts[0][1]["content"]


def test_bertscore_ignores_special_tokens_shape() -> None:
    vecs = ENC.token_vectors(["a b c", "d"])
    assert [v.shape[0] for v in vecs] == [3, 1]
    assert np.allclose(np.linalg.norm(vecs[0], axis=1), 1.0)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("The standard library does not provide bitwise operations.", True),  # contradicted
        ("def tonumber_base(num, base):\n    return int(num, base)", True),  # not from them
        ("The standard library provides bitwise operations [1].", False),
        ("It has them, in the table bit32.", False),  # a paraphrase
        ("[1]", False),  # no claim: says_nothing handles it
    ],
)
def test_ungrounded_answers(answer: str, expected: bool) -> None:
    contexts = ["This library provides bitwise operations. Its functions are in the table bit32."]
    assert ungrounded(answer, contexts) is expected
