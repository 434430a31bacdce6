"""Does a correctness metric see correctness? The swapped-gold check.

A metric that scores an answer against its gold should score it lower against another
question's gold. Each answer is scored against its own gold and against the golds of
``rounds`` other questions (derangements: no answer meets its own gold twice); the AUC of
own vs swapped scores says how well the metric separates them (0.5: it ignores the gold).
Used by the judge-trust tests on real answers and by ``bench/judge_trust_pilot.py`` on a
pilot's run store. Example::

    found = gold_separation(answers, golds, encoder)
    found["auc"]["f1"]            # 0.73: token F1 separates own from swapped gold
    found["swapped_mean"]["contains"]  # 0.0: containment never credits another gold
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ragtune.evaluation.metrics.answers import Encoder, answer_scores
from ragtune.evaluation.stats import auc

BINARY = ("exact_match", "contains")
GRADED = ("f1", "rouge_l", "cosine", "bertscore")


class TokenCache:
    """An encoder with token vectors cached per text: a swapped-gold run scores each answer
    against ``rounds`` + 1 golds, and MiniLM would otherwise encode it that many times."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self._tokens: dict[str, np.ndarray] = {}

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        return self.encoder.sentence_vectors(texts)

    def token_vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        new = [t for t in dict.fromkeys(texts) if t not in self._tokens]
        if new:
            self._tokens.update(zip(new, self.encoder.token_vectors(new), strict=True))
        return [self._tokens[t] for t in texts]


def derangement_pairs(n: int, rounds: int = 8) -> list[tuple[int, int]]:
    """(answer, gold) index pairs of up to ``rounds`` derangements spread over the list
    (neighbours are often about the same page: hard negatives, on purpose)."""
    offsets = sorted({round(n * k / (rounds + 1)) for k in range(1, rounds + 1)} - {0, n})
    return [(i, (i + o) % n) for o in offsets for i in range(n)]


def scores(
    preds: Sequence[str], golds: Sequence[str], encoder: Encoder | None
) -> dict[str, list[float]]:
    """Every correctness metric of answers that are all answered (no abstention)."""
    flags = [False] * len(preds)
    return answer_scores(preds, golds, flags, flags, encoder)


def gold_separation(
    preds: Sequence[str], golds: Sequence[str], encoder: Encoder | None, rounds: int = 8
) -> dict[str, Any]:
    """AUC own vs swapped gold per correctness metric (embedding metrics only with an
    ``encoder``), the swapped scores' means of the binary metrics, and the pair counts."""
    if len(preds) != len(golds) or len(preds) < 2:
        raise ValueError("gold separation needs two or more (answer, gold) pairs")
    pairs = derangement_pairs(len(preds), rounds)
    own = scores(preds, golds, encoder)
    swapped = scores([preds[i] for i, _ in pairs], [golds[j] for _, j in pairs], encoder)
    metrics = (*BINARY, *GRADED) if encoder is not None else (*BINARY, "f1", "rouge_l")
    return {
        "auc": {m: auc(own[m], swapped[m]) for m in metrics},
        "swapped_mean": {m: float(np.mean(swapped[m])) for m in BINARY},
        "n": len(preds),
        "swapped_pairs": len(pairs),
    }
