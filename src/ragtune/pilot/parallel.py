"""The pilot's LoRA runs side by side: one process per run, one torch thread each (the
last one left gets the idle cores; see ``ragtune.workers``).

On 2 CPU cores two torch threads speed the 135M model up far less than 2x, so two
independent runs with one thread each finish sooner than the same runs one after another
with two threads: the pilot's three LoRA runs 435 s -> ~360 s on 2 idle cores. Each worker
opens the project itself and reports its steps through a queue, so the progress rows keep
moving. Example::

    run_tunes(project.root, jobs, 2, started=display.begin, finished=record)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragtune.pilot.stages import Tick
from ragtune.workers import Channel, run_jobs


@dataclass(frozen=True)
class TuneJob:
    stage: str  # the progress row, e.g. "tune style LoRA"
    name: str  # the adapter
    dataset: str
    steps: int
    kinds: tuple[str, ...]
    seed: int


def auto_workers(wanted: int, jobs: int) -> int:
    """``wanted`` (> 0), else 2 when there are two cores and an idle-enough machine."""
    if wanted > 0:
        return min(wanted, max(jobs, 1))
    cores = os.cpu_count() or 1
    if cores < 2 or jobs < 2:
        return 1
    load = os.getloadavg()[0]
    return 2 if load < cores else 1


def _work(root: str, job: TuneJob, channel: Channel) -> dict[str, Any]:
    channel.use_threads()
    from ragtune.pilot.steps import tune
    from ragtune.project import Project

    cpu = time.process_time()
    channel.put(job.stage, 0, job.steps)  # started: the stage's clock begins now

    def tick(done: int, total: int) -> None:
        channel.use_threads()
        channel.put(job.stage, done, total)

    project = Project.open(root)
    try:
        out = tune(project, job.name, job.dataset, job.steps, job.kinds, job.seed, tick)
    finally:
        project.close()
    return {**out, "cpu_s": time.process_time() - cpu}


def run_tunes(
    root: Path,
    jobs: Sequence[TuneJob],
    workers: int,
    started: Callable[[TuneJob], Tick],
    finished: Callable[[TuneJob, dict[str, Any]], None],
) -> None:
    """Run ``jobs`` in ``workers`` processes; ``started(job)`` when a worker picks a job up
    (it returns the job's progress tick), ``finished(job, outputs)`` as each one completes.
    The first failure is raised after the jobs not yet started are cancelled."""
    by_stage = {job.stage: job for job in jobs}
    ticks: dict[str, Tick] = {}

    def message(msg: tuple[Any, ...]) -> None:
        stage, done, total = msg
        if stage not in ticks:
            ticks[stage] = started(by_stage[stage])
        ticks[stage](done, total)

    calls = [(_work, (str(root), job)) for job in jobs]
    run_jobs(calls, workers, message, lambda i, out: finished(jobs[i], out))
