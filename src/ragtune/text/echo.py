"""Answers that say nothing: a restated question, a copied passage label, a bare preamble.

Shared by the strategies (never answer with one), the RAG post-processing (strip them) and
the judge (no credit for them), so all three agree on what an echo is.

Example::

    restates("Why are strings immutable?", "Why are Python strings immutable? [1]")  # True
    restates("Why are strings immutable?", "Strings are immutable for speed.")     # False
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
_MARKER = re.compile(r"\[\d+\]")
# Words that restate a question without adding anything: question words, auxiliaries,
# pronouns; "python" in "Why does Python ..." adds nothing either, but that is corpus-
# specific, so only function words are here.
_FILLER = frozenset(
    "a an the is are was were be been do does did can could should would will shall may might "
    "must i you we it they he she this that these those there what why how when where which "
    "who whom whose of in on at to for from by with as and or not no so if than then into "
    "about my your our its their me us them".split()
)
_PREAMBLE = re.compile(
    r"^\s*(?:(?:the\s+)?answer(?:\s+to\s+(?:the|your|this)\s+question)?\s*(?:is)?\s*[:\-]?|"
    r"according\s+to\s+(?:the\s+)?(?:context|passage|document)s?\s*(?:\[\d+\])?\s*,?|"
    r"based\s+on\s+(?:the\s+)?(?:context|passage|document)s?\s*(?:\[\d+\])?\s*,?)\s*",
    re.I,
)


def _stem(word: str) -> str:
    for suffix in ("ies", "ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content(text: str) -> list[str]:
    """Stemmed content words of ``text`` (citation markers and function words dropped)."""
    words = _WORD.findall(_MARKER.sub(" ", text).lower())
    return [_stem(w) for w in words if w not in _FILLER]


def restates(question: str, text: str, share: float = 0.75) -> bool:
    """Whether ``text`` is (mostly) the question again: at least ``share`` of its content
    words are the question's and it adds at most two words of its own (a text that is itself
    a question needs half, adding at most three). A heading that matches the question, or
    the model repeating it, is no answer."""
    said, asked = content(text), set(content(question))
    if not said:  # only function words (or nothing): says nothing either
        return True
    own = sum(w not in asked for w in said)
    overlap = (len(said) - own) / len(said)
    if _MARKER.sub("", text).rstrip().endswith("?"):
        return own <= 3 and overlap >= 0.5
    return own <= 2 and overlap >= share


def strip_preamble(text: str) -> str:
    """``"The answer to the question is: X"`` -> ``"X"`` (unchanged when there is none)."""
    out = _PREAMBLE.sub("", text, count=1)
    return out if out.strip() else text


def is_label(text: str, labels: list[str]) -> bool:
    """Whether ``text`` is only a copy of passage labels (``[1] Title — Section``) or titles:
    nothing is left once they, markers and punctuation are removed."""
    rest = strip_preamble(_MARKER.sub(" ", text)).lower()
    for label in sorted(labels, key=len, reverse=True):
        clean = _MARKER.sub(" ", label).lower().strip()
        if clean:
            rest = rest.replace(clean, " ")
            for part in re.split(r"\s+[—>-]\s+", clean):
                if len(part) > 3:
                    rest = rest.replace(part, " ")
    return bool(text.strip()) and not _WORD.search(rest)
