"""Fusion of ranked lists. Both return (rowid, fused score, per-mode scores), best first."""

from __future__ import annotations

Ranked = list[tuple[int, float]]
Fused = list[tuple[int, float, dict[str, float]]]


def _per_mode(lists: dict[str, Ranked]) -> dict[int, dict[str, float]]:
    scores: dict[int, dict[str, float]] = {}
    for mode, ranked in lists.items():
        for rowid, score in ranked:
            scores.setdefault(rowid, {})[mode] = score
    return scores


def rrf(lists: dict[str, Ranked], k: int = 60, weights: dict[str, float] | None = None) -> Fused:
    """Reciprocal rank fusion: sum over lists of weight / (k + rank), rank from 1 (weight 1
    unless ``weights`` names the list)."""
    fused: dict[int, float] = {}
    for mode, ranked in lists.items():
        weight = 1.0 if weights is None else weights.get(mode, 1.0)
        for rank, (rowid, _) in enumerate(ranked, start=1):
            fused[rowid] = fused.get(rowid, 0.0) + weight / (k + rank)
    per_mode = _per_mode(lists)
    order = sorted(fused, key=lambda r: (-fused[r], r))
    return [(r, fused[r], per_mode[r]) for r in order]


def _mean_sd(ranked: Ranked) -> tuple[float, float]:
    """Mean and population standard deviation of a non-empty list's scores."""
    values = [s for _, s in ranked]
    mean = sum(values) / len(values)
    return mean, (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5


def lead(ranked: Ranked) -> float:
    """How far a list's first score stands above its second, in standard deviations of the
    list's scores: large when one hit matches the query far better than everything else
    (a FAQ heading that repeats the question's words), near 0 when the top is a crowd."""
    if len(ranked) < 2:
        return 0.0
    _, sd = _mean_sd(ranked)
    return (ranked[0][1] - ranked[1][1]) / sd if sd > 0 else 0.0


def lead_rrf(lists: dict[str, Ranked], k: int = 60) -> Fused:
    """RRF with each list weighted by 1 + its :func:`lead`: per query, the retriever whose
    best hit stands out counts for more. Plain RRF trusts both lists equally, so on FAQ
    questions a keyword hit that matched the heading word for word lost first place to
    chunks both lists ranked second or third, and on reference questions BM25's crowd of
    near-ties diluted the dense list (bench/fusion_faq.py)."""
    return rrf(lists, k, {mode: 1.0 + lead(ranked) for mode, ranked in lists.items()})


def _minmax(ranked: Ranked) -> dict[int, float]:
    if not ranked:
        return {}
    values = [s for _, s in ranked]
    low, high = min(values), max(values)
    span = high - low
    return {r: (s - low) / span if span > 0 else 1.0 for r, s in ranked}


def convex(lists: dict[str, Ranked], weights: dict[str, float]) -> Fused:
    """Weighted sum of min-max normalised scores; a hit missing from a list scores 0 there."""
    unknown = set(lists) - set(weights)
    if unknown:
        raise ValueError(f"no weight for {sorted(unknown)}")
    normed = {mode: _minmax(ranked) for mode, ranked in lists.items()}
    fused: dict[int, float] = {}
    for mode, scores in normed.items():
        for rowid, score in scores.items():
            fused[rowid] = fused.get(rowid, 0.0) + weights[mode] * score
    per_mode = _per_mode(lists)
    order = sorted(fused, key=lambda r: (-fused[r], r))
    return [(r, fused[r], per_mode[r]) for r in order]


def _spread(ranked: Ranked) -> dict[int, float]:
    """Scores mapped so that mean - 3 sd -> 0 and mean + 3 sd -> 1, clipped to [0, 1]."""
    if not ranked:
        return {}
    mean, sd = _mean_sd(ranked)
    if sd == 0:
        return {r: 1.0 for r, _ in ranked}
    low, high = mean - 3 * sd, mean + 3 * sd
    return {r: min(1.0, max(0.0, (s - low) / (high - low))) for r, s in ranked}


def dbsf(lists: dict[str, Ranked]) -> Fused:
    """Distribution-based score fusion (as in Qdrant): each list's scores normalised by its
    own mean and spread (mean +/- 3 sd), then summed. Unlike min-max, a score that stands
    far above the rest of its list (a keyword match on the question's own words) keeps its
    lead; unlike RRF, two lists' near-ties stay near-ties."""
    fused: dict[int, float] = {}
    for ranked in lists.values():
        for rowid, score in _spread(ranked).items():
            fused[rowid] = fused.get(rowid, 0.0) + score
    per_mode = _per_mode(lists)
    order = sorted(fused, key=lambda r: (-fused[r], r))
    return [(r, fused[r], per_mode[r]) for r in order]
