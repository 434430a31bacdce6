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


def rrf(lists: dict[str, Ranked], k: int = 60) -> Fused:
    """Reciprocal rank fusion: sum over lists of 1 / (k + rank), rank from 1."""
    fused: dict[int, float] = {}
    for ranked in lists.values():
        for rank, (rowid, _) in enumerate(ranked, start=1):
            fused[rowid] = fused.get(rowid, 0.0) + 1.0 / (k + rank)
    per_mode = _per_mode(lists)
    order = sorted(fused, key=lambda r: (-fused[r], r))
    return [(r, fused[r], per_mode[r]) for r in order]


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
