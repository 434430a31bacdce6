"""Reciprocal rank fusion weighted by each list's lead."""

from ragtune.retrieval.fusion import lead, lead_rrf, rrf


def _lists(standout: float) -> dict[str, list[tuple[int, float]]]:
    """bm25 ranks 1 first by ``standout`` over a crowd, then 2; dense ranks 2, 3, 1."""
    rest = [(10 + i, 5.0 - i * 0.1) for i in range(10)]
    dense = [(2, 0.62), (3, 0.61), (1, 0.60), *((10 + i, 0.59 - i * 0.01) for i in range(10))]
    return {"bm25": [(1, standout), (2, 5.1), *rest], "dense": dense}


def test_lead_measures_the_gap_in_standard_deviations() -> None:
    assert lead([(1, 30.0), (2, 5.0), (3, 4.0)]) > 1.0
    assert lead([(1, 5.0), (2, 4.9), (3, 4.8), (4, 4.7)]) < 1.0
    assert lead([(1, 2.0), (2, 2.0)]) == 0.0  # no spread
    assert lead([(1, 9.0)]) == lead([]) == 0.0


def test_a_standout_hit_keeps_first_place_that_plain_rrf_gives_away() -> None:
    lists = _lists(standout=30.0)
    assert rrf(lists)[0][0] == 2  # second in bm25, first in dense; 1 is first and third
    fused = lead_rrf(lists)
    assert fused[0][0] == 1 and fused[0][2] == {"bm25": 30.0, "dense": 0.60}


def test_without_a_standout_lead_rrf_orders_as_rrf() -> None:
    lists = _lists(standout=5.2)  # bm25's top barely above its second
    assert [r for r, _, _ in lead_rrf(lists)][:3] == [r for r, _, _ in rrf(lists)][:3]
    assert lead_rrf({}) == []
