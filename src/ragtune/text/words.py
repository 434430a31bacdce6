"""Words of a text: the one ``\\w+`` tokenisation that ragtune compares texts by (retrieval
evidence, citations, echo and repetition checks, clozes, duplicate questions). BM25 keeps
FTS5's own tokenizer (``store.fts5_terms``), so its scores stay FTS5's."""

from __future__ import annotations

import re

WORD = re.compile(r"\w+")  # str patterns match Unicode word characters


def words(text: str) -> list[str]:
    """Lower-cased words, in order."""
    return WORD.findall(text.lower())


def normalise(text: str) -> str:
    """Lower-cased words joined by single spaces: two texts that differ only in case,
    punctuation or spacing normalise the same (duplicate and leak checks)."""
    return " ".join(words(text))
