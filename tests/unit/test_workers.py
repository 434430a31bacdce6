"""Spawned worker processes (real ones): messages, results, the lone job's threads, the
pool's order (costliest ready job first; jobs submitted by callbacks; the parent's own work
on a thread) and its failures. A LoRA run's error is tested through the pool in
tests/integration/test_pilot_parallel.py."""

from __future__ import annotations

from typing import Any

import pytest

from ragtune.evaluation.parallel import answer_batches, pieces
from ragtune.workers import Channel, Job, Pool, run_jobs


def _job(n: int, wait: float, channel: Channel) -> dict[str, Any]:
    import time

    first = channel.use_threads()
    channel.put(("hello", n))
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


def _echo(name: str, channel: Channel) -> str:
    channel.put(("from", name))
    return name


def _fail(channel: Channel) -> None:
    raise ValueError("job failed on purpose")


def test_pool_starts_the_costliest_ready_job_and_runs_what_callbacks_submit() -> None:
    order: list[str] = []
    heard: dict[str, list[tuple[Any, ...]]] = {"a": [], "b": [], "c": []}
    with Pool(1) as pool:

        def then(name: str) -> None:
            order.append(name)
            if name == "a":  # work that waited for "a"
                pool.submit(Job(_echo, ("after-a",), cost=100, on_done=order.append))

        for name, cost in (("a", 0.0), ("b", 1.0), ("c", 5.0)):
            pool.submit(Job(_echo, (name,), cost, heard[name].append, then))
        pool.local(lambda: "parent", order.append)
        pool.wait()
        assert not pool.busy
    # "a" started first (alone then); of those ready after it, the costliest went first
    assert [n for n in order if n != "parent"] == ["a", "after-a", "c", "b"]
    assert "parent" in order
    assert heard == {"a": [("from", "a")], "b": [("from", "b")], "c": [("from", "c")]}


def test_pool_raises_the_first_failure_and_starts_nothing_more() -> None:
    done: list[str] = []
    with pytest.raises(ValueError, match="on purpose"), Pool(1) as pool:
        pool.submit(Job(_fail))
        pool.submit(Job(_echo, ("never",), on_done=done.append))
        pool.wait()
    assert done == []


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
