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
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ragtune.strategy_table as strategy_table
from ragtune.workers import Channel, Job

if TYPE_CHECKING:
    from ragtune.evaluation.datasets import EvalItem
    from ragtune.evaluation.runner import Runner, StrategySpec
    from ragtune.project import Project

_projects: dict[tuple[str, str], Any] = {}  # per worker process: (root, settings) -> Project


def worker_project(root: str, settings: str) -> Project:
    from ragtune.config import Settings
    from ragtune.project import Project

    key = (root, settings)
    if key not in _projects:
        _projects[key] = Project.open(root, Settings.model_validate(json.loads(settings)))
    project: Project = _projects[key]
    return project


@dataclass(frozen=True)
class AnswerJob:
    """One strategy's answering, as a worker gets it (picklable: it crosses processes)."""

    name: str  # the strategy (ragtune.registry.strategies)
    label: str  # its label in the run, e.g. "ft:pilot-knowledge"
    backend: str | None
    model: str | None
    options: dict[str, Any]
    adapter: str | None
    batch_size: int
    alone: tuple[str, ...]  # question ids answered one request at a time (latency)
    thresholds: dict[str, float]  # question -> abstention threshold (cross-fitted)


@dataclass(frozen=True)
class Retrieves:
    """A message: whether the strategy retrieves (the first thing a worker says)."""

    value: bool


@dataclass(frozen=True)
class Answered:
    """A message: one batch of store records, question id -> record."""

    records: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class PieceDone:
    """A piece's result: the worker's peak RSS (MB) and the CPU seconds the piece took."""

    rss_mb: float
    cpu_s: float


def _answer(
    root: str,
    settings: str,
    job: AnswerJob,
    questions: list[tuple[str, str]],
    channel: Channel,
) -> PieceDone:
    """Answer ``questions`` ((id, text)) with one strategy."""
    cpu = time.process_time()
    channel.use_threads()
    project = worker_project(root, settings)
    system = project.answer_system(job.name, job.backend, job.model, job.options, job.adapter)
    system.thresholds = job.thresholds
    channel.put(Retrieves(getattr(system, "retriever", None) is not None))
    # torch follows use_threads(); llama.cpp fixes its threads at load, so it is told.
    set_threads = getattr(getattr(system, "generator", None), "set_threads", None)
    for records in answer_batches(system, questions, job.batch_size, set(job.alone)):
        channel.put(Answered(records))
        threads = channel.use_threads()
        if set_threads is not None:
            set_threads(threads)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return PieceDone(rss, time.process_time() - cpu)


def answer_record(answer: Any, share_s: float, alone: bool = False) -> dict[str, Any]:
    """What the store keeps per answer: the Answer, abstention, compute share and whether it
    was answered alone (its timings are then one request's latency)."""
    from ragtune.evaluation.metrics.answers import is_abstention

    flag = getattr(answer, "abstained", None)
    return {
        "answer": answer.to_dict(),
        "abstained": is_abstention(answer.text, flag),
        "compute_s": share_s,
        "alone": alone,
    }


def answer_batches(
    system: Any, questions: Sequence[tuple[str, str]], batch_size: int, alone: Collection[str]
) -> Iterator[dict[str, dict[str, Any]]]:
    """Store records for ``questions`` ((id, text)), one batch at a time. The ids in ``alone``
    are answered first, one request each: a batch's answers all carry the batch's wall time,
    which is what throughput costs but not what one user waits, so latency is measured on
    these. The rest go ``batch_size`` at a time."""
    single = [q for q in questions if q[0] in alone]
    rest = [q for q in questions if q[0] not in alone]
    batches = [[q] for q in single]
    batches += [rest[s : s + batch_size] for s in range(0, len(rest), batch_size)]
    for batch in batches:
        began = time.perf_counter()
        answers = system.answer_many([q for _, q in batch])
        share = (time.perf_counter() - began) / len(batch)
        yield {
            i: answer_record(a, share, alone=i in alone)
            for (i, _), a in zip(batch, answers, strict=True)
        }


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
    ``answer_batches``); ``on_spec_done(spec)`` once all of a strategy's pieces are."""
    config, store = runner.config, runner.store
    settings = project.settings.model_dump_json()
    jobs: list[Job] = []
    for spec, items in work:
        job = AnswerJob(
            name=spec.name, label=spec.label, backend=config.backend, model=config.model,
            options=runner._options(), adapter=adapters.get(spec.label, spec.adapter),
            batch_size=config.batch_size, alone=tuple(sorted(alone)),
            thresholds=runner.thresholds,
        )  # fmt: skip
        known = strategy_table.info(spec.name)
        per_answer = known.cost if known else 2.0  # relative CPU: the longest pieces go first
        questions = [(i.id, i.question) for i in items]
        parts = pieces(questions, alone, config.batch_size, workers)
        left = {"parts": len(parts), "done": n_items - len(items)}

        def message(
            msg: Retrieves | Answered, spec: StrategySpec = spec, left: dict = left
        ) -> None:
            if isinstance(msg, Retrieves):
                store.put_meta(f"retrieves:{spec.label}", msg.value)
                return
            store.put_answers(phase, spec.label, msg.records)
            left["done"] += len(msg.records)
            if runner.progress:
                runner.progress(f"{phase} {spec.label}", left["done"], n_items)

        def finished(out: PieceDone, spec: StrategySpec = spec, left: dict = left) -> None:
            key = f"rss:{spec.label}"
            store.put_meta(key, max(out.rss_mb, store.meta(key, 0.0)))
            runner.cpu_s += out.cpu_s
            left["parts"] -= 1
            if not left["parts"] and on_spec_done is not None:
                on_spec_done(spec)

        for part in parts:
            cost = per_answer * len(part)
            args = (str(project.root), settings, job, part)
            jobs.append(Job(_answer, args, cost, message, finished))
    return jobs
