"""Jobs in spawned worker processes, one torch thread each, reporting through a queue.

On 2 CPU cores two torch threads speed the packaged 135M model up far less than 2x (its
decoding is bound by memory bandwidth, not arithmetic), so two 1-thread processes get more
done than one 2-thread process. When only one job is left and nothing waits for a worker,
that job is told to use the idle cores too: a lone LoRA run or strategy at the end of a
stage would otherwise leave a core idle.

A :class:`Pool` keeps its processes, and what they imported and loaded, for every job it is
given: spawning a worker and importing torch, transformers, PEFT and sentence-transformers
costs ~15 s of CPU on our machines, once per pool instead of once per stage. Among the jobs
ready to start the costliest goes first; a job's ``on_done`` may submit more (work that
waited for it), and the parent's own work (``Pool.local``) runs on a thread meanwhile, so a
worker that finishes never waits for the parent to come back. Used by the pilot (LoRA runs,
answers, the style check), compare's strategies (``ragtune.evaluation.parallel``) and
``run_jobs``. Example::

    def job(n: int, channel: Channel) -> int:
        channel.use_threads()        # call between units of work
        channel.put(Progress(n, 2))  # any picklable object reaches the job's on_message
        return n * 2

    with Pool(2) as pool:
        pool.submit(Job(job, (1,), cost=5, on_message=print, on_done=print))
        pool.submit(Job(job, (2,), on_done=lambda out: pool.submit(Job(job, (out,)))))
        pool.wait()
"""

from __future__ import annotations

import contextlib
import queue as queue_mod
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from functools import partial
from typing import Any


class Channel:
    """A worker's line to the parent: messages out, and the thread count it should use."""

    def __init__(self, messages: Any, threads: Any, tag: int = 0) -> None:
        self._messages, self._threads, self._tag = messages, threads, tag

    def put(self, message: Any) -> None:
        self._messages.put((self._tag, message))

    def use_threads(self) -> int:
        """Apply the thread count the parent asks for now (1, or more once alone)."""
        import torch

        wanted = int(self._threads.value)
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)
        return wanted


@dataclass(frozen=True)
class Started:
    """A message: the worker has begun the job (its clock starts now)."""


@dataclass(frozen=True)
class Progress:
    """A message: ``done`` of ``total`` units of the job's work."""

    done: int
    total: int


@dataclass
class Job:
    """``fn(*args, channel)`` in a worker; ``on_message(message)`` for each ``channel.put``
    and ``on_done(result)`` run in the parent. ``cost`` (any unit, e.g. estimated seconds)
    orders the jobs ready at the same time: the largest starts first."""

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    cost: float = 0.0
    on_message: Callable[[Any], None] | None = None
    on_done: Callable[[Any], None] | None = None


class Pool:
    """``workers`` spawned processes for many jobs; see the module docstring."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._ready: list[Job] = []
        self._running: dict[Future[Any], tuple[int, Job]] = {}
        self._local: dict[Future[Any], Job] = {}
        self._routes: dict[int, Job] = {}
        self._tags = 0
        self._stack = contextlib.ExitStack()
        # set on entering: where workers' messages go, and the thread count they should use
        self._messages: Any = None
        self._threads: Any = None

    def __enter__(self) -> Pool:
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # a forked torch can deadlock
        manager = self._stack.enter_context(context.Manager())
        self._processes = self._stack.enter_context(
            ProcessPoolExecutor(self.workers, mp_context=context)
        )
        self._thread = self._stack.enter_context(ThreadPoolExecutor(1))
        self._messages, self._threads = manager.Queue(), manager.Value("i", 1)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._ready.clear()  # after a failure: start nothing more; running jobs finish
        self._stack.__exit__(*exc)

    @property
    def busy(self) -> bool:
        return bool(self._ready or self._running or self._local)

    def submit(self, job: Job) -> None:
        self._ready.append(job)
        self._dispatch()

    def local(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None) -> None:
        """Run ``fn()`` on a thread of this process while the workers go on; ``on_done``
        follows in :meth:`wait` like a job's."""
        self._local[self._thread.submit(fn)] = Job(fn, on_done=on_done)
        self._set_threads()

    def wait(self) -> None:
        """Until every job is done, also those submitted by ``on_done`` callbacks meanwhile.
        The first failure is raised; jobs not started yet are then dropped."""
        self._dispatch()
        while self.busy:
            futures = [*self._running, *self._local]
            finished, _ = wait_futures(futures, timeout=0.5, return_when=FIRST_COMPLETED)
            self._drain()
            for future in finished:
                if future in self._local:
                    job = self._local.pop(future)
                    result = future.result()
                else:
                    tag, job = self._running.pop(future)
                    result = future.result()
                    self._drain()
                    self._routes.pop(tag, None)
                if job.on_done is not None:
                    job.on_done(result)
            self._dispatch()

    def _dispatch(self) -> None:
        while self._ready and len(self._running) < self.workers:
            job = max(self._ready, key=lambda j: j.cost)  # the earliest of equals
            self._ready.remove(job)
            self._tags += 1
            self._routes[self._tags] = job
            channel = Channel(self._messages, self._threads, self._tags)
            self._running[self._start(job, channel)] = (self._tags, job)
        self._set_threads()

    def _start(self, job: Job, channel: Channel) -> Future[Any]:
        """Where a job runs: a spawned process here; a Ray task in RayPool."""
        return self._processes.submit(job.fn, *job.args, channel)

    def _set_threads(self) -> None:
        alone = len(self._running) == 1 and not self._ready and not self._local
        self._threads.value = self.workers if alone else 1

    def _drain(self) -> None:
        while True:
            try:
                tag, message = self._messages.get_nowait()
            except queue_mod.Empty:
                return
            job = self._routes.get(tag)
            if job is not None and job.on_message is not None:
                job.on_message(message)


def run_jobs(
    calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
    workers: int,
    on_message: Callable[[Any], None],
    on_done: Callable[[int, Any], None],
) -> None:
    """Run ``fn(*args, channel)`` for each call, in order, in a :class:`Pool` of ``workers``.
    Messages reach ``on_message`` in the parent as they arrive; ``on_done(index, result)``
    follows each job's last message. The first failure is raised after the jobs not yet
    started are dropped."""
    with Pool(workers) as pool:
        for i, (fn, args) in enumerate(calls):
            pool.submit(Job(fn, args, -i, on_message, partial(on_done, i)))
        pool.wait()
