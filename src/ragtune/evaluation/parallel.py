"""Strategies answered side by side: spawned worker processes, one torch thread each (the
last job left gets the idle cores; see ``ragtune.workers``).

Each strategy's questions are cut into one piece per worker along the sequential run's
batch boundaries, so the answers are the same as one process would give and the workers
finish close together. Workers only *answer*: each batch's records come back through a
queue and the parent writes them to the run store, so a killed run resumes batch by batch
exactly as a sequential one does. A worker keeps its project (and so its loaded models)
for the next piece it is given. Example::

    with Pool(2) as pool:
        for job in answer_jobs(runner, project, "main", [(spec, items)], {}, 2, len(items)):
            pool.submit(job)
        pool.wait()

``ragtune compare --workers`` runs them in a pool of its own; the pilot submits them to its
one pool, next to its LoRA runs.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from ragtune.workers import Channel, Job

if TYPE_CHECKING:
    from ragtune.evaluation.datasets import EvalItem
    from ragtune.evaluation.runner import Runner, StrategySpec
    from ragtune.project import Project

# CPU seconds per question (1 thread, the sample pilot: 32 new tokens, k=2), to start the
# longest pieces first.
COST = {"raft+rag": 2.9, "ft+rag": 3.0, "rag": 2.9, "base": 1.4, "ft": 1.1, "extract": 0.3}
_projects: dict[tuple[str, str], Any] = {}  # per worker process: (root, settings) -> Project


def worker_project(root: str, settings: str) -> Project:
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
    channel: Channel,
) -> dict[str, float]:
    """Answer ``questions`` ((id, text)) with one strategy; returns this process's peak RSS
    (MB) and the CPU seconds the piece took."""
    from ragtune.evaluation.runner import answer_batches

    cpu = time.process_time()
    channel.use_threads()
    project = worker_project(root, settings)
    system = project.answer_system(
        job["name"], job["backend"], job["model"], job["options"], job["adapter"]
    )
    system.thresholds = job["thresholds"]
    channel.put("meta", getattr(system, "retriever", None) is not None)
    # torch follows use_threads(); llama.cpp fixes its threads at load, so it is told.
    set_threads = getattr(getattr(system, "generator", None), "set_threads", None)
    for records in answer_batches(system, questions, job["batch_size"], set(job["alone"])):
        channel.put("batch", records)
        threads = channel.use_threads()
        if set_threads is not None:
            set_threads(threads)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"rss_mb": rss, "cpu_s": time.process_time() - cpu}


def pieces(
    questions: Sequence[tuple[str, str]], alone: Collection[str], batch_size: int, n: int
) -> list[list[tuple[str, str]]]:
    """Up to ``n`` parts of ``questions``, cut between the batches ``answer_batches`` would
    make of the whole (the questions answered alone are dealt out in turn), so the parts
    give the same batches, hence the same answers, as the whole would."""
    single = [q for q in questions if q[0] in alone]
    rest = [q for q in questions if q[0] not in alone]
    batches = [rest[s : s + batch_size] for s in range(0, len(rest), batch_size)]
    n = max(1, n)
    cuts = [round(len(batches) * j / n) for j in range(n + 1)]
    parts = [
        single[j::n] + [q for batch in batches[cuts[j] : cuts[j + 1]] for q in batch]
        for j in range(n)
    ]
    return [part for part in parts if part]


def answer_jobs(
    runner: Runner,
    project: Project,
    phase: str,
    work: Sequence[tuple[StrategySpec, Sequence[EvalItem]]],
    adapters: dict[str, str],
    workers: int,
    n_items: int,
    alone: Collection[str] = (),
    on_spec_done: Callable[[StrategySpec], None] | None = None,
) -> list[Job]:
    """The pool jobs answering each (strategy, items still to answer) pair, each cut into
    ``workers`` pieces; ``n_items`` is the phase's question count (progress counts answers
    stored earlier); ``alone``: ids answered one request at a time (see
    ``runner.answer_batches``); ``on_spec_done(spec)`` once all of a strategy's pieces are."""
    config, store = runner.config, runner.store
    settings = project.settings.model_dump_json()
    jobs: list[Job] = []
    for spec, items in work:
        job = {
            "name": spec.name, "label": spec.label, "backend": config.backend,
            "model": config.model, "options": runner._options(),
            "adapter": adapters.get(spec.label, spec.adapter),
            "batch_size": config.batch_size, "alone": sorted(alone),
            "thresholds": runner.thresholds,
        }  # fmt: skip
        questions = [(i.id, i.question) for i in items]
        parts = pieces(questions, alone, config.batch_size, workers)
        left = {"parts": len(parts), "done": n_items - len(items)}

        def message(msg: tuple[Any, ...], spec: StrategySpec = spec, left: dict = left) -> None:
            kind, value = msg
            if kind == "meta":
                store.put_meta(f"retrieves:{spec.label}", value)
                return
            store.put_answers(phase, spec.label, value)
            left["done"] += len(value)
            if runner.progress:
                runner.progress(f"{phase} {spec.label}", left["done"], n_items)

        def finished(out: dict[str, float], spec: StrategySpec = spec, left: dict = left) -> None:
            key = f"rss:{spec.label}"
            store.put_meta(key, max(out["rss_mb"], store.meta(key, 0.0)))
            runner.cpu_s += out["cpu_s"]
            left["parts"] -= 1
            if not left["parts"] and on_spec_done is not None:
                on_spec_done(spec)

        for part in parts:
            cost = COST.get(spec.name, 2.0) * len(part)
            args = (str(project.root), settings, job, part)
            jobs.append(Job(_answer, args, cost, message, finished))
    return jobs
