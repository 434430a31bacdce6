"""``POST /v1/search``, ``POST /v1/ask``, ``POST /v1/chat/completions``, ``GET /v1/models``."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from ragtune.service.answering import (
    Answering,
    AnswerJob,
    check_filters,
    model_ids,
    options_for,
    parse_model,
)
from ragtune.service.auth import caller, runtime
from ragtune.service.compat import check_options, openai_finish_reason
from ragtune.service.deps import Caller, Runtime
from ragtune.service.errors import ServiceError
from ragtune.service.schemas import AskRequest, ChatRequest, SearchRequest
from ragtune.types import Answer

router = APIRouter()


def answering(request: Request) -> Answering:
    svc: Answering = request.app.state.answering
    return svc


def _check_question(rt: Runtime, question: str) -> str:
    question = question.strip()
    if not question:
        raise ServiceError(422, "the question is empty")
    limit = rt.config.max_question_chars
    if len(question) > limit:
        raise ServiceError(422, f"the question is {len(question)} characters, over the "
                           f"{limit} limit", "ask a shorter question")  # fmt: skip
    return question


# With ``"stream": true`` the 200 is server-sent events, each one JSON object in ``data``
# (``[DONE]`` ends an OpenAI stream).
_EVENT = {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}
STREAMED: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {"schema": _EVENT}}}
}


@router.post("/v1/search")
async def search(
    body: SearchRequest, who: Caller = Depends(caller), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    """Hybrid search over the documents the key's groups may read."""
    query = _check_question(rt, body.query)
    started = time.perf_counter()
    vector = None
    if rt.queries is not None and (body.mode or rt.project.settings.retrieval.mode) != "bm25":
        vector = await rt.queries.embed(query)  # with the searches that arrived alongside

    def work() -> list[dict[str, Any]]:
        project = rt.local()
        check_filters(project, body.filters, who.groups)
        hits = project.search(
            query, mode=body.mode, k=body.k, filters=body.filters or None, groups=who.groups,
            query_vector=vector,
        )  # fmt: skip
        return [h.to_dict() for h in hits]

    hits = await rt.run(rt.read, work)
    return {"object": "list", "data": hits, "seconds": time.perf_counter() - started}


