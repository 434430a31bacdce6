"""Examples from outside the offline rules: your JSONL files, and QA pairs a model writes.

Files hold one example per line, in any of::

    {"question": "...", "answer": "..."}
    {"instruction": "...", "input": "...", "output": "..."}     # input may be empty
    {"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}

Each line may also carry ``"fact_id"``: lines sharing one are phrasings of the same fact.
Every bad line is reported as ``FILE:LINE: what is wrong``. Example::

    records, errors = read_examples(Path("mine.jsonl"), skip_invalid=True)

A model (``ragtune data build --backend ...``) is asked for facts of each chunk in a strict
``Q:``/``A:`` format (:func:`qa_prompt`, :func:`parse_qa_reply`). Every generated pair, from
the model or the offline rules, must then pass :func:`supported` and :func:`copies_source`,
and every question :func:`ragtune.finetune.qa_check.question_problems` (in ``qa_pairs``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import NotFoundError, UsageError
from ragtune.finetune.qa_check import file_tokens
from ragtune.finetune.qa_context import document_topic
from ragtune.finetune.qa_offline import Fact
from ragtune.finetune.rows import TrainingRow, make_row
from ragtune.text.sentences import CODE, clean, units
from ragtune.text.stopwords import QA as QA_STOPWORDS
from ragtune.text.support import TRAINING_MIN_SHARE, holds
from ragtune.text.words import normalise
from ragtune.text.words import words as lower_words
from ragtune.types import Chunk, Document, content_hash

if TYPE_CHECKING:
    from ragtune.generate.base import Generator

Progress = Callable[[int, int], None]  # (done, total)

ROLES = ("system", "user", "assistant")
MAX_LISTED = 20


@dataclass(frozen=True)
class ImportedExample:
    """One valid line: chat messages (ending with the assistant) and an optional fact id."""

    messages: tuple[dict[str, str], ...]
    fact_id: str
    line: int


class _Invalid(Exception):
    """One line's problem; becomes ``FILE:LINE: message``."""


def read_rows(path: Path, kind: str, skip_invalid: bool, warnings: list[str]) -> list[TrainingRow]:
    """Dataset rows of kind ``kind`` from ``path``; skipped lines are added to ``warnings``."""
    examples, errors = read_examples(path, skip_invalid=skip_invalid)
    warnings += [f"skipped {e}" for e in errors]
    rows = []
    for ex in examples:
        messages = [dict(m) for m in ex.messages]
        fact_id = ex.fact_id or f"{kind}-{content_hash(json.dumps(messages, sort_keys=True))[:12]}"
        rows.append(make_row(kind, fact_id, messages=messages))
    return rows


