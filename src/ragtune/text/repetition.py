"""Answers that repeat themselves: small generators loop ("The answer is 25 days. The answer
is 25 days. ..."), and a looping answer reads badly even when its first sentence is right.

Example::

    repeats("Leave is 25 days. Leave is 25 days.")              # "sentence said 2 times: ..."
    repeats("After 5 years: 1 day. After 8 years: 2 days.")     # None: a list, not a loop
"""

from __future__ import annotations

from collections import Counter

from ragtune.text.markers import blank_markers
from ragtune.text.sentences import clean, units
from ragtune.text.words import WORD as _WORD

PHRASE_WORDS = 5  # a phrase this long ...
PHRASE_TIMES = 3  # ... said this often is a loop (a 3-item list shares shorter phrases)


def repeats(text: str, n: int = PHRASE_WORDS, times: int = PHRASE_TIMES) -> str | None:
    """What ``text`` repeats, or None: a sentence (3+ words) said twice, or an ``n``-word
    phrase said ``times`` times or more (overlapping, so "no no no no no no no" counts)."""
    plain = blank_markers(text)
    said = Counter(
        " ".join(words)
        for u in units(plain)
        if len(words := _WORD.findall(clean(u.text).lower())) >= 3
    )
    sentence, count = max(said.items(), key=lambda kv: kv[1], default=("", 0))
    if count >= 2:
        return f"sentence said {count} times: {sentence!r}"
    words = _WORD.findall(plain.lower())
    grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    phrase, count = max(grams.items(), key=lambda kv: kv[1], default=((), 0))
    if count >= times:
        return f"phrase said {count} times: {' '.join(phrase)!r}"
    return None
