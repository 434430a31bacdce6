"""Answers for the service: model ids, jobs on the model thread, timeouts, streaming.

Every answer goes through ``project.answer_system(...)`` (the one composition path) with the
caller's groups, on the single model thread. A job always generates through ``on_token``,
so a timeout or a client that went away stops it at the next token.

A client that goes away is noticed while its request waits for the answer (plain answers,
and streamed ones before the first token): the request then watches the connection
(:func:`_disconnected`), since the ASGI server does not cancel a handler whose client left.
Once a stream has begun, Starlette's ``StreamingResponse`` watches it and closes the event
iterator, whose ``finally`` cancels the job.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from starlette.requests import Request

import ragtune.strategy_table as strategy_table
from ragtune.errors import NotFoundError, UsageError
from ragtune.project import Project
from ragtune.retrieval.filters import acl_where, compile_filter, parse_filter
from ragtune.routing import RoutedSystem
from ragtune.service.deps import Caller, Runtime, ServiceConfig
from ragtune.service.errors import ServiceError
from ragtune.service.metrics import Metrics
from ragtune.store.feedback import record_answer
from ragtune.types import Answer

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside a job's token callback to stop generation."""


def needs_adapter(strategy: str) -> bool:
    """ft, ft+rag and raft+rag run a fine-tuned adapter; they are listed once per adapter."""
    known = strategy_table.info(strategy)
    return known is not None and known.needs_adapter


def default_model(config: ServiceConfig) -> str:
    return strategy_table.label(config.strategy, config.adapter)


def check_default(project: Project, config: ServiceConfig) -> None:
    """Fail fast (without loading a model) on an unknown strategy or adapter."""
    from ragtune.finetune.adapters import load_info
    from ragtune.registry import strategies

    if config.strategy not in strategies:
        raise UsageError(f"unknown strategy {config.strategy!r}",
                         f"choose one of: {', '.join(strategies.names())}")  # fmt: skip
    if needs_adapter(config.strategy) and not config.adapter:
        raise UsageError(f"the {config.strategy} strategy needs an adapter", "pass --adapter NAME")
    if config.adapter:
        load_info(project, config.adapter)


def model_ids(project: Project, config: ServiceConfig) -> list[str]:
    """The served default first, then every registered strategy (adapter strategies once
    per registered adapter, as ``STRATEGY:ADAPTER``)."""
    from ragtune.finetune.adapters import list_adapters
    from ragtune.registry import strategies

    adapters = [a.name for a in list_adapters(project)]
    ids = [default_model(config)]
    for name in strategies.names():
        ids += [strategy_table.label(name, a) for a in adapters] if needs_adapter(name) else [name]
    return list(dict.fromkeys(ids))


def parse_model(project: Project, config: ServiceConfig, model: str | None) -> tuple[str, str]:
    """(strategy, adapter) for a model id; an unknown id raises with the choices."""
    if not model or model == "default":
        return config.strategy, config.adapter or ""
    ids = model_ids(project, config)
    if model not in ids:
        raise NotFoundError(f"unknown model {model!r}", f"GET /v1/models lists: {', '.join(ids)}")
    strategy, adapter = strategy_table.parse_label(model)
    return strategy, adapter or ""


def check_filters(project: Project, filters: list[str], groups: tuple[str, ...]) -> None:
    """Compile ``filters`` against the metadata fields of documents the caller may read, so
    an 'unknown field' error never lists fields that only restricted documents have."""
    conditions = parse_filter(filters) if filters else []
    if not conditions:
        return
    acl = acl_where(groups)
    assert acl is not None  # a key always has a (possibly empty) group list
    compile_filter(conditions, project.store.metadata_keys(acl))


@dataclass
class AnswerJob:
    """One question to answer for ``caller``."""

    question: str
    caller: Caller
    strategy: str
    adapter: str
    options: dict[str, Any]
    k: int | None = None
    filters: list[str] = field(default_factory=list)
    route: dict[str, str] = field(default_factory=dict)  # request fields for `routed`
    cancel: threading.Event = field(default_factory=threading.Event)
    sink: Callable[[str], None] | None = None
    queued_at: float = field(default_factory=time.perf_counter)


def run_job(rt: Runtime, job: AnswerJob) -> Answer:
    """Answer on the model thread (the caller's groups limit retrieval), then record it."""
    if job.cancel.is_set():
        raise Cancelled()
    waited = time.perf_counter() - job.queued_at
    project = rt.local()
    check_filters(project, job.filters, job.caller.groups)
    system = project.answer_system(job.strategy, options=job.options, adapter=job.adapter or None)
    extra: dict[str, Any] = {}
    if isinstance(system, RoutedSystem):
        extra["request"] = job.route
    elif job.route:
        raise UsageError(f"route fields are for model 'routed', not {job.strategy!r}",
                         "send model: routed, or drop route")  # fmt: skip

    def on_token(piece: str) -> None:
        if job.cancel.is_set():
            raise Cancelled()
        if piece and job.sink is not None:
            job.sink(piece)

    answer = system.answer(
        job.question, k=job.k, filters=job.filters or None, groups=list(job.caller.groups),
        on_token=on_token, ground=job.sink is None,  # a plain answer is checked whole
        **extra,
    )  # fmt: skip
    answer.timings["queue"] = waited
    record_answer(project.store, answer, job.caller.key_id)
    return answer


def timeout_error(seconds: float) -> ServiceError:
    return ServiceError(
        504, f"the answer took longer than {seconds:g} s", "ask again later, or ask for fewer "
        "tokens (max_tokens); the server's limit is `ragtune serve --timeout`",
    )  # fmt: skip


