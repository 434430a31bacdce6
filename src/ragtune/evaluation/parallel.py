"""Strategies answered side by side: one spawned process per worker, one torch thread each.

Two torch threads make the packaged 135M model's decoding only ~10 % faster than one, but
its ~400-token RAG prefills do gain from them, and each worker loads its own models: on 2
idle cores the pilot's compare stage went from 417 s to 385 s (bench/NOTES.md).
Workers only *answer*: each batch's records come back through a queue and the parent writes
them to the run store, so a killed run resumes batch by batch exactly as a sequential one
does. A worker keeps its project (and so its loaded models) for the next strategy it is
given. Example::

    answer_in_workers(runner, project, "main", [(spec, items), ...], adapters={}, workers=2)
"""

from __future__ import annotations

import json
import queue as queue_mod
import resource
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ragtune.evaluation.datasets import EvalItem
    from ragtune.evaluation.runner import Runner, StrategySpec
    from ragtune.project import Project

# Rough relative cost per question, to hand out the longest strategies first.
COST = {"raft+rag": 5, "ft+rag": 5, "rag": 4, "base": 2, "ft": 2, "extract": 1}
_projects: dict[tuple[str, str], Any] = {}  # per worker process: (root, settings) -> Project


def _project(root: str, settings: str) -> Project:
    from ragtune.config import Settings
    from ragtune.project import Project

    key = (root, settings)
    if key not in _projects:
        _projects[key] = Project.open(root, Settings.model_validate(json.loads(settings)))
    project: Project = _projects[key]
    return project


def _answer(
    root: str,
    settings: str,
    job: dict[str, Any],
    questions: list[tuple[str, str]],
    messages: Any,
) -> float:
    """Answer ``questions`` ((id, text)) with one strategy; returns this process's peak RSS."""
    import torch

    from ragtune.evaluation.runner import answer_record

    torch.set_num_threads(1)
    project = _project(root, settings)
    system = project.answer_system(
        job["name"], job["backend"], job["model"], job["options"], job["adapter"]
    )
    label = job["label"]
    messages.put(("meta", label, getattr(system, "retriever", None) is not None))
    for start in range(0, len(questions), job["batch_size"]):
        batch = questions[start : start + job["batch_size"]]
        began = time.perf_counter()
        answers = system.answer_many([q for _, q in batch])
        share = (time.perf_counter() - began) / len(batch)
        records = {i: answer_record(a, share) for (i, _), a in zip(batch, answers, strict=True)}
        messages.put(("batch", label, records))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def answer_in_workers(
    runner: Runner,
    project: Project,
    phase: str,
    work: Sequence[tuple[StrategySpec, Sequence[EvalItem]]],
    adapters: dict[str, str],
    workers: int,
    n_items: int,
) -> None:
    """Answer each (strategy, items still to answer) pair in ``workers`` processes;
    ``n_items`` is the phase's question count (progress counts answers stored earlier)."""
    import multiprocessing

    config, store = runner.config, runner.store
    settings = project.settings.model_dump_json()
    totals = {spec.label: n_items for spec, _ in work}
    done = {spec.label: n_items - len(items) for spec, items in work}
    context = multiprocessing.get_context("spawn")  # a forked torch can deadlock
    ordered = sorted(work, key=lambda w: -COST.get(w[0].name, 3) * len(w[1]))
    with context.Manager() as manager, ProcessPoolExecutor(workers, mp_context=context) as pool:
        messages = manager.Queue()
        pending: dict[Future[float], StrategySpec] = {}
        for spec, items in ordered:
            job = {
                "name": spec.name, "label": spec.label, "backend": config.backend,
                "model": config.model, "options": runner._options(),
                "adapter": adapters.get(spec.label, spec.adapter),
                "batch_size": config.batch_size,
            }  # fmt: skip
            questions = [(i.id, i.question) for i in items]
            future = pool.submit(_answer, str(project.root), settings, job, questions, messages)
            pending[future] = spec

        def drain() -> None:
            while True:
                try:
                    kind, label, value = messages.get_nowait()
                except queue_mod.Empty:
                    return
                if kind == "meta":
                    store.put_meta(f"retrieves:{label}", value)
                    continue
                store.put_answers(phase, label, value)
                done[label] += len(value)
                if runner.progress:
                    runner.progress(f"{phase} {label}", done[label], totals[label])

        try:
            while pending:
                finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                drain()
                for future in finished:
                    spec = pending.pop(future)
                    rss = future.result()
                    drain()
                    key = f"rss:{spec.label}"
                    store.put_meta(key, max(rss, store.meta(key, 0.0)))
        except BaseException:
            for future in pending:
                future.cancel()
            raise
