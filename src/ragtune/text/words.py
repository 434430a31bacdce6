"""Words of a text: the one ``\\w+`` tokenisation that ragtune compares texts by (retrieval
evidence, citations, echo and repetition checks, clozes, duplicate questions). BM25 keeps
FTS5's own tokenizer (``store.fts5_terms``), so its scores stay FTS5's."""

from __future__ import annotations

import re
import string

WORD = re.compile(r"\w+")  # str patterns match Unicode word characters


def words(text: str) -> list[str]:
    """Lower-cased words, in order."""
    return WORD.findall(text.lower())


def normalise(text: str) -> str:
    """Lower-cased words joined by single spaces: two texts that differ only in case,
    punctuation or spacing normalise the same (duplicate and leak checks)."""
    return " ".join(words(text))


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def squad_normalise(text: str) -> str:
    """SQuAD's normalisation for answer metrics (exact match, token F1): lower case, no
    punctuation, no articles, single spaces."""
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCT))
    return " ".join(text.split())


def numbers(text: str) -> set[str]:
    """Numbers as written, thousands separators removed (``2,000`` -> ``2000``)."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}
