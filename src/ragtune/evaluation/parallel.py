"""Strategies answered side by side: spawned worker processes, one torch thread each (the
last job left gets the idle cores; see ``ragtune.workers``).

Each strategy's questions are cut into one piece per worker along the sequential run's
batch boundaries, so the answers are the same as one process would give and the workers
finish close together. Workers only *answer*: each batch's records come back through a
queue and the parent writes them to the run store, so a killed run resumes batch by batch
exactly as a sequential one does. A worker keeps its project (and so its loaded models)
for the next piece it is given. Example::

    answer_in_workers(runner, project, "main", [(spec, items), ...], adapters={}, workers=2)
"""

from __future__ import annotations

import json
import resource
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from ragtune.workers import Channel, run_jobs

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
    channel: Channel,
) -> float:
    """Answer ``questions`` ((id, text)) with one strategy; returns this process's peak RSS."""
    from ragtune.evaluation.runner import answer_batches

    channel.use_threads()
    project = _project(root, settings)
    system = project.answer_system(
        job["name"], job["backend"], job["model"], job["options"], job["adapter"]
    )
    label = job["label"]
    channel.put("meta", label, getattr(system, "retriever", None) is not None)
    # torch follows use_threads(); llama.cpp fixes its threads at load, so it is told.
    set_threads = getattr(getattr(system, "generator", None), "set_threads", None)
    for records in answer_batches(system, questions, job["batch_size"], set(job["alone"])):
        channel.put("batch", label, records)
        threads = channel.use_threads()
        if set_threads is not None:
            set_threads(threads)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


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


def answer_in_workers(
    runner: Runner,
    project: Project,
    phase: str,
    work: Sequence[tuple[StrategySpec, Sequence[EvalItem]]],
    adapters: dict[str, str],
    workers: int,
    n_items: int,
    alone: Collection[str] = (),
) -> None:
    """Answer each (strategy, items still to answer) pair in ``workers`` processes;
    ``n_items`` is the phase's question count (progress counts answers stored earlier);
    ``alone``: ids answered one request at a time (see ``runner.answer_batches``)."""
    config, store = runner.config, runner.store
    settings = project.settings.model_dump_json()
    totals = {spec.label: n_items for spec, _ in work}
    done = {spec.label: n_items - len(items) for spec, items in work}
    calls, specs = [], []
    for spec, items in sorted(work, key=lambda w: -COST.get(w[0].name, 3) * len(w[1])):
        job = {
            "name": spec.name, "label": spec.label, "backend": config.backend,
            "model": config.model, "options": runner._options(),
            "adapter": adapters.get(spec.label, spec.adapter),
            "batch_size": config.batch_size, "alone": sorted(alone),
        }  # fmt: skip
        questions = [(i.id, i.question) for i in items]
        for part in pieces(questions, alone, config.batch_size, workers):
            calls.append((_answer, (str(project.root), settings, job, part)))
            specs.append(spec)

    def message(msg: tuple[Any, ...]) -> None:
        kind, label, value = msg
        if kind == "meta":
            store.put_meta(f"retrieves:{label}", value)
            return
        store.put_answers(phase, label, value)
        done[label] += len(value)
        if runner.progress:
            runner.progress(f"{phase} {label}", done[label], totals[label])

    def finished(index: int, rss: float) -> None:
        key = f"rss:{specs[index].label}"
        store.put_meta(key, max(rss, store.meta(key, 0.0)))

    run_jobs(calls, workers, message, finished)
