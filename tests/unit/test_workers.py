"""Spawned worker processes (real ones): messages, results, the lone job's threads. A failing
job's error is tested through run_tunes in tests/integration/test_pilot_parallel.py."""

from __future__ import annotations

from typing import Any

import pytest

from ragtune.evaluation.parallel import pieces
from ragtune.evaluation.runner import answer_batches
from ragtune.workers import Channel, run_jobs


def _job(n: int, wait: float, channel: Channel) -> dict[str, Any]:
    import time

    first = channel.use_threads()
    channel.put("hello", n)
    time.sleep(wait)  # the other job ends meanwhile: this one is alone now
    deadline = time.monotonic() + 5
    while channel.use_threads() == first and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"n": n, "threads": [first, channel.use_threads()]}


def test_jobs_report_messages_and_the_last_one_gets_the_idle_cores() -> None:
    messages: list[tuple[Any, ...]] = []
    done: dict[int, Any] = {}
    run_jobs([(_job, (1, 0.0)), (_job, (2, 1.0))], 2, messages.append, done.__setitem__)
    assert sorted(messages) == [("hello", 1), ("hello", 2)]
    assert done[0]["n"] == 1 and done[1]["n"] == 2
    assert done[1]["threads"] == [1, 2]  # one thread beside a job, two once alone


class _Counting:
    """answer_many records its batches; answers are the questions themselves."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def answer_many(self, questions: list[str]) -> list[Any]:
        from ragtune.types import Answer

        self.batches.append(list(questions))
        return [Answer(question=q, text=q, strategy="echo") for q in questions]


@pytest.mark.parametrize("n_questions,alone,parts", [(23, 5, 2), (8, 0, 2), (3, 3, 3), (30, 8, 3)])
def test_pieces_give_the_batches_of_the_whole(n_questions: int, alone: int, parts: int) -> None:
    questions = [(f"q{i}", f"question {i}") for i in range(n_questions)]
    single = {q for q, _ in questions[:alone]}
    whole = _Counting()
    for _ in answer_batches(whole, questions, 4, single):
        pass
    split = _Counting()
    cut = pieces(questions, single, 4, parts)
    assert sorted(q for part in cut for q in part) == sorted(questions)
    for part in cut:
        for _ in answer_batches(split, part, 4, single):
            pass
    assert sorted(whole.batches) == sorted(split.batches)
    assert 1 <= len(cut) <= parts
