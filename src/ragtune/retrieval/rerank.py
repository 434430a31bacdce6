"""Rerankers: a protocol, a no-op default, and a sentence-transformers CrossEncoder backend.

No cross-encoder ships in an offline-installable package, so the default is ``none``. Point
``rerank.model_path`` at any local CrossEncoder folder and set ``rerank.name =
"cross-encoder"`` to enable one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Protocol

from ragtune.config import Settings
from ragtune.errors import ModelUnavailableError
from ragtune.registry import rerankers
from ragtune.types import ScoredChunk


class Reranker(Protocol):
    name: str

    def rerank(self, query: str, hits: list[ScoredChunk]) -> list[ScoredChunk]: ...


class NoopReranker:
    """Keeps the retriever's order."""

    name = "none"

    def rerank(self, query: str, hits: list[ScoredChunk]) -> list[ScoredChunk]:
        return hits


class CrossEncoderReranker:
    """Scores (query, chunk) pairs with a local CrossEncoder; loads on first use."""

    name = "cross-encoder"

    def __init__(self, model_path: str | Path, batch_size: int = 16) -> None:
        if not Path(model_path).is_dir():
            raise ModelUnavailableError(
                f"cross-encoder folder not found: {model_path}",
                "set rerank.model_path to a local sentence-transformers CrossEncoder folder",
            )
        self.model_path = Path(model_path)
        self.batch_size = batch_size
        self._model: Any = None

    def rerank(self, query: str, hits: list[ScoredChunk]) -> list[ScoredChunk]:
        if not hits:
            return hits
        if self._model is None:
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(str(self.model_path), device="cpu")
        pairs = [(query, h.chunk.text) for h in hits]
        scores = self._model.predict(pairs, batch_size=self.batch_size)
        rescored = [
            dataclasses.replace(h, score=float(s), scores={**h.scores, "rerank": float(s)})
            for h, s in zip(hits, scores, strict=True)
        ]
        return sorted(rescored, key=lambda h: -h.score)


@rerankers.register("none")
def _make_noop(settings: Settings) -> NoopReranker:
    return NoopReranker()


@rerankers.register("cross-encoder")
def _make_cross_encoder(settings: Settings) -> CrossEncoderReranker:
    return CrossEncoderReranker(settings.rerank.model_path)
