"""Jobs in spawned worker processes, one torch thread each, reporting through a queue.

On 2 CPU cores two torch threads speed the packaged 135M model up far less than 2x (its
decoding is bound by memory bandwidth, not arithmetic), so two 1-thread processes get more
done than one 2-thread process. When only one job is left and nothing waits for a worker,
that job is told to use the idle cores too: a lone LoRA run or strategy at the end of a
stage would otherwise leave a core idle. Used by the pilot's LoRA runs
(``ragtune.pilot.parallel``) and compare's strategies (``ragtune.evaluation.parallel``).
Example::

    def job(n: int, channel: Channel) -> int:
        channel.use_threads()        # call between units of work
        channel.put("progress", n)
        return n * 2

    run_jobs([(job, (1,)), (job, (2,))], 2, on_message=print, on_done=print)
"""

from __future__ import annotations

import queue as queue_mod
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any


class Channel:
    """A worker's line to the parent: messages out, and the thread count it should use."""

    def __init__(self, messages: Any, threads: Any) -> None:
        self._messages, self._threads = messages, threads

    def put(self, *message: Any) -> None:
        self._messages.put(message)

    def use_threads(self) -> int:
        """Apply the thread count the parent asks for now (1, or more once alone)."""
        import torch

        wanted = int(self._threads.value)
        if torch.get_num_threads() != wanted:
            torch.set_num_threads(wanted)
        return wanted


def run_jobs(
    calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
    workers: int,
    on_message: Callable[[tuple[Any, ...]], None],
    on_done: Callable[[int, Any], None],
) -> None:
    """Run ``fn(*args, channel)`` for each call in ``workers`` spawned processes. Messages
    reach ``on_message`` in the parent as they arrive; ``on_done(index, result)`` follows
    each job's last message. The first failure is raised after the jobs not yet started
    are cancelled."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # a forked torch can deadlock
    with context.Manager() as manager, ProcessPoolExecutor(workers, mp_context=context) as pool:
        messages, threads = manager.Queue(), manager.Value("i", 1)
        channel = Channel(messages, threads)
        pending: dict[Future[Any], int] = {
            pool.submit(fn, *args, channel): i for i, (fn, args) in enumerate(calls)
        }

        def drain() -> None:
            while True:
                try:
                    on_message(messages.get_nowait())
                except queue_mod.Empty:
                    return

        try:
            while pending:
                finished, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                drain()
                for future in finished:
                    index = pending.pop(future)
                    result = future.result()
                    drain()
                    on_done(index, result)
                if len(pending) == 1:  # the last job: let it have the idle cores
                    threads.value = workers
        except BaseException:
            for future in pending:
                future.cancel()
            raise
