"""The CrossEncoder backend through sentence-transformers, on a model built from the packaged
MiniLM weights (no cross-encoder ships offline; its head is untrained, so only the mechanics
are checked: loading from a local path, scoring every hit, reordering by that score)."""

from pathlib import Path

import pytest

from ragtune.config import Settings
from ragtune.errors import ConfigError, ModelUnavailableError
from ragtune.registry import rerankers
from ragtune.retrieval.rerank import CrossEncoderReranker, NoopReranker
from ragtune.types import Chunk, ScoredChunk


def hits() -> list[ScoredChunk]:
    texts = ["Vacation is 25 days.", "The VPN port is 443.", "Expenses need receipts."]
    return [
        ScoredChunk(Chunk(f"c{i}", "d", t, 0, len(t)), 1.0 - i / 10) for i, t in enumerate(texts)
    ]


def test_noop_keeps_order() -> None:
    assert NoopReranker().rerank("q", hits()) == hits()


def test_missing_model_path_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="cross-encoder folder not found"):
        CrossEncoderReranker(tmp_path / "nope")
    with pytest.raises(ConfigError, match="model_path"):
        Settings.load(None, rerank={"name": "cross-encoder"})


@pytest.mark.slow
def test_cross_encoder_from_local_folder(tmp_path: Path) -> None:
    from sentence_transformers import CrossEncoder

    from ragtune.embed.sentence_transformers import packaged_minilm_path

    CrossEncoder(str(packaged_minilm_path()), num_labels=1, device="cpu").save(str(tmp_path / "ce"))
    settings = Settings.load(
        None, rerank={"name": "cross-encoder", "model_path": str(tmp_path / "ce")}
    )
    reranker = rerankers.create("cross-encoder", settings)
    out = reranker.rerank("how many vacation days", hits())
    assert sorted(h.chunk.id for h in out) == ["c0", "c1", "c2"]
    assert [h.score for h in out] == sorted((h.score for h in out), reverse=True)
    assert all(h.scores["rerank"] == h.score for h in out)
