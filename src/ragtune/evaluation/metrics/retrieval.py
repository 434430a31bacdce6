"""Retrieval metrics against the gold source documents, at document level.

The ranking is the document ids of the passages a strategy put in its prompt (duplicates
collapsed, first occurrence kept). Strategies that do not retrieve get NaN. Example::

    retrieval_scores(["hr/leave.md", "hr/faq.md"], {"hr/faq.md"}, k=5)
    # {"recall@k": 1.0, "mrr": 0.5, "ndcg@k": 0.63...}
"""

from __future__ import annotations

import math
from collections.abc import Sequence

RETRIEVAL_METRICS = {
    "recall@k": "share of the gold source documents among the k retrieved passages' documents",
    "mrr": "1 / rank of the first passage from a gold document (0 when none)",
    "ndcg@k": "nDCG of the retrieved documents with binary relevance (gold = 1)",
}


def retrieval_scores(
    ranked_docs: Sequence[str], relevant: set[str], k: int, retrieved: bool = True
) -> dict[str, float]:
    """recall@k, MRR and nDCG@k for one question; NaN when the strategy did not retrieve
    (``retrieved=False``) or the question has no gold documents."""
    if not retrieved or not relevant:
        return dict.fromkeys(RETRIEVAL_METRICS, math.nan)
    unique = list(dict.fromkeys(ranked_docs))[:k]
    first = next((r for r, d in enumerate(unique, start=1) if d in relevant), None)
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(unique) if d in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return {
        "recall@k": len(relevant & set(unique)) / len(relevant),
        "mrr": 1.0 / first if first else 0.0,
        "ndcg@k": dcg / ideal,
    }
