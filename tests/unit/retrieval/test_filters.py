from pathlib import Path

import pytest
from tests.conftest import write

from ragtune.errors import UsageError
from ragtune.project import Project
from ragtune.retrieval.filters import (
    MAX_CLAUSES,
    Condition,
    acl_where,
    compile_filter,
    parse_filter,
)
from ragtune.retrieval.fusion import convex, dbsf, rrf


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("department = hr", [Condition("department", "=", ("hr",))]),
        ("department == 'hr'", [Condition("department", "=", ("hr",))]),
        ("doc_type != faq", [Condition("doc_type", "!=", ("faq",))]),
        ("department in (hr, finance)", [Condition("department", "in", ("hr", "finance"))]),
        ("format not in [pdf]", [Condition("format", "not in", ("pdf",))]),
        ("effective_date >= 2025-06-01", [Condition("effective_date", ">=", ("2025-06-01",))]),
        ("exists(owner)", [Condition("owner", "exists")]),
        ("not exists( owner )", [Condition("owner", "not exists")]),
        ("a = 1 AND b < 2", [Condition("a", "=", ("1",)), Condition("b", "<", ("2",))]),
    ],
)
def test_parse(expr: str, expected: list[Condition]) -> None:
    assert parse_filter(expr) == expected


@pytest.mark.parametrize("expr", ["department ~ hr", "department =", "in (a)", "x in ()", "  "])
def test_malformed(expr: str) -> None:
    with pytest.raises(UsageError, match="FIELD = V"):
        parse_filter(expr)


def test_unknown_field_lists_known() -> None:
    with pytest.raises(UsageError, match="known fields: department, format, id"):
        compile_filter(parse_filter("dept = hr"), ["department"])


def test_acl_where() -> None:
    assert acl_where(None) is None
    assert acl_where([]).params == []  # type: ignore[union-attr]
    assert acl_where(["hr", "eng", "hr"]).params == ["eng", "hr"]  # type: ignore[union-attr]


def test_rrf_and_convex() -> None:
    lists = {"bm25": [(1, 9.0), (2, 8.0), (4, 1.0)], "dense": [(2, 0.9), (3, 0.8)]}
    assert next(r for r, _, _ in rrf(lists)) == 2  # in both lists
    fused = convex(lists, {"bm25": 0.5, "dense": 0.5})
    assert fused[0][0] == 2 and fused[0][2] == {"bm25": 8.0, "dense": 0.9}
    assert [r for r, _, _ in convex(lists, {"bm25": 1.0, "dense": 0.0})][:2] == [1, 2]
    with pytest.raises(ValueError):
        convex(lists, {"bm25": 1.0})


def test_dbsf_keeps_a_standout_score_ahead() -> None:
    """One keyword hit far above the rest of its list beats a chunk that is second in
    both lists (RRF puts the latter first); a flat list barely moves the order."""
    rest = [(10 + i, 5.0 - i * 0.1) for i in range(10)]
    dense = [(2, 0.62), (1, 0.60), *((10 + i, 0.59 - i * 0.01) for i in range(10))]
    lists = {"bm25": [(1, 30.0), (2, 5.1), *rest], "dense": dense}
    assert next(r for r, _, _ in dbsf(lists)) == 1
    fused = dbsf({"bm25": [(7, 2.0), (8, 2.0)], "dense": []})  # no spread: all equal
    assert [r for r, s, _ in fused] == [7, 8] and fused[0][1] == fused[1][1] == 1.0
    assert all(0.0 <= s <= 2.0 for _, s, _ in dbsf(lists))
    assert dbsf({}) == []


def test_clause_limit_is_a_usage_error_and_the_limit_runs_in_sqlite(
    hash_project: Project, tmp_path: Path
) -> None:
    """Each clause used to nest one level deeper in SQL: ~80 clauses overflowed SQLite's
    parser stack (OperationalError). Now the SQL is one flat AND chain and the parser caps
    the clauses with a clear UsageError, through the Python API as through the service."""
    write(tmp_path / "docs" / "a.md", "---\nteam: hr\n---\n# Leave\n\nVacation days are 25.\n")
    hash_project.ingest([tmp_path / "docs"])
    at_limit = " and ".join(["team = hr"] * MAX_CLAUSES)
    assert [h.chunk.doc_id for h in hash_project.search("vacation", filters=at_limit)] == ["a.md"]
    for clauses in ([at_limit, "id != x"], [" and ".join(["id!=x"] * 200)]):
        with pytest.raises(UsageError, match=f"over the limit of {MAX_CLAUSES}"):
            hash_project.search("vacation", filters=clauses)
