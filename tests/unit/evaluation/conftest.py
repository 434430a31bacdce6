"""Models the evaluation tests share: loading MiniLM once per session instead of once per
test module keeps the real-model trust tests cheap on a 2-core machine."""

from __future__ import annotations

import pytest

from ragtune.evaluation.metrics.answers import EmbedderEncoder


@pytest.fixture(scope="session")
def minilm_encoder() -> EmbedderEncoder:
    """The packaged all-MiniLM-L6-v2 as the judge and the metrics use it (vectors cached
    per text by the encoder, so tests sharing it share the embeddings too)."""
    from ragtune.embed.sentence_transformers import (
        SentenceTransformerEmbedder,
        packaged_minilm_path,
    )

    return EmbedderEncoder(SentenceTransformerEmbedder(packaged_minilm_path(), "minilm"))
