"""Citation metrics: are the cited passages the ones that support the gold answer?

A passage in the prompt *supports* the gold answer under the offline judge's rule (all of the
answer's numbers and >= 60 % of its content words). Precision = supporting cited passages /
cited passages; recall = supporting cited passages / supporting passages in the prompt.
Example::

    citation_scores({"c1"}, {"c1", "c2"}, has_contexts=True)   # precision 1.0, recall 0.5
"""

from __future__ import annotations

import math

CITATION_METRICS = {
    "citation_precision": "share of cited passages that support the gold answer",
    "citation_recall": "share of the prompt's supporting passages that the answer cites",
    "citation_inferred": "share of answers whose citations were inferred by word overlap "
    "(the model cited nothing itself)",
}


def citation_scores(
    cited: set[str],
    supporting: set[str],
    *,
    has_contexts: bool,
    answerable: bool = True,
    inferred: bool = False,
) -> dict[str, float]:
    """Per-question scores; precision is NaN with no citations, recall NaN when no passage
    in the prompt supports the gold answer; all NaN without contexts or a gold answer."""
    nan = dict.fromkeys(CITATION_METRICS, math.nan)
    if not has_contexts or not answerable:
        return nan
    both = len(cited & supporting)
    return {
        "citation_precision": both / len(cited) if cited else math.nan,
        "citation_recall": both / len(supporting) if supporting else math.nan,
        "citation_inferred": float(inferred) if cited else math.nan,
    }
