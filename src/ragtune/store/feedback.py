"""The answers the service gave, and users' feedback on them (up/down with a comment).

Every answer is recorded with the key that asked, so feedback can only be given on (and
exported for) answers the caller was allowed to see. ``ragtune data build --from-feedback``
reads them back (:mod:`ragtune.finetune.feedback`). Example::

    record_answer(store, answer, key_id="3f2a...")
    add_feedback(store, answer.id, key_id="3f2a...", rating="up", comment="exactly right")
    rows = list_feedback(store)               # everything (admin); key_id=... for one key
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ragtune.errors import NotFoundError, UsageError
from ragtune.store.base import Store
from ragtune.store.records import now_iso
from ragtune.types import Answer, Citation

RATINGS = ("up", "down")
MAX_COMMENT = 4000


@dataclass(frozen=True)
class FeedbackRecord:
    """One piece of feedback joined with the answer it is about."""

    id: int
    answer_id: str
    key_id: str | None
    rating: str
    comment: str
    created_at: str
    question: str
    answer: str
    strategy: str
    model: str
    adapter: str
    citations: list[dict[str, Any]]
    doc_ids: list[str]
    restricted: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_answer(store: Store, answer: Answer, key_id: str | None) -> None:
    """Keep an answer so feedback can refer to it by ``answer.id``. ``restricted`` notes
    whether any passage it was shown came from a document limited to groups."""
    doc_ids = sorted({c.chunk.doc_id for c in answer.contexts})
    restricted = any(c.metadata.get("groups") for c in answer.contexts)
    with store.transaction():
        store.execute(
            "INSERT INTO answers(id, key_id, question, text, strategy, model, adapter,"
            " citations, doc_ids, restricted, created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
            (answer.id, key_id, answer.question, answer.text, answer.strategy, answer.model,
             answer.adapter, json.dumps([c.to_dict() for c in answer.citations]),
             json.dumps(doc_ids), int(restricted), now_iso()),
        )  # fmt: skip


def answer_owner(store: Store, answer_id: str) -> str | None:
    """The key id that received an answer; :class:`NotFoundError` when there is none."""
    rows = store.query("SELECT key_id FROM answers WHERE id=?", (answer_id,))
    if not rows:
        raise NotFoundError(f"no answer with id {answer_id!r}")
    return None if rows[0][0] is None else str(rows[0][0])


def add_feedback(
    store: Store, answer_id: str, key_id: str | None, rating: str, comment: str = ""
) -> int:
    """Store (or replace) ``key_id``'s feedback on an answer; returns the feedback id."""
    if rating not in RATINGS:
        raise UsageError(f"rating must be 'up' or 'down', got {rating!r}")
    if len(comment) > MAX_COMMENT:
        raise UsageError(f"comment is {len(comment)} characters, over the {MAX_COMMENT} limit")
    answer_owner(store, answer_id)  # raises NotFoundError
    with store.transaction():
        store.execute(
            "INSERT INTO feedback(answer_id, key_id, rating, comment, created_at)"
            " VALUES(?,?,?,?,?) ON CONFLICT(answer_id, key_id) DO UPDATE SET"
            " rating=excluded.rating, comment=excluded.comment, created_at=excluded.created_at",
            (answer_id, key_id, rating, comment, now_iso()),
        )
        # "key_id IS ?" is SQLite's; COALESCE compares a missing key the same on both
        rows = store.query(
            "SELECT id FROM feedback WHERE answer_id=? AND COALESCE(key_id, '') ="
            " COALESCE(?, '') ORDER BY id DESC",
            (answer_id, key_id),
        )
    return int(rows[0][0])


def list_feedback(
    store: Store, key_id: str | None = None, rating: str | None = None
) -> list[FeedbackRecord]:
    """Feedback joined with its answers, oldest first; ``key_id`` keeps one key's own."""
    sql = (
        "SELECT f.id, f.answer_id, f.key_id, f.rating, f.comment, f.created_at, a.question,"
        " a.text, a.strategy, a.model, a.adapter, a.citations, a.doc_ids, a.restricted"
        " FROM feedback f JOIN answers a ON a.id = f.answer_id WHERE 1=1"
    )
    params: list[object] = []
    if key_id is not None:
        sql += " AND f.key_id = ? AND a.key_id = ?"
        params += [key_id, key_id]
    if rating is not None:
        sql += " AND f.rating = ?"
        params.append(rating)
    rows = store.query(sql + " ORDER BY f.id", params)
    return [
        FeedbackRecord(
            id=r[0],
            answer_id=r[1],
            key_id=r[2],
            rating=r[3],
            comment=r[4],
            created_at=r[5],
            question=r[6],
            answer=r[7],
            strategy=r[8],
            model=r[9],
            adapter=r[10],
            citations=json.loads(r[11]),
            doc_ids=json.loads(r[12]),
            restricted=bool(r[13]),
        )
        for r in rows
    ]


def citations_of(record: FeedbackRecord) -> list[Citation]:
    return [Citation.from_dict(c) for c in record.citations]
