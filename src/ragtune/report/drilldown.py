"""Per-question drill-down rows for the report: question, gold answer and every strategy's
answer with its citations, retrieved passages and scores, read from a run's store.

The evaluation items come from ``questions.json`` in the run folder (the pilot writes it
with :func:`save_items`) or from the items passed in (``ragtune advise --eval FILE``); with
neither, the question text stored with each answer is used and the gold is unknown.
Example::

    save_items(runner.folder, runner.items)
    rows = collect(results)            # [{"id", "question", "gold", "answers": {...}}, ...]

``results`` is a :class:`~ragtune.evaluation.results.Results`.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.evaluation.datasets import EvalItem
from ragtune.evaluation.pathologies import KINDS

if TYPE_CHECKING:
    from ragtune.evaluation.results import Results

QUESTIONS_FILE = "questions.json"
PASSAGE_CHARS = 600


def save_items(folder: Path, items: Sequence[EvalItem]) -> Path:
    path = Path(folder) / QUESTIONS_FILE
    path.write_text(json.dumps([i.to_dict() for i in items], indent=1, sort_keys=True))
    return path


def _items(folder: Path, items: Sequence[EvalItem] | None) -> dict[str, dict[str, Any]]:
    if items is not None:
        return {i.id: i.to_dict() for i in items}
    path = folder / QUESTIONS_FILE
    if path.is_file():
        return {row["id"]: row for row in json.loads(path.read_text(encoding="utf-8"))}
    return {}


def _records(folder: Path, phase: str = "main") -> dict[str, dict[str, Any]]:
    """{strategy: {item id: record}} straight from records.sqlite (read-only)."""
    db = folder / "records.sqlite"
    if not db.is_file():
        return {}
    out: dict[str, dict[str, Any]] = {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT strategy, item_id, data FROM answers WHERE phase = ?", (phase,)
        ).fetchall()
    for strategy, item_id, data in rows:
        out.setdefault(strategy, {})[item_id] = json.loads(data)
    return out


def _score(values: Sequence[Any], index: int | None) -> float | None:
    if index is None or not values or index >= len(values):
        return None
    v = values[index]
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def _answer(record: Mapping[str, Any]) -> dict[str, Any]:
    a = record["answer"]
    return {
        "text": a.get("text", ""),
        "abstained": bool(record.get("abstained")),
        "finish_reason": a.get("finish_reason", ""),
        "replaced": a.get("replaced", ""),  # the model's answer a fallback span took over
        "citations": [
            {k: c.get(k) for k in ("marker", "doc_id", "title", "section", "quote", "inferred")}
            for c in a.get("citations", [])
        ],
        "passages": [
            {
                "doc_id": c["chunk"].get("doc_id", ""),
                "title": c.get("title", ""),
                "score": c.get("score"),
                "text": c["chunk"].get("text", "")[:PASSAGE_CHARS],
            }
            for c in a.get("contexts", [])
        ],
    }


def collect(results: Results, items: Sequence[EvalItem] | None = None) -> list[dict[str, Any]]:
    """One row per question of the run, in evaluation order."""
    folder = Path(results.run.folder)
    known = _items(folder, items)
    records = _records(folder)
    labels = results.labels
    ids: list[str] = results.scores(labels[0], "ids") if labels else []
    f1 = {s: results.scores(s, "f1") for s in labels}
    contains = {s: results.scores(s, "contains") for s in labels}
    kinds = {s: {k: results.scores(s, k) for k in KINDS} for s in labels}
    rows = []
    for index, qid in enumerate(ids):
        item = known.get(qid, {})
        answers = {}
        for label in labels:
            record = records.get(label, {}).get(qid)
            if record is None:
                continue
            answers[label] = {
                **_answer(record),
                "f1": _score(f1[label], index),
                "contains": _score(contains[label], index),
                "pathologies": [k for k in KINDS if _score(kinds[label][k], index) == 1.0],
            }
        question = item.get("question") or next(
            (a["answer"]["question"] for a in (records.get(s, {}).get(qid) for s in labels) if a),
            qid,
        )
        rows.append(
            {
                "id": qid,
                "question": question,
                "gold": item.get("answer"),
                "unanswerable": bool(item.get("unanswerable")),
                "changes": bool(
                    item.get("old_answer")
                    and item.get("new_answer")
                    and item.get("old_answer") != item.get("new_answer")
                ),
                "new_answer": item.get("new_answer"),
                "source_docs": item.get("source_docs", []),
                "answers": answers,
                "pathology": any(a["pathologies"] for a in answers.values()),
            }
        )
    return rows
