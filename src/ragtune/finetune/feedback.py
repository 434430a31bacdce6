"""Datasets from service feedback (``ragtune data build --from-feedback``).

Users rate the service's answers up or down (``POST /v1/feedback``). Approved answers
become training examples (kind ``feedback``: the question and the approved answer, with its
first cited passage as the source); rejected answers become evaluation cases in the test
split (``test_kind: "rejected"``): the question, the rejected answer and the comment, with
no gold answer, for checking that a new model stops giving that answer. When several keys
rated one answer, the majority wins and ties are left out. Example::

    card = build_from_feedback(project, name="feedback")
    card.counts  # {"train": ..., "validation": ..., "test": ...}
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ragtune.errors import UsageError
from ragtune.finetune.data import (
    _NAME,
    SPLITS,
    DatasetCard,
    _portion,
    _write,
    check_leakage,
    dataset_dir,
    filter_rows,
)
from ragtune.finetune.rows import TrainingRow, make_row
from ragtune.store.feedback import FeedbackRecord, list_feedback

if TYPE_CHECKING:
    from ragtune.project import Project


def verdicts(records: list[FeedbackRecord]) -> tuple[dict[str, FeedbackRecord], dict[str, str]]:
    """Per answer id: one representative record and its majority rating (ties dropped)."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    latest: dict[str, FeedbackRecord] = {}
    for r in records:
        votes[r.answer_id][r.rating] += 1
        latest[r.answer_id] = r
    rating = {a: "up" if v["up"] > v["down"] else "down"
              for a, v in votes.items() if v["up"] != v["down"]}  # fmt: skip
    return latest, rating


def _source(record: FeedbackRecord) -> dict[str, Any] | None:
    if not record.citations:
        return None
    c = record.citations[0]
    return {"doc_id": c["doc_id"], "chunk_id": c["chunk_id"], "start": c["start"], "end": c["end"]}


def _rows(
    project: Project, include_restricted: bool, warnings: list[str]
) -> tuple[list[TrainingRow], list[TrainingRow]]:
    latest, rating = verdicts(list_feedback(project.store))
    if len(rating) < len(latest):
        warnings.append(f"left out {len(latest) - len(rating)} answer(s) rated up and down "
                        "equally often")  # fmt: skip
    approved: list[TrainingRow] = []
    rejected: list[TrainingRow] = []
    restricted = 0
    for answer_id in sorted(rating):
        r = latest[answer_id]
        if r.restricted and not include_restricted:
            restricted += 1
            continue
        user = {"role": "user", "content": r.question}
        if rating[answer_id] == "up":
            messages = [user, {"role": "assistant", "content": r.answer}]
            approved.append(make_row("feedback", f"feedback-{answer_id}", messages=messages,
                                     source=_source(r)))  # fmt: skip
        else:
            row = make_row("feedback", f"feedback-{answer_id}", messages=[user], source=_source(r))
            extra = {"rejected_answer": r.answer, "comment": r.comment,
                     "strategy": r.strategy, "model": r.model}  # fmt: skip
            rejected.append(replace(row, test_kind="rejected", extra=extra))
    if restricted:
        warnings.append(f"skipped {restricted} answer(s) drawn from restricted documents; "
                        "--include-restricted uses them")  # fmt: skip
    return approved, rejected


def build_from_feedback(
    project: Project,
    *,
    name: str = "feedback",
    seed: int = 0,
    include_restricted: bool = False,
    force: bool = False,
) -> DatasetCard:
    """Write dataset ``name``: approved answers split 90/10 into train/validation, rejected
    ones as test cases. Answers that saw restricted documents are skipped unless
    ``include_restricted`` (a trained model can be made to repeat what it was trained on)."""
    if not _NAME.fullmatch(name):
        raise UsageError(f"bad dataset name {name!r}", "use letters, digits, '.', '_' or '-'")
    folder = dataset_dir(project, name)
    if folder.exists() and not force:
        raise UsageError(f"dataset {name!r} already exists ({folder})", "pass --force to rebuild")
    warnings: list[str] = []
    approved, rejected = _rows(project, include_restricted, warnings)
    approved, filters = filter_rows(approved)
    trained = {r.user_text.strip().lower() for r in approved}
    kept = [r for r in rejected if r.user_text.strip().lower() not in trained]
    if len(kept) < len(rejected):
        warnings.append(f"{len(rejected) - len(kept)} rejected question(s) also have an approved "
                        "answer; they stay out of test (they are trained on)")  # fmt: skip
    if not approved and not kept:
        raise UsageError("no usable feedback yet",
                         "rate answers in the web UI or with POST /v1/feedback")  # fmt: skip
    rng = random.Random(seed)
    rng.shuffle(approved)
    n_val = _portion(len(approved), 0.1)
    splits = {"train": approved[n_val:], "validation": approved[:n_val], "test": kept}
    splits = {s: sorted(splits[s], key=lambda r: r.id) for s in SPLITS}
    check_leakage(splits)
    card = _write(folder, splits, name=name, seed=seed, filters=filters, generator="feedback")
    card.warnings = warnings
    return card
