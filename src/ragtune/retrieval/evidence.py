"""Evidence: how well single sentences of the retrieved chunks support a question.

Two signals, both cheap on a CPU and available offline:

- ``cosine``: the packaged embedder's similarity between the question and the sentence;
- ``coverage``: the IDF-weighted share of the question's content words found in the sentence
  (or in its chunk's title/section), with document frequencies from the store's FTS5 index.
  Rare words weigh most, so "gym membership" against a knowledge base without "gym" scores low
  however similar the topic is.

The ``extract`` strategy answers with the best sentence; abstention compares the best score
with a threshold calibrated on the project's evaluation questions (see ``answerability``).

Example::

    scorer = EvidenceScorer(project.embedder, project.store)
    best = scorer.rank(question, hits)[0]
    print(best.score, best.text, best.hit.chunk.doc_id, best.start, best.end)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ragtune.embed.base import Embedder
from ragtune.store.base import WhereLike
from ragtune.text.sentences import CODE, SENTENCE, Unit, clean, units
from ragtune.text.stopwords import EVIDENCE
from ragtune.text.words import WORD as _WORD
from ragtune.types import ScoredChunk

CACHE_CHUNKS = 4096  # chunks whose sentence vectors are kept (~60 MB at 384 dims)
COSINE_WEIGHT = 0.5  # score = w * cosine + (1 - w) * coverage; measured in bench/small_model.py


class DocFreq(Protocol):
    def term_chunk_counts(
        self, terms: Sequence[str], where: WhereLike | None = None
    ) -> dict[str, int]: ...

    def count_chunks(self, where: WhereLike | None = None) -> int: ...


@dataclass(frozen=True)
class Sentence:
    """One sentence of a retrieved chunk; ``start``/``end`` are offsets in the document."""

    text: str
    hit: ScoredChunk
    start: int
    end: int
    cosine: float
    coverage: float
    score: float
    kind: str = SENTENCE  # or HEADING: a title, never an answer by itself

    @property
    def plain(self) -> str:
        """The sentence as prose: markup unwrapped, wrapped lines joined."""
        return clean(self.text)


def stem(word: str) -> str:
    """A light suffix stripper so 'claims' meets 'claim' and 'approved' meets 'approve'."""
    for suffix in ("ies", "ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_terms(text: str) -> list[str]:
    """Lower-cased content words (stop words and 1-letter tokens dropped), in order, unique."""
    words = [w for w in _WORD.findall(text.lower()) if w not in EVIDENCE and len(w) > 1]
    return list(dict.fromkeys(words))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences and headings of ``text`` (code and table lines
    left out); wrapped lines and markup do not cut a sentence (:mod:`ragtune.text.sentences`)."""
    return [(u.start, u.end) for u in _units(text)]


def _units(text: str) -> list[Unit]:
    return [u for u in units(text) if u.kind != CODE]


class EvidenceScorer:
    """Scores the sentences of retrieved chunks against a question (see module docs)."""

    def __init__(
        self, embedder: Embedder, store: DocFreq, cosine_weight: float = COSINE_WEIGHT
    ) -> None:
        if not 0.0 <= cosine_weight <= 1.0:
            raise ValueError(f"cosine_weight must be in [0, 1], got {cosine_weight}")
        self.embedder = embedder
        self.store = store
        self.cosine_weight = cosine_weight
        # Sentence vectors per chunk id: chunk ids are content hashes, so a cached entry can
        # never be stale, and a pilot asking several strategies the same question pays once.
        self._vectors: dict[str, np.ndarray] = {}

    def _sentence_vectors(self, hits: Sequence[ScoredChunk], texts: list[list[str]]) -> np.ndarray:
        missing = [
            (h.chunk.id, t)
            for h, t in zip(hits, texts, strict=True)
            if h.chunk.id not in self._vectors and t
        ]
        flat = [s for _, t in missing for s in t]
        if flat:
            vectors = self.embedder.embed(flat)
            at = 0
            for chunk_id, t in missing:
                self._vectors[chunk_id] = vectors[at : at + len(t)]
                at += len(t)
            while len(self._vectors) > CACHE_CHUNKS:
                self._vectors.pop(next(iter(self._vectors)))
        return np.concatenate(
            [self._vectors[h.chunk.id] for h, t in zip(hits, texts, strict=True) if t]
        )

    def _idf(self, terms: Sequence[str], scope: WhereLike | None) -> dict[str, float]:
        n = max(self.store.count_chunks(scope), 1)
        counts = self.store.term_chunk_counts(terms, scope)
        return {t: math.log(1.0 + n / (1.0 + counts.get(t, 0))) for t in terms}

    def rank(
        self, question: str, hits: Sequence[ScoredChunk], scope: WhereLike | None = None
    ) -> list[Sentence]:
        """All sentences of ``hits``, best supported first (empty when there are none).
        ``scope``: the documents the caller may read; term weights are counted over them
        only, so a support score never depends on documents the caller cannot read."""
        per_hit = [_units(hit.chunk.text) for hit in hits]
        spans = [(hit, u) for hit, us in zip(hits, per_hit, strict=True) for u in us]
        if not spans:
            return []
        terms = content_terms(question)
        idf = self._idf(terms, scope)
        total = sum(idf.values())
        grouped = [[clean(u.text) for u in us] for us in per_hit]
        vectors = self._sentence_vectors(hits, grouped)
        cosines = vectors @ self.embedder.embed_query(question)
        out = []
        for (hit, u), cos in zip(spans, np.asarray(cosines), strict=True):
            text = hit.chunk.text[u.start : u.end]
            have = {stem(w) for w in content_terms(f"{text} {hit.title} {hit.chunk.section}")}
            covered = sum(idf[t] for t in terms if stem(t) in have)
            coverage = covered / total if total else 0.0
            score = self.cosine_weight * float(cos) + (1 - self.cosine_weight) * coverage
            out.append(
                Sentence(
                    text, hit, hit.chunk.start + u.start, hit.chunk.start + u.end, float(cos),
                    coverage, score, u.kind,
                )
            )  # fmt: skip
        out.sort(key=lambda x: -x.score)
        return out

    def support(
        self, question: str, hits: Sequence[ScoredChunk], scope: WhereLike | None = None
    ) -> float:
        """The best sentence's score: how well the retrieved text supports an answer."""
        ranked = self.rank(question, hits, scope)
        return ranked[0].score if ranked else 0.0
