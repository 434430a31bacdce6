"""Text helpers shared by the metrics: normalisation, words, numbers, sentences, support.

The offline judge's rule lives here (:func:`supported`), so faithfulness, context precision,
context recall and citation support all use the same definition. Example::

    supported("Leave is 27 days.", ["Employees get 25 days of leave."])  # False: 27 is missing
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from ragtune.generate.citations import content_words

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MARKERS = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+(?=\s|$)|$)")
SUPPORT_MIN_COVERAGE = 0.6  # share of a claim's content words that the context must contain


def normalize(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCT))
    return " ".join(text.split())


def numbers(text: str) -> set[str]:
    """Numbers as written, thousands separators removed (``2,000`` -> ``2000``)."""
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def strip_markers(text: str) -> str:
    return _MARKERS.sub("", text)


def sentences(text: str) -> list[str]:
    """Sentences (citation markers removed) with at least one content word."""
    found = (m.group().strip() for m in _SENTENCE.finditer(strip_markers(text)))
    return [s for s in found if content_words(s) or numbers(s)]


def coverage(claim: str, context: str) -> float:
    """Share of the claim's content words (numbers included) that occur in ``context``."""
    words = content_words(claim) | numbers(claim)
    if not words:
        return 0.0
    have = content_words(context) | numbers(context)
    return len(words & have) / len(words)


def supported(claim: str, contexts: Sequence[str]) -> bool:
    """The offline judge: a claim is supported when one context holds every number in it and
    at least ``SUPPORT_MIN_COVERAGE`` of its content words."""
    need = numbers(claim)
    for ctx in contexts:
        if need <= numbers(ctx) and coverage(claim, ctx) >= SUPPORT_MIN_COVERAGE:
            return True
    return False
