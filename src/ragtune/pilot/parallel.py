"""The pilot's jobs for worker processes (``ragtune.workers``): LoRA runs, one torch thread
each (the last job left gets the idle cores).

On 2 CPU cores two torch threads speed the 135M model up far less than 2x, so two
independent runs with one thread each finish sooner than the same runs one after another
with two threads: the pilot's three LoRA runs 435 s -> ~360 s on 2 idle cores. Each worker
opens the project itself and reports its steps through the channel, so the progress rows
keep moving. Example::

    with Pool(2) as pool:
        pool.submit(Job(tune_in_worker, (str(project.root), job), on_done=record))
        pool.wait()
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from ragtune.workers import Channel, Progress


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


def tune_in_worker(root: str, job: TuneJob, channel: Channel) -> dict[str, Any]:
    """A pool job: one LoRA run; reports (done, total) steps; returns the tune outputs and
    the CPU seconds it took."""
    channel.use_threads()
    from ragtune.pilot.steps import tune
    from ragtune.project import Project

    cpu = time.process_time()
    channel.put(Progress(0, job.steps))  # started: the stage's clock begins now

    def tick(done: int, total: int) -> None:
        channel.use_threads()
        channel.put(Progress(done, total))

    project = Project.open(root)
    try:
        out = tune(project, job.name, job.dataset, job.steps, job.kinds, job.seed, tick)
    finally:
        project.close()
    return {**out, "cpu_s": time.process_time() - cpu}
