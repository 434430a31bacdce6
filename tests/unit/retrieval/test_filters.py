import pytest

from ragtune.errors import UsageError
from ragtune.retrieval.filters import Condition, acl_where, compile_filter, parse_filter
from ragtune.retrieval.fusion import convex, rrf


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