@router.get("/v1/models")
async def models(who: Caller = Depends(caller), rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    """Strategies (and strategy:adapter pairs) a request's ``model`` may name."""
    ids = await rt.run(rt.read, lambda: model_ids(rt.local(), rt.config))
    data = [{"id": i, "object": "model", "created": 0, "owned_by": "ragtune"} for i in ids]
    return {"object": "list", "data": data}


def _job(rt: Runtime, who: Caller, question: str, model: str | None, **kw: Any) -> AnswerJob:
    strategy, adapter = parse_model(rt.project, rt.config, model)
    return AnswerJob(question, who, strategy, adapter, **kw)


def _sse(data: Any) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _error_data(exc: ServiceError) -> dict[str, Any]:
    return {"error": {"message": exc.message, "code": exc.status_code, "hint": exc.hint}}


_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.post("/v1/ask", response_model=None, responses=STREAMED)
async def ask(
    body: AskRequest,
    request: Request,
    who: Caller = Depends(caller),
    rt: Runtime = Depends(runtime),
    svc: Answering = Depends(answering),
) -> dict[str, Any] | StreamingResponse:
    """An answer with citations, the retrieved passages and timings. With ``stream``:
    server-sent events ``{"type": "token", "text"}`` ... ``{"type": "answer", "answer"}``."""
    question = _check_question(rt, body.question)
    options = options_for(
        rt.config, body.max_tokens, temperature=body.temperature, top_p=body.top_p,
        stop=body.stop, seed=body.seed,
    )  # fmt: skip
    job = _job(rt, who, question, body.model, options=options, k=body.k, filters=body.filters,
               route=body.route)  # fmt: skip
    if not body.stream:
        return (await svc.answer(job, request)).to_dict()
    events = await svc.stream(job, request)

    async def body_iter() -> AsyncIterator[bytes]:
        async for kind, value in events:
            if kind == "token":
                yield _sse({"type": "token", "text": value})
            elif kind == "answer":
                yield _sse({"type": "answer", "answer": value.to_dict()})
            else:
                yield _sse({"type": "error", **_error_data(value)})

    return StreamingResponse(body_iter(), media_type="text/event-stream", headers=_SSE_HEADERS)


def _chat_question(body: ChatRequest) -> str:
    users = [m.text() for m in body.messages if m.role == "user"]
    if not users:
        raise ServiceError(422, "messages: no user message", "the last user message is asked")
    return users[-1]


def _extras(answer: Answer) -> dict[str, Any]:
    """ragtune's fields beside OpenAI's: the sources, the answer id (for feedback) and
    ragtune's own finish reason (e.g. ``extracted``, ``abstained``, ``ungrounded``) and,
    when the evidence span replaced the model's answer, what the model said."""
    extras = {"citations": [c.to_dict() for c in answer.citations], "answer_id": answer.id,
              "ragtune_finish_reason": answer.finish_reason or "stop"}  # fmt: skip
    if answer.replaced:  # the model's answer that the evidence span took over
        extras["replaced"] = answer.replaced
    return extras


@router.post("/v1/chat/completions", response_model=None, responses=STREAMED)
async def chat(
    body: ChatRequest,
    request: Request,
    who: Caller = Depends(caller),
    rt: Runtime = Depends(runtime),
    svc: Answering = Depends(answering),
) -> dict[str, Any] | StreamingResponse:
    """OpenAI-compatible chat. The last user message is the question (the prompt is always
    ragtune's own); the text keeps its [n] markers and ``citations`` lists the sources.
    Options ragtune cannot honour are refused (400); ragtune's own finish reason is in
    ``ragtune_finish_reason``, OpenAI's in the choice."""
    check_options(body.model_extra or {})
    question = _check_question(rt, _chat_question(body))
    options = options_for(
        rt.config, body.max_completion_tokens or body.max_tokens, temperature=body.temperature,
        top_p=body.top_p, stop=body.stop, seed=body.seed,
    )  # fmt: skip
    job = _job(rt, who, question, body.model, options=options, filters=body.filters,
               route=body.route)  # fmt: skip
    created = int(time.time())
    if not body.stream:
        answer = await svc.answer(job, request)
        return {
            "id": f"chatcmpl-{answer.id}", "object": "chat.completion", "created": created,
            "model": body.model,
            "choices": [{"index": 0, "finish_reason": openai_finish_reason(answer.finish_reason),
                         "message": {"role": "assistant", "content": answer.text}}],
            "usage": _usage(answer), **_extras(answer),
        }  # fmt: skip
    events = await svc.stream(job, request)
    chunk_id = f"chatcmpl-{job.queued_at:.0f}-{id(job):x}"

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return _sse({"id": chunk_id, "object": "chat.completion.chunk", "created": created,
                     "model": body.model, **extra, "choices": [choice]})  # fmt: skip

    async def body_iter() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": ""})
        async for kind, value in events:
            if kind == "token":
                yield chunk({"content": value})
            elif kind == "answer":
                yield chunk({}, openai_finish_reason(value.finish_reason), usage=_usage(value),
                            **_extras(value))  # fmt: skip
            else:
                yield _sse(_error_data(value))
        yield b"data: [DONE]\n\n"

    return StreamingResponse(body_iter(), media_type="text/event-stream", headers=_SSE_HEADERS)


def _usage(answer: Answer) -> dict[str, int]:
    return {"prompt_tokens": answer.tokens_in, "completion_tokens": answer.tokens_out,
            "total_tokens": answer.tokens_in + answer.tokens_out}  # fmt: skip
