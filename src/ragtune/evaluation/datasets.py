"""Evaluation sets: a JSONL file of questions, or the test split of ``ragtune data build``.

One line per question::

    {"id": "a001", "question": "How many days of annual leave?", "answer": "25 working days",
     "source_docs": ["hr/annual-leave.md"], "fact_id": "hr-leave-days",
     "unanswerable": false, "old_answer": "25 working days", "new_answer": "27 working days",
     "phrasings": ["What is the yearly holiday allowance?"]}

Only ``question`` is required, and ``answer`` unless ``unanswerable`` is true. ``source_docs``
are document ids (paths relative to the ingested folder). Lines sharing a ``fact_id`` are
phrasings of one fact (the first is the original, the rest alternatives for robustness);
``phrasings`` adds alternative wordings inline. ``old_answer``/``new_answer`` mark a fact
that a document update (``--update``) changes. Example::

    items = load_eval_file("examples/eval.jsonl")
    [i.id for i in items if i.changes]     # the changed-fact questions
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import UsageError
from ragtune.types import content_hash

if TYPE_CHECKING:
    from ragtune.finetune.rows import TrainingRow
    from ragtune.project import Project

FIELDS = (
    "id",
    "question",
    "answer",
    "source_docs",
    "fact_id",
    "unanswerable",
    "old_answer",
    "new_answer",
    "phrasings",
    "tags",
)
MAX_ERRORS_SHOWN = 5


@dataclass(frozen=True)
class EvalItem:
    """One evaluation question. ``phrasing`` is 0 for a fact's first wording, 1+ for the
    alternatives; ``answer`` is '' for an unanswerable question."""

    id: str
    question: str
    answer: str = ""
    source_docs: tuple[str, ...] = ()
    fact_id: str = ""
    unanswerable: bool = False
    old_answer: str | None = None
    new_answer: str | None = None
    phrasing: int = 0
    tags: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        """True when a document update changes this fact (old and new answers differ)."""
        return bool(self.old_answer and self.new_answer and self.old_answer != self.new_answer)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "source_docs": list(self.source_docs), "tags": list(self.tags)}


def _check_line(data: Any, errors: list[str]) -> None:
    if not isinstance(data, dict):
        errors.append(f"expected a JSON object, got {type(data).__name__}")
        return
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        errors.append(f"unknown field(s) {', '.join(unknown)} (valid: {', '.join(FIELDS)})")
    q = data.get("question")
    if not isinstance(q, str) or not q.strip():
        errors.append("'question' must be a non-empty string")
    unans = data.get("unanswerable", False)
    if not isinstance(unans, bool):
        errors.append(f"'unanswerable' must be true or false, got {unans!r}")
    answer = data.get("answer", "")
    if not isinstance(answer, str):
        errors.append(f"'answer' must be a string, got {type(answer).__name__}")
    elif not answer.strip() and unans is not True:
        errors.append("'answer' is missing or empty (set \"unanswerable\": true if there is none)")
    for key in ("source_docs", "phrasings", "tags"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            errors.append(f"'{key}' must be a list of non-empty strings")
    for key in ("id", "fact_id"):
        if key in data and not (isinstance(data[key], str) and data[key].strip()):
            errors.append(f"'{key}' must be a non-empty string")
    old, new = data.get("old_answer"), data.get("new_answer")
    if any(v is not None and not isinstance(v, str) for v in (old, new)):
        errors.append("'old_answer' and 'new_answer' must be strings or null")
    elif (old is None) != (new is None):
        errors.append("'old_answer' and 'new_answer' go together: give both or neither")


def parse_eval_lines(lines: Sequence[str], where: str = "<eval>") -> list[EvalItem]:
    """Validate and parse JSONL lines; every bad line is reported (``where:N: problem``)."""
    problems: list[str] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        errors: list[str] = []
        try:
            data = json.loads(line)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
            problems.append(f"{where}:{n}: not valid JSON ({exc})")
            continue
        if not _valid_unicode(data):
            problems.append(f"{where}:{n}: not valid Unicode (a lone surrogate such as \\ud800)")
            continue
        _check_line(data, errors)
        problems += [f"{where}:{n}: {e}" for e in errors]
        if not errors:
            rows.append((n, data))
    items = _items(rows, where, problems)
    if problems:
        shown = "; ".join(problems[:MAX_ERRORS_SHOWN])
        more = f" (and {len(problems) - MAX_ERRORS_SHOWN} more)" if len(problems) > 5 else ""
        hint = "fix those lines; see `ragtune compare --help` for the format"
        raise UsageError(f"invalid evaluation set: {shown}{more}", hint)
    if not items:
        raise UsageError(f"evaluation set {where} has no questions")
    return items


def _valid_unicode(data: Any) -> bool:
    """False when a string in ``data`` holds a lone surrogate ("\\ud800" is valid JSON):
    such text cannot be written as UTF-8, so every result and report would fail later."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _items(
    rows: list[tuple[int, dict[str, Any]]], where: str, problems: list[str]
) -> list[EvalItem]:
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    per_fact: dict[str, int] = {}
    for n, d in rows:
        item_id = d.get("id") or f"line-{n}"
        if item_id in seen:
            first = seen[item_id]
            problems.append(f"{where}:{n}: duplicate id {item_id!r} (first on line {first})")
            continue
        seen[item_id] = n
        fact = d.get("fact_id") or item_id
        unans = bool(d.get("unanswerable", False))
        base = EvalItem(
            id=item_id,
            question=d["question"].strip(),
            answer="" if unans else d.get("answer", "").strip(),
            source_docs=tuple(d.get("source_docs", [])),
            fact_id=fact,
            unanswerable=unans,
            old_answer=d.get("old_answer"),
            new_answer=d.get("new_answer"),
            tags=tuple(d.get("tags", [])),
        )
        for k, question in enumerate([base.question, *d.get("phrasings", [])]):
            phrasing = per_fact.get(fact, 0)
            per_fact[fact] = phrasing + 1
            item_k = f"{item_id}~p{k}" if k else item_id
            items.append(replace(base, id=item_k, question=question, phrasing=phrasing))
    return items


