"""Citations: [n] markers -> :class:`Citation` objects pointing at exact source spans.

A marker that names no context block is reported as invalid, never silently dropped. When a
(small) model cites nothing, supporting passages are matched by word overlap and marked
``inferred=True`` so nobody mistakes them for the model's own citations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ragtune.text.markers import blank_markers, markers
from ragtune.text.stopwords import CLAIM
from ragtune.text.support import CITATION_MIN_SHARE, share_held
from ragtune.text.words import WORD as _WORD
from ragtune.types import Citation, ScoredChunk

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)")


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in CLAIM and len(w) > 1}


def best_span(chunk_text: str, evidence: str) -> tuple[int, int]:
    """Offsets (within the chunk) of the sentence that best matches ``evidence``; the whole
    chunk when nothing overlaps."""
    wanted = content_words(evidence)
    best, best_score = (0, len(chunk_text)), 0
    for m in _SENTENCE.finditer(chunk_text):
        score = len(wanted & content_words(m.group()))
        if score > best_score:
            lead = len(m.group()) - len(m.group().lstrip())
            best, best_score = (m.start() + lead, m.start() + len(m.group().rstrip())), score
    return best


def _citation(hit: ScoredChunk, marker: int | None, evidence: str, inferred: bool) -> Citation:
    start, end = best_span(hit.chunk.text, evidence)
    return Citation(
        marker=marker, chunk_id=hit.chunk.id, doc_id=hit.chunk.doc_id, title=hit.title,
        section=hit.chunk.section, start=hit.chunk.start + start, end=hit.chunk.start + end,
        quote=hit.chunk.text[start:end], inferred=inferred,
    )  # fmt: skip


def _sentence_with(text: str, marker: int) -> str:
    for m in _SENTENCE.finditer(text):
        if re.search(rf"\[[^\]]*\b{marker}\b[^\]]*\]", m.group()):
            return m.group()
    return text


def parse_citations(answer: str, blocks: Sequence[ScoredChunk]) -> tuple[list[Citation], list[int]]:
    """(citations for valid markers, invalid marker numbers)."""
    citations, invalid = [], []
    for n in markers(answer):
        if 1 <= n <= len(blocks):
            citations.append(_citation(blocks[n - 1], n, _sentence_with(answer, n), False))
        else:
            invalid.append(n)
    return citations, invalid


def infer_citations(answer: str, blocks: Sequence[ScoredChunk]) -> list[Citation]:
    """Passages that contain most of the answer's content words, marked as inferred."""
    wanted = content_words(blank_markers(answer))
    if not wanted:
        return []
    out = []
    for n, hit in enumerate(blocks, start=1):
        share = share_held(wanted, content_words(hit.chunk.text))
        if share >= CITATION_MIN_SHARE:
            out.append((share, n, hit))
    out.sort(key=lambda item: (-item[0], item[1]))
    return [_citation(hit, n, answer, True) for _, n, hit in out[:2]]
