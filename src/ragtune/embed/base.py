"""The embedder protocol and a deterministic hash embedder for fast unit tests."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ragtune.config import Settings
from ragtune.registry import embedders
from ragtune.text.words import WORD as _WORD


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; counts tokens for the chunker."""

    name: str
    dim: int
    max_tokens: int

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Several queries in one call when the embedder offers ``embed_queries`` (one forward
    pass for the batch); otherwise one ``embed_query`` each, so any embedder works."""
    many = getattr(embedder, "embed_queries", None)
    if many is not None:
        return np.asarray(many(texts), dtype=np.float32)
    return np.stack([embedder.embed_query(t) for t in texts]).astype(np.float32)


class HashEmbedder:
    """Bag-of-words hashing trick. Not semantic: a fast, deterministic fake for unit tests."""

    name = "hash"
    max_tokens = 100_000

    def __init__(self, dim: int = 256) -> None:
        if dim < 8:
            raise ValueError(f"dim must be >= 8, got {dim}")
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            h = zlib.crc32(word.encode("utf-8"))
            vec[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        norm = float(np.linalg.norm(vec))
        return vec / norm if norm > 0 else vec

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_WORD.findall(t)) for t in texts]


@embedders.register("hash")
def _make_hash(settings: Settings) -> HashEmbedder:
    return HashEmbedder()
