"""Trust checks on the bundled sample with the real metric implementations (real MiniLM):
a correctness metric must separate right (answer, gold) pairs from swapped ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.conftest import EXAMPLES

from ragtune.config import Settings
from ragtune.evaluation.datasets import load_eval_file
from ragtune.evaluation.metrics.answers import EmbedderEncoder, answer_scores
from ragtune.evaluation.metrics.text import coverage, sentences
from ragtune.evaluation.stats import auc
from ragtune.project import Project


@pytest.fixture(scope="module")
def sample_answers(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str]]:
    """Realistic answers: for each answerable question, the sentence of its source document
    that best covers the gold answer (what a good extractive system would say)."""
    settings = Settings.load(None, embedder={"name": "hash"})
    root: Path = tmp_path_factory.mktemp("trust")
    with Project.init(root, settings) as project:
        project.ingest([EXAMPLES / "docs"])
        items = [i for i in load_eval_file(EXAMPLES / "eval.jsonl") if not i.unanswerable]
        preds, golds = [], []
        for item in items:
            text = " ".join(c.text for d in item.source_docs for c in project.store.chunks_of(d))
            best = max(sentences(text), key=lambda s: coverage(item.answer, s))
            preds.append(best)
            golds.append(item.answer)
    return preds, golds


@pytest.mark.slow
def test_swapped_gold_answers_are_separated(sample_answers: tuple[list[str], list[str]]) -> None:
    from ragtune.embed.sentence_transformers import (
        SentenceTransformerEmbedder,
        packaged_minilm_path,
    )

    preds, golds = sample_answers
    n = len(preds)
    assert n >= 60
    # Swap to the gold answer of a question about a different fact (a derangement).
    swapped = [golds[(i + n // 2) % n] for i in range(n)]
    assert sum(s == g for s, g in zip(swapped, golds, strict=True)) == 0
    encoder = EmbedderEncoder(SentenceTransformerEmbedder(packaged_minilm_path(), "minilm"))
    flags = [False] * n
    true = answer_scores(preds, golds, flags, flags, encoder)
    fake = answer_scores(preds, swapped, flags, flags, encoder)
    aucs = {m: auc(true[m], fake[m]) for m in ("f1", "rouge_l", "cosine", "bertscore")}
    print("AUC true vs swapped:", {m: round(a, 3) for m, a in aucs.items()})
    assert all(a >= 0.9 for a in aucs.values()), aucs
    # The binary ones (exact match, containment) are strict: rarely 1 for a sentence that
    # paraphrases the gold, but never 1 for a swapped gold.
    for metric in ("exact_match", "contains"):
        assert np.mean(fake[metric]) == 0.0 and np.mean(true[metric]) >= 0.0, metric
    assert np.mean(true["contains"]) > 0.2
