"""Answer metrics: exact match, containment, token F1, ROUGE-L, embedding cosine,
BERTScore-style token matching, and abstention.

All take the generated answer and the gold answer; the embedding ones are batched over a
whole run. Example::

    token_f1("It is 25 working days.", "25 working days")   # 0.75
    scores = answer_scores(preds, golds, unanswerable, abstained, encoder)
    scores["f1"]                                            # one value per question
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from ragtune.generate.prompts import CANNOT_ANSWER
from ragtune.text.markers import strip_markers
from ragtune.text.words import squad_normalise as normalize

NAN = math.nan
ANSWER_METRICS = {
    "exact_match": "normalised answer equals the gold answer (SQuAD normalisation)",
    "contains": "the normalised gold answer occurs inside the normalised answer",
    "f1": "token F1 between answer and gold (SQuAD)",
    "rouge_l": "ROUGE-L F-measure (rouge-score, stemmed)",
    "cosine": "cosine of the answer and gold sentence embeddings (packaged MiniLM)",
    "bertscore": "BERTScore-style F1: greedy cosine matching of MiniLM token embeddings",
    "abstain_unanswerable": "unanswerable questions only: 1 when the system declined",
    "false_abstain": "answerable questions only: 1 when the system declined anyway",
}


class Encoder(Protocol):
    """What the embedding metrics need: sentence vectors and per-token vectors."""

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray: ...

    def token_vectors(self, texts: Sequence[str]) -> list[np.ndarray]: ...


class EmbedderEncoder:
    """An :class:`Encoder` over a project embedder: MiniLM token embeddings when the
    embedder is a sentence-transformers model, per-word embedder vectors otherwise (the
    hash embedder in unit tests)."""

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        # Every strategy is judged on the same questions, and the judge's self-test asks
        # about them again: each distinct text is embedded once per run (the cost of
        # relevancy is then the answers, not the answers plus the questions per strategy).
        self._vectors: dict[str, np.ndarray] = {}

    def sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; texts seen before come from the cache.

        Example::

            encoder = EmbedderEncoder(HashEmbedder(64))
            encoder.sentence_vectors(["a", "b", "a"]).shape  # (3, 64): "a" embedded once
        """
        new = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if new:
            vectors = np.asarray(self.embedder.embed(new), dtype=np.float32)
            self._vectors.update(zip(new, vectors, strict=True))
        if not texts:
            return np.asarray(self.embedder.embed([]), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def token_vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        model = getattr(self.embedder, "model", None)
        if model is not None and hasattr(model, "encode"):
            out = model.encode(
                list(texts), output_value="token_embeddings", batch_size=32, show_progress_bar=False
            )
            # Drop [CLS] and [SEP]: they match everything and would inflate the score.
            return [_unit(np.asarray(t.cpu().numpy()[1:-1], dtype=np.float32)) for t in out]
        return [_unit(self.embedder.embed(t.split())) for t in texts]


def _unit(m: np.ndarray) -> np.ndarray:
    if m.size == 0:
        return m.reshape(0, max(1, m.shape[-1] if m.ndim == 2 else 1))
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)


def is_abstention(text: str, flag: bool | None = None) -> bool:
    """True when the answer declines (``Answer.abstained`` if the strategy sets it, else the
    CANNOT_ANSWER sentence in the text)."""
    if flag is not None:
        return bool(flag)
    return CANNOT_ANSWER.rstrip(".").lower() in text.lower()


def exact_match(pred: str, gold: str) -> float:
    return float(normalize(strip_markers(pred)) == normalize(gold))


def contains(pred: str, gold: str) -> float:
    g = normalize(gold)
    return float(bool(g) and f" {g} " in f" {normalize(strip_markers(pred))} ")


def token_f1(pred: str, gold: str) -> float:
    """SQuAD token F1 on normalised words (0 when either side is empty)."""
    p, g = normalize(strip_markers(pred)).split(), normalize(gold).split()
    common = sum((Counter(p) & Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def rouge_l(preds: Sequence[str], golds: Sequence[str]) -> list[float]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return [
        float(scorer.score(g, strip_markers(p))["rougeL"].fmeasure)
        for p, g in zip(preds, golds, strict=True)
    ]


def cosine(preds: Sequence[str], golds: Sequence[str], encoder: Encoder) -> list[float]:
    if not preds:
        return []
    a = encoder.sentence_vectors([strip_markers(p) or " " for p in preds])
    b = encoder.sentence_vectors(list(golds))
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return [float(x) for x in (a * b).sum(axis=1)]


def bertscore(preds: Sequence[str], golds: Sequence[str], encoder: Encoder) -> list[float]:
    """Greedy matching F1 (BERTScore without IDF or baseline rescaling)."""
    if not preds:
        return []
    vp = encoder.token_vectors([strip_markers(p) or " " for p in preds])
    vg = encoder.token_vectors(list(golds))
    out = []
    for p, g in zip(vp, vg, strict=True):
        if len(p) == 0 or len(g) == 0:
            out.append(0.0)
            continue
        sim = p @ g.T
        precision, recall = float(sim.max(axis=1).mean()), float(sim.max(axis=0).mean())
        total = precision + recall
        out.append(0.0 if total <= 0 else 2 * precision * recall / total)
    return out


def answer_scores(
    preds: Sequence[str],
    golds: Sequence[str],
    unanswerable: Sequence[bool],
    abstained: Sequence[bool],
    encoder: Encoder | None,
) -> dict[str, list[float]]:
    """Every answer metric per question; correctness metrics are NaN on unanswerable
    questions and abstention metrics NaN where they do not apply. Without an ``encoder``
    the embedding metrics are NaN."""
    n = len(preds)
    idx = [i for i in range(n) if not unanswerable[i]]
    p, g = [preds[i] for i in idx], [golds[i] for i in idx]
    per: dict[str, list[float]] = {k: [NAN] * n for k in ANSWER_METRICS}
    computed: dict[str, list[float]] = {
        "exact_match": [exact_match(a, b) for a, b in zip(p, g, strict=True)],
        "contains": [contains(a, b) for a, b in zip(p, g, strict=True)],
        "f1": [token_f1(a, b) for a, b in zip(p, g, strict=True)],
        "rouge_l": rouge_l(p, g),
    }
    if encoder is not None:
        computed["cosine"] = cosine(p, g, encoder)
        computed["bertscore"] = bertscore(p, g, encoder)
    for key, values in computed.items():
        for i, v in zip(idx, values, strict=True):
            per[key][i] = v
    for i in range(n):
        key = "abstain_unanswerable" if unanswerable[i] else "false_abstain"
        per[key][i] = float(abstained[i])
    return per
