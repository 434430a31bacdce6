from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES

from ragtune.errors import UsageError
from ragtune.evaluation.datasets import items_from_rows, load_eval_file, parse_eval_lines
from ragtune.finetune.rows import TrainingRow


def test_sample_eval_set_loads() -> None:
    items = load_eval_file(EXAMPLES / "eval.jsonl")
    assert len(items) == 85
    assert sum(i.unanswerable for i in items) == 10
    assert sum(i.changes for i in items) == 20
    leave = [i for i in items if i.fact_id == "hr-leave-days"]
    assert [i.phrasing for i in leave] == [0, 1]
    assert all(i.answer == "" for i in items if i.unanswerable)


def _line(**kw: object) -> str:
    return json.dumps(kw)


def test_each_bad_line_is_reported_with_its_number() -> None:
    lines = [
        _line(question="ok?", answer="yes"),
        "{not json",
        _line(question="", answer="x"),
        _line(question="q?", answer=""),
        _line(question="q?", answer="a", unanswerble=True),
        _line(question="q?", answer="a", old_answer="x"),
        _line(question="q?", answer="a", source_docs="hr/a.md"),
    ]
    with pytest.raises(UsageError) as err:
        parse_eval_lines(lines, "e.jsonl")
    msg = str(err.value)
    for n, text in [
        (2, "not valid JSON"),
        (3, "'question'"),
        (4, "'answer' is missing"),
        (5, "unknown field(s) unanswerble"),
    ]:
        assert f"e.jsonl:{n}: {text}" in msg
    assert "and 1 more" in msg


def test_duplicate_ids_and_empty_file() -> None:
    with pytest.raises(UsageError, match="duplicate id 'x'"):
        parse_eval_lines([_line(id="x", question="a?", answer="b")] * 2)
    with pytest.raises(UsageError, match="no questions"):
        parse_eval_lines(["", "  "])


def test_phrasings_expand_and_unanswerable(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(
        _line(id="q1", question="A?", answer="a", phrasings=["Alt A?"])
        + "\n"
        + _line(question="Z?", unanswerable=True)
        + "\n"
    )
    items = load_eval_file(path)
    assert [(i.id, i.phrasing, i.fact_id) for i in items] == [
        ("q1", 0, "q1"),
        ("q1~p1", 1, "q1"),
        ("line-2", 0, "line-2"),
    ]
    assert items[2].unanswerable and items[2].answer == ""
    with pytest.raises(UsageError, match="cannot read"):
        load_eval_file(tmp_path / "missing.jsonl")


def test_items_from_data_build_rows() -> None:
    rows = [
        {
            "id": "qa-1",
            "kind": "qa",
            "fact_id": "f1",
            "test_kind": "paraphrase",
            "messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A"}],
            "source": {"doc_id": "hr/a.md", "chunk_id": "c", "start": 0, "end": 1},
        },
        {"id": "raw-1", "kind": "raw", "text": "t", "fact_id": "r", "source": None},
    ]
    [item] = items_from_rows([TrainingRow.from_dict(r) for r in rows])
    assert (item.question, item.answer, item.source_docs) == ("Q?", "A", ("hr/a.md",))
    assert item.tags == ("paraphrase",)