def load_eval_file(path: Path | str) -> list[EvalItem]:
    """Read and validate an evaluation JSONL file (see the module docstring)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read evaluation set {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"evaluation set {path} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start})",
            "re-save it as UTF-8",
        ) from None
    # JSON Lines ends lines with \n only: str.splitlines() would also split at U+2028, U+0085
    # or a form feed, which json.dumps(..., ensure_ascii=False) leaves inside strings.
    return parse_eval_lines(text.split("\n"), str(path))


def items_from_rows(rows: Sequence[TrainingRow]) -> list[EvalItem]:
    """EvalItems from ``ragtune data build`` rows (chat examples; raw text is skipped)."""
    items: list[EvalItem] = []
    per_fact: dict[str, int] = {}
    for row in rows:
        messages = row.messages or []
        users = [m["content"] for m in messages if m.get("role") == "user"]
        gold = [m["content"] for m in messages if m.get("role") == "assistant"]
        if not users or not gold:
            continue
        fact = row.fact_id or row.id
        phrasing = per_fact.get(fact, 0)
        per_fact[fact] = phrasing + 1
        kind = row.test_kind or row.kind
        items.append(
            EvalItem(
                id=row.id,
                question=users[-1],
                answer=gold[-1],
                source_docs=(row.doc_id,) if row.doc_id else (),
                fact_id=fact,
                phrasing=phrasing,
                tags=(str(kind),) if kind else (),
            )
        )
    return items


def load_test_split(project: Project, dataset: str = "default") -> list[EvalItem]:
    """The test split of a dataset built by ``ragtune data build``."""
    from ragtune.finetune.data import load_split

    items = items_from_rows(load_split(project, dataset, "test"))
    if not items:
        hint = "rebuild it with `ragtune data build --force`, or pass --eval FILE"
        raise UsageError(f"the test split of dataset {dataset!r} has no questions", hint)
    return items


def items_hash(items: Sequence[EvalItem]) -> str:
    """A stable hash of an evaluation set (part of a run's identity)."""
    return content_hash(json.dumps([i.to_dict() for i in items], sort_keys=True))[:16]