def read_examples(
    path: Path, *, skip_invalid: bool = False
) -> tuple[list[ImportedExample], list[str]]:
    """Valid examples of ``path`` and the errors of the lines skipped.

    Raises :class:`UsageError` listing every error (the first 20 and a count) when a line is
    invalid and ``skip_invalid`` is False, and when the file holds no example at all.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"import file not found: {path}", "check the path")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", "save it as UTF-8 JSONL") from None
    examples, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            examples.append(_parse_line(line, number))
        except _Invalid as exc:
            errors.append(f"{path}:{number}: {exc}")
    if errors and not skip_invalid:
        raise UsageError(_summary(path, errors), "fix the lines, or pass --skip-invalid")
    if not examples:
        detail = "it is empty" if not errors else "no line is valid"
        raise UsageError(
            f"{path} holds no training examples: {detail}",
            "write one JSON object per line: {question, answer}, {instruction, input, output} "
            "or {messages: [...]}",
        )
    return examples, errors


def _summary(path: Path, errors: list[str]) -> str:
    shown = "; ".join(errors[:MAX_LISTED])
    more = f"; ... and {len(errors) - MAX_LISTED} more" if len(errors) > MAX_LISTED else ""
    return f"{len(errors)} invalid line(s) in {path}: {shown}{more}"


def _parse_line(line: str, number: int) -> ImportedExample:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _Invalid(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(data, dict):
        raise _Invalid(f"expected a JSON object, got {type(data).__name__}")
    fact_id = data.get("fact_id", "")
    if not isinstance(fact_id, str):
        raise _Invalid(f"field 'fact_id' must be a string, got {type(fact_id).__name__}")
    if "messages" in data:
        messages = _messages(data["messages"])
    elif "question" in data or "answer" in data:
        messages = _chat(_text(data, "question"), _text(data, "answer"))
    elif "instruction" in data or "output" in data:
        extra = _text(data, "input", required=False)
        prompt = _text(data, "instruction") + (f"\n\n{extra}" if extra.strip() else "")
        messages = _chat(prompt, _text(data, "output"))
    else:
        keys = ", ".join(sorted(data)) or "none"
        raise _Invalid(
            f"unknown schema (keys: {keys}); expected {{question, answer}}, "
            "{instruction, input, output} or {messages}"
        )
    return ImportedExample(messages, fact_id, number)


def _text(data: dict[str, Any], key: str, required: bool = True) -> str:
    if key not in data:
        if required:
            raise _Invalid(f"field '{key}' is missing")
        return ""
    value = data[key]
    if not isinstance(value, str):
        raise _Invalid(f"field '{key}' must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise _Invalid(f"field '{key}' is empty")
    return value


def _chat(user: str, assistant: str) -> tuple[dict[str, str], ...]:
    return ({"role": "user", "content": user}, {"role": "assistant", "content": assistant})


def _messages(value: Any) -> tuple[dict[str, str], ...]:
    if not isinstance(value, list) or not value:
        raise _Invalid("field 'messages' must be a non-empty list")
    out = []
    for i, message in enumerate(value):
        if not isinstance(message, dict):
            raise _Invalid(f"messages[{i}] must be an object, got {type(message).__name__}")
        role = message.get("role")
        if role not in ROLES:
            raise _Invalid(f"messages[{i}]: unknown role {role!r} (use system, user or assistant)")
        if role == "system" and i > 0:
            raise _Invalid(f"messages[{i}]: a system message may only come first")
        try:
            out.append({"role": role, "content": _text(message, "content")})
        except _Invalid as exc:
            raise _Invalid(f"messages[{i}]: {exc}") from None
    if out[-1]["role"] != "assistant":
        raise _Invalid(f"the last message must be from the assistant, got {out[-1]['role']!r}")
    if not any(m["role"] == "user" for m in out):
        raise _Invalid("field 'messages' has no user message")
    return tuple(out)


# -- question/answer pairs written by a model --------------------------------------------
QA_SYSTEM = "You write question-answer pairs that train a company assistant on its documents."
QA_RULES = (
    "Every question must make sense on its own, to someone who has not seen the passage: name "
    "what it is about, and never write 'the passage', 'the text', 'this function', 'it' or 'the "
    "first argument' without naming what they belong to. Never mention file names, chapter or "
    "section numbers, or markup."
)


def qa_prompt(title: str, chunk: Chunk, phrasings: int) -> list[dict[str, str]]:
    """The prompt asking a model for facts of one chunk in the strict ``Q:``/``A:`` format.
    ``title`` is the document's topic ('' when it has none but a file name); the passage is
    shown as plain prose (markup removed, code left out), so the model does not copy markup."""
    source = f'Passage from "{title}"' if title else "Passage from the documents"
    task = (
        f"{source}:\n{passage_text(chunk.text)}\n\nWrite up to 3 facts stated in the passage. "
        f"For each fact write {phrasings} different questions a user would ask, one per line "
        "starting with 'Q:', then one line starting with 'A:' with the answer in the passage's "
        f"own words. {QA_RULES} Leave a blank line between facts. Write nothing else."
    )
    return [{"role": "system", "content": QA_SYSTEM}, {"role": "user", "content": task}]


def passage_text(text: str) -> str:
    """``text`` as plain prose, one heading or sentence a line; code and table lines left out."""
    return "\n".join(clean(u.text) for u in units(text) if u.kind != CODE)


def parse_qa_reply(text: str) -> list[tuple[list[str], str]]:
    """``Q:`` lines followed by an ``A:`` line -> (questions, answer); anything else ignored."""
    pairs: list[tuple[list[str], str]] = []
    questions: list[str] = []
    for line in text.splitlines():
        m = re.match(r"\s*(?:\d+[.)]\s*)?([QA])\d*\s*[:.)-]\s*(\S.*)$", line, re.IGNORECASE)
        if m is None:
            continue
        if m.group(1).upper() == "Q":
            questions.append(m.group(2).strip())
        elif questions:
            pairs.append((questions, m.group(2).strip()))
            questions = []
    return pairs


def model_facts(
    generator: Generator,
    docs: Sequence[Document],
    chunks: Mapping[str, Sequence[Chunk]],
    phrasings: int,
    progress: Progress | None = None,
    batch_size: int = 8,
) -> list[Fact]:
    """Facts a model wrote for every chunk; each answer is checked later against its chunk."""
    from ragtune.generate.base import GenerationOptions

    topics = {d.id: document_topic(d, file_tokens(d.id, d.title, d.text)) for d in docs}
    jobs = [(d, c) for d in docs for c in chunks[d.id] if passage_text(c.text).strip()]
    options = GenerationOptions(max_new_tokens=384, stop=("\n\n\n",))
    facts = []
    for i in range(0, len(jobs), batch_size):
        batch = jobs[i : i + batch_size]
        prompts = [qa_prompt(topics[d.id], c, phrasings) for d, c in batch]
        replies = generator.generate(prompts, options)
        for (_, chunk), reply in zip(batch, replies, strict=True):
            for questions, answer in parse_qa_reply(reply.text):
                facts.append(Fact(chunk.doc_id, chunk.id, chunk.start, chunk.end, answer,
                                  tuple(dict.fromkeys(questions)), "model"))  # fmt: skip
        if progress is not None:
            progress(min(i + batch_size, len(jobs)), len(jobs))
    return facts


# -- checks every generated pair passes --------------------------------------------------
def tokens(text: str) -> list[str]:
    """Lower-cased words with a plural ``s`` dropped, for support and overlap checks."""
    words = lower_words(text)
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words]


def supported(answer: str, source: str, min_share: float = TRAINING_MIN_SHARE) -> bool:
    """Every number of ``answer`` and most of its content words occur in ``source``."""
    have = set(tokens(source))
    words = [w for w in tokens(answer) if w not in QA_STOPWORDS]
    if any(w not in have for w in words if any(c.isdigit() for c in w)):
        return False
    return holds(words, have, min_share)


def copies_source(question: str, answer: str, source: str) -> bool:
    """The question is a verbatim piece of the text, or contains the whole answer."""
    q = _spaced_words(question)
    return not q.strip() or q in _spaced_words(source) or _spaced_words(answer) in q


def _spaced_words(text: str) -> str:
    return " " + normalise(text) + " "


def passing_questions(questions: Sequence[str], answer: str, source: str) -> list[str]:
    """The questions that may go with ``answer``: none unless ``source`` supports it, and
    never one that copies the text."""
    if not supported(answer, source):
        return []
    return [q for q in questions if not copies_source(q, answer, source)]