class Answering:
    """Submits jobs to the model thread; plain (awaited) or streamed."""

    def __init__(self, rt: Runtime, metrics: Metrics) -> None:
        self.rt = rt
        self.metrics = metrics
        self.timeout = rt.config.generation_timeout_s

    def _submit(self, job: AnswerJob) -> Future[Answer]:
        self.metrics.queue.inc()
        future = self.rt.model.submit(run_job, self.rt, job)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Answer]) -> None:
        self.metrics.queue.dec()
        if not future.cancelled() and future.exception() is None:
            answer = future.result()
            self.metrics.answers.labels(answer.strategy).inc()
            self.metrics.tokens.inc(answer.tokens_out)

    async def answer(self, job: AnswerJob, request: Request | None = None) -> Answer:
        """The whole answer; 504 after the timeout, 499 when ``request``'s client goes away
        first (either way the job stops at its next token, or never starts if queued)."""
        future = self._submit(job)
        try:
            return await self._watched(asyncio.wrap_future(future), job, request, self.timeout)
        finally:
            job.cancel.set()  # no-op once done; stops the job if this request was cancelled

    async def stream(
        self, job: AnswerJob, request: Request | None = None
    ) -> AsyncIterator[tuple[str, Any]]:
        """Events ``("token", str)`` then ``("answer", Answer)``, or ``("error", ServiceError)``
        once streaming has begun. Errors before the first token raise instead, so the caller
        can still answer with a proper HTTP status."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def sink(piece: str) -> None:  # called on the model thread
            loop.call_soon_threadsafe(queue.put_nowait, ("token", piece))

        job.sink = sink
        future = self._submit(job)
        future.add_done_callback(
            lambda _: loop.call_soon_threadsafe(queue.put_nowait, ("done", None))
        )
        deadline = loop.time() + self.timeout
        try:
            first = await self._watched(queue.get(), job, request, self.timeout)
            if first[0] == "done":
                _raise_failure(future)
        except BaseException:  # a timeout, or the client going away before the first token
            job.cancel.set()
            future.cancel()  # still queued: it never runs
            raise
        return self._events(first, queue, deadline, job, future)

    async def _next(
        self, queue: asyncio.Queue[tuple[str, Any]], deadline: float, job: AnswerJob
    ) -> tuple[str, Any]:
        remaining = deadline - asyncio.get_running_loop().time()
        return await self._watched(queue.get(), job, None, remaining)

    async def _watched(
        self, awaitable: Awaitable[T], job: AnswerJob, request: Request | None, timeout: float
    ) -> T:
        """``awaitable``'s result; after ``timeout`` s the job is cancelled and 504 raised,
        and when ``request``'s client goes away first, it is cancelled and 499 raised."""
        work = asyncio.ensure_future(awaitable)
        gone = asyncio.ensure_future(_disconnected(request)) if request is not None else None
        waiting = {work} if gone is None else {work, gone}
        try:
            done, _ = await asyncio.wait(waiting, timeout=max(timeout, 0.0),
                                         return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        finally:
            for task in waiting:
                task.cancel()  # no-op on a finished one
        if work in done:
            return work.result()
        job.cancel.set()
        if gone is not None and gone in done:
            raise client_gone()
        self.metrics.timeouts.inc()
        raise timeout_error(self.timeout)

    async def _events(
        self,
        first: tuple[str, Any],
        queue: asyncio.Queue[tuple[str, Any]],
        deadline: float,
        job: AnswerJob,
        future: Future[Answer],
    ) -> AsyncIterator[tuple[str, Any]]:
        event = first
        try:
            while event[0] == "token":
                yield event
                try:
                    event = await self._next(queue, deadline, job)
                except ServiceError as exc:
                    yield ("error", exc)
                    return
            try:
                yield ("answer", future.result())
            except Exception as exc:  # a failure after the first token: report it in-band
                yield ("error", _as_service_error(exc))
        finally:
            job.cancel.set()  # the client went away, or we are done: stop generating


async def _disconnected(request: Request) -> None:
    """Return once the client has closed the connection (the body was read already, so the
    next ASGI message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def client_gone() -> ServiceError:
    # Nobody reads this response; the status shows up in the logs and /metrics.
    return ServiceError(499, "the client closed the connection before the answer was ready")


def _raise_failure(future: Future[Answer]) -> None:
    if future.cancelled():
        raise ServiceError(503, "the server is shutting down")
    exc = future.exception()
    if exc is not None:
        raise exc
    # Finished without a token (an empty answer): nothing to raise.


def _as_service_error(exc: BaseException) -> ServiceError:
    from ragtune.errors import RagtuneError
    from ragtune.service.errors import status_of

    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, RagtuneError):
        return ServiceError(status_of(exc)[0], exc.message, exc.hint)
    return ServiceError(500, f"internal error: {type(exc).__name__}")


def options_for(config: ServiceConfig, max_tokens: int | None, **given: Any) -> dict[str, Any]:
    """Generation overrides from a request; max_tokens is capped by the server's limit."""
    options = {k: v for k, v in given.items() if v is not None}
    if "stop" in options:
        stop = options["stop"]
        options["stop"] = tuple([stop] if isinstance(stop, str) else stop)
        if any(not s for s in options["stop"]):
            raise UsageError("stop sequences must not be empty")
    if max_tokens is not None:
        options["max_new_tokens"] = min(max_tokens, config.max_new_tokens)
    return options
