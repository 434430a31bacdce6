"""Property tests for the evaluation-JSONL reader: any file either loads or raises
UsageError naming the line; valid records survive a write/read round trip."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragtune.errors import UsageError
from ragtune.evaluation.datasets import FIELDS, items_hash, load_eval_file, parse_eval_lines

FAST = settings(max_examples=150, deadline=None, database=None)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12,
)  # fmt: skip
# Records made of the real field names with values of any JSON type: they reach the
# validation of every field, which random objects rarely would.
RECORDS = st.dictionaries(st.sampled_from([*FIELDS, "extra"]), JSON | st.text(min_size=1),
                          max_size=len(FIELDS))  # fmt: skip


def _check(load: Any, *args: Any) -> None:
    try:
        items = load(*args)
    except UsageError as exc:
        assert str(exc)
        return
    assert items
    items_hash(items)  # every item can be hashed (and so stored and reported as UTF-8)


@FAST
@given(st.lists(st.text(max_size=60), max_size=6))
def test_any_lines_load_or_raise_usage_error(lines: list[str]) -> None:
    _check(parse_eval_lines, lines)


@FAST
@given(st.lists(RECORDS | JSON, min_size=1, max_size=5))
def test_any_json_values_load_or_raise_usage_error(values: list[Any]) -> None:
    _check(parse_eval_lines, [json.dumps(v) for v in values])


@FAST
@given(st.binary(max_size=300))
def test_any_file_bytes_load_or_raise_usage_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "eval.jsonl"
        path.write_bytes(data)
        _check(load_eval_file, path)


TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30).filter(str.strip)


@FAST
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=4))
def test_valid_records_round_trip_through_a_file(pairs: list[tuple[str, str]]) -> None:
    """Written as JSON Lines usually are (UTF-8, not ASCII-escaped): text with U+2028,
    U+0085 or a form feed inside a string is still one line."""
    rows = [{"id": f"q{i}", "question": q, "answer": a} for i, (q, a) in enumerate(pairs)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "eval.jsonl"
        lines = [json.dumps(r, ensure_ascii=False) for r in rows]
        path.write_text("\r\n".join(lines) + "\n", encoding="utf-8")
        items = load_eval_file(path)
    assert [(i.question, i.answer) for i in items] == [(q.strip(), a.strip()) for q, a in pairs]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("[" * 10_000 + "]" * 10_000, "not valid JSON"),  # deeper than the stack allows
        ('{"question": "\\ud800?", "answer": "a"}', "not valid Unicode"),  # lone surrogate
        ('{"question": "q", "answer": "a", "tags": ["\\udfff"]}', "not valid Unicode"),
        ('{"question": "q", "answer": 1e999}', "'answer' must be a string"),
    ],
)
def test_malformed_lines_name_the_line(line: str, problem: str) -> None:
    with pytest.raises(UsageError, match=f"<eval>:1: {problem}"):
        parse_eval_lines([line])


def test_a_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_bytes(b'{"question": "caf\xe9?", "answer": "a"}\n')
    with pytest.raises(UsageError, match="not valid UTF-8"):
        load_eval_file(path)
