"""Property tests for the filter-expression parser: any text either compiles to SQL that
SQLite runs, or raises UsageError with the syntax help. Never another exception."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ragtune.errors import UsageError
from ragtune.retrieval.filters import MAX_CLAUSES, acl_where, compile_filter, parse_filter
from ragtune.store.sqlite import SQLiteStore
from ragtune.types import Chunk, Document

KNOWN = ["dept", "owner", "effective_date", "n"]
FIELDS = [*KNOWN, "id", "title", "format", "version", "nope", "a.b-c"]
OPS = ["=", "==", "!=", ">=", "<=", ">", "<", "in", "not in", "IN", "~"]
FAST = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip

# Values that have broken parsers and SQL before: quotes, brackets, 'and' inside a value,
# numbers SQLite or float() treat specially, NUL, lone surrogates, very long text.
VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["'hr'", '"a b"', "(x)", "a and b", "1e999", "nan", "-0", "1_000",
                     "9" * 400, "2025-06-01", "\x00", "\ud800", "x" * 5000, "%", "'"]),
)  # fmt: skip


@st.composite
def clauses(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(FIELDS))
    op = draw(st.sampled_from(OPS))
    if op.lower().endswith("in"):
        values = draw(st.lists(VALUES, max_size=6))
        return f"{field} {op} ({', '.join(values)})"
    if draw(st.booleans()):
        return f"{draw(st.sampled_from(['', 'not ']))}exists({field})"
    return f"{field} {op} {draw(VALUES)}"


EXPRESSIONS = st.one_of(
    st.text(max_size=200),  # anything at all
    st.lists(clauses(), min_size=1, max_size=8).map(" and ".join),  # near-valid grammar
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStore]:
    """A store with two documents, so compiled SQL runs against the real schema."""
    store = SQLiteStore(tmp_path_factory.mktemp("filters") / "store.db")
    for i, meta in enumerate([{"dept": "hr", "n": 3}, {"owner": "ann", "effective_date": "x"}]):
        doc = Document(id=f"d{i}.md", title="T", text="text", content_hash=f"h{i}",
                       source_path="", format="md", metadata=meta, groups=())  # fmt: skip
        chunk = Chunk(id=f"c{i}", doc_id=doc.id, text="text", start=0, end=4, ordinal=0)
        store.upsert_document(doc, f"f{i}", [chunk], np.zeros((1, 4), dtype=np.float32))
    yield store
    store.close()


def _run(store: SQLiteStore, expressions: list[str]) -> None:
    try:
        where = compile_filter(parse_filter(expressions), KNOWN)
    except UsageError as exc:
        assert str(exc)  # a message the CLI prints and the service returns
        return
    if where is not None:
        where = where.and_(acl_where(["hr"]))
        store.conn.execute(f"SELECT d.id FROM documents d WHERE {where.sql}", where.params)


@FAST
@given(st.lists(EXPRESSIONS, min_size=1, max_size=4))
def test_any_expression_compiles_to_runnable_sql_or_is_a_usage_error(
    store: SQLiteStore, expressions: list[str]
) -> None:
    _run(store, expressions)


@pytest.mark.parametrize(
    "expression",
    [
        "dept = " + "x" * 100_000,  # one 100 kB value
        " and ".join(["dept = hr"] * 10_000),  # 100 kB of clauses
        "dept in (" + ",".join(["v"] * 40_000) + ")",  # more values than SQLite variables
        "(" * 50_000 + "dept = hr",
        "dept = \ud800",  # a lone surrogate (argv decoded with surrogateescape)
        "owner \ud800= a",
    ],
)
def test_huge_and_invalid_expressions_are_usage_errors(store: SQLiteStore, expression: str) -> None:
    _run(store, [expression])


def test_clause_limit_is_still_enforced() -> None:
    with pytest.raises(UsageError, match="over the limit"):
        parse_filter(" and ".join(["dept = hr"] * (MAX_CLAUSES + 1)))
