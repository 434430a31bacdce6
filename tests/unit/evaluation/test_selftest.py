"""The judge's self-test on a constructed small run: the offline judge catches every kind
of edit, a judge that always says "supported" catches none, the sample is seeded and only of
credited answers, the offline run embeds nothing new; the LLM judge's unparsable replies are
counted, its verdicts cached, its run-to-run agreement measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tests.helpers.fakes import QueuedGenerator
from tests.helpers.judged import YesJudge, small_run

from ragtune.embed.base import HashEmbedder
from ragtune.evaluation.judging import agreement, stored
from ragtune.evaluation.metrics.answers import EmbedderEncoder
from ragtune.evaluation.metrics.ragas import JudgeInput, LLMJudge, OfflineJudge, Verdict
from ragtune.evaluation.results import Results
from ragtune.evaluation.selftest import KINDS, Judged, direct, make_probes, run_selftest, weak_spots
from ragtune.evaluation.store import RunStore


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(64)
        self.texts = 0

    def embed(self, texts: Any, *, progress: bool = False) -> np.ndarray:
        self.texts += len(texts)
        return super().embed(texts)


def _offline() -> OfflineJudge:
    return OfflineJudge(EmbedderEncoder(HashEmbedder(64)))


def test_the_offline_judge_catches_every_kind_on_a_small_run() -> None:
    test = run_selftest(small_run(), direct(_offline()), seed=0, resamples=200)
    for kind in KINDS:
        pooled = test.caught[kind]["all"]
        assert pooled.mean == 1.0 and pooled.n >= 6, (kind, pooled)
        assert test.missed[kind] == {"rag": [], "base": []}
    # base has no passages: only the question-as-answer edit applies to it
    assert test.caught["negated"]["base"].n == 0 and test.caught["question"]["base"].n
    assert test.answers["rag"] == 6  # the unsupported seventh answer is never sampled
    assert weak_spots(Results.from_dict({"judge": {"selftest": test.to_dict()}})) == []


def test_a_judge_that_always_says_supported_catches_nothing() -> None:
    run = small_run()
    weak = run_selftest(run, direct(YesJudge()), seed=0, resamples=200)
    assert all(weak.caught[k]["all"].mean == 0.0 for k in KINDS)
    assert weak.missed["negated"]["rag"][:2] == ["leave", "parking"]
    spots = weak_spots(Results.from_dict({"judge": {"selftest": weak.to_dict()}}))
    names = ["off-topic sentence", "negated sentence", "changed number", "question as answer"]
    assert [s.split(" 0 %")[0] for s in spots] == names


def test_the_sample_is_seeded_credited_and_capped() -> None:
    run = small_run()
    two = make_probes(run, 2, seed=0)
    assert len({p.case.id for p in two if p.case.label == "rag"}) == 2
    assert [p.key for p in two] == [p.key for p in make_probes(run, 2, seed=0)]
    assert all(p.case.id != "unsupported" for p in make_probes(run, 30, seed=0))
    seeds = {tuple(sorted({p.case.id for p in make_probes(run, 2, seed=s)})) for s in range(6)}
    assert len(seeds) > 1  # another seed, another sample


def test_offline_self_test_embeds_nothing_the_run_did_not() -> None:
    embedder = CountingEmbedder()
    judge = OfflineJudge(EmbedderEncoder(embedder))
    run = small_run(judge)  # the run's own judging embeds its questions and answers
    before = embedder.texts
    run_selftest(run, direct(judge), seed=0, resamples=200)
    # The edits with a sentence appended need no relevancy; the question-as-answer is the
    # question, which the encoder's cache holds: no model call at all.
    assert embedder.texts == before


def _llm_case(qid: str, question: str, answer: str, passage: str) -> Judged:
    verdict = Verdict({"faithfulness": 1.0, "answer_relevancy": 1.0,
                       "context_precision": 1.0, "context_recall": 1.0})  # fmt: skip
    return Judged("rag", qid, JudgeInput(question, answer, "25 days", [passage]), verdict)


LEAVE = "Unused leave can be carried over, up to 5 days. Leave requests are approved by HR."
PARK = "Visitor permits are issued within 2 working days. Parking is free for every employee."
LLM_RUN = {
    "rag": [
        _llm_case("q1", "How much leave carries over?", "Up to 5 days carry over. [1]", LEAVE),
        _llm_case("q2", "Is parking free?", "Parking is free for every employee. [1]", PARK),
    ]
}


def test_llm_judge_self_test_counts_unparsable_replies() -> None:
    # Per answer: an off-topic, a negated and a changed-number sentence (two statements each),
    # then the question as the answer, which the no-credit rule scores without asking.
    replies = ["1: yes\n2: no", "1: yes\n2: yes", "I think so", "1: yes\n2: no", "1: no\n2: no",
               "1: yes\n2: no"]  # fmt: skip
    gen = QueuedGenerator(replies)
    test = run_selftest(LLM_RUN, direct(LLMJudge(gen)), seed=0, resamples=200)  # type: ignore[arg-type]
    assert len(gen.prompts) == 6 and gen.replies == []
    edits = [k for k in KINDS if k != "question"]
    assert sum(test.caught[k]["rag"].n for k in edits) == 6
    caught = sum(test.caught[k]["rag"].mean * test.caught[k]["rag"].n for k in edits)
    assert round(caught) == 4  # 1 missed ("2: yes") and 1 unparsable: neither caught
    assert sum(test.unparsable[k]["rag"] for k in edits) == 1
    question = test.caught["question"]["rag"]
    assert question.mean == 1.0 and question.n == 2


def test_llm_judge_agreement_counts_disagreements_and_unparsable(tmp_path: Path) -> None:
    # Each answer: faithfulness, relevancy, context precision, context recall prompts.
    replies = ["1: yes", "5", "1: yes", "1: yes", "1: no", "no idea", "1: yes", "1: yes"]
    gen = QueuedGenerator(replies)
    made: list[int] = []

    def make() -> LLMJudge:
        made.append(1)
        return LLMJudge(gen)  # type: ignore[arg-type]

    store = RunStore.open(tmp_path / "run", {"x": 1})
    judging = stored(make, store, "queued")
    result = agreement(LLM_RUN, judging, seed=0, n=10, resamples=200)
    assert result is not None and result.answers == 2 and result.judgements == 8
    assert result.agreement["all"].mean == 6 / 8
    assert result.agreement["faithfulness"].mean == 0.5
    assert result.unparsable == {"first": 0, "second": 1}
    # Stored: judged again from the store, the model is neither loaded nor asked.
    assert agreement(LLM_RUN, judging, seed=0, n=10, resamples=200) == result
    assert made == [1] and set(store.judgements("queued", "repeat", "rag")) == {"q1", "q2"}
    store.close()
