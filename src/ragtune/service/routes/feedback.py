"""``POST /v1/feedback`` and ``GET /v1/feedback`` (export)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request

from ragtune.errors import NotFoundError
from ragtune.service.auth import caller, runtime
from ragtune.service.deps import Caller, Runtime
from ragtune.service.schemas import FeedbackRequest
from ragtune.store.feedback import add_feedback, answer_owner, list_feedback

router = APIRouter()


@router.post("/v1/feedback", status_code=201)
async def give_feedback(
    body: FeedbackRequest,
    request: Request,
    who: Caller = Depends(caller),
    rt: Runtime = Depends(runtime),
) -> dict[str, Any]:
    """Rate an answer this key received: ``{"answer_id", "rating": "up"|"down", "comment"}``.
    Giving feedback again on the same answer replaces it."""

    def work() -> int:
        store = rt.local().store
        if answer_owner(store, body.answer_id) != who.key_id and not who.admin:
            raise NotFoundError(f"no answer with id {body.answer_id!r}")  # not yours: unknown
        return add_feedback(store, body.answer_id, who.key_id, body.rating, body.comment)

    feedback_id = await rt.run(rt.write, work)
    request.app.state.metrics.feedback.labels(body.rating).inc()
    return {"id": feedback_id, "answer_id": body.answer_id, "rating": body.rating}


@router.get("/v1/feedback")
async def export_feedback(
    rating: Literal["up", "down"] | None = None,
    who: Caller = Depends(caller),
    rt: Runtime = Depends(runtime),
) -> dict[str, Any]:
    """Feedback with the question and answer it is about: everything for an admin key, the
    key's own otherwise. ``?rating=up`` or ``down`` narrows it."""
    key_id = None if who.admin else who.key_id
    rows = await rt.run(rt.read, lambda: list_feedback(rt.local().store, key_id, rating))
    return {"object": "list", "data": [r.to_dict() for r in rows]}
