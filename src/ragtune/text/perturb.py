"""Edits that turn a true sentence into an unsupported one, for the judge's self-test.

A judge is only worth its numbers if it notices a wrong claim. The self-test
(:mod:`ragtune.evaluation.selftest`) appends such edited sentences to a run's own answers
and re-judges them; the edits are the ones a generator makes to what it read:

- :func:`negate`: the meaning turned around ("Leave is paid." -> "Leave is not paid."):
  an existing negation is removed, else "not" goes after the first auxiliary verb;
- :func:`change_number`: one number replaced by a nearby value the context does not hold;
- :func:`append_sentence`: a sentence added to an answer as a claim of its own.

Sentences that cannot be edited safely (no auxiliary, "not only", a question) give None
rather than a garbled edit, so the caller picks another. Example::

    negate("Unused leave is carried over.")             # "Unused leave is not carried over."
    negate("Parking is not free.")                      # "Parking is free."
    change_number("You get 25 days.", {"25"}, random.Random(0))   # "You get 35 days."
    append_sentence("25 days [1]", "parking is free;")  # "25 days [1]. Parking is free."
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection

from ragtune.text.sentences import SENTENCE, clean, units

MIN_WORDS = 6  # shorter context "sentences" are mostly headings, labels and list stubs

# Lower case only: "May 2024" is a month and "Will" a name; a sentence starting with an
# auxiliary is a question ("Is leave paid?"), which is skipped anyway.
_AUX = re.compile(
    r"\b(is|are|was|were|can|could|must|should|will|would|may|might|shall"
    r"|does|do|did|has|have|had)\b(?!\s+not\b|n't)(?=\s+\w)"
)  # followed by a word: "... whose partner does, is entitled" has an elided verb there
_UNNEGATE = (
    (re.compile(r"\bcannot\b"), "can"),
    (re.compile(r"\bwon't\b"), "will"),
    (re.compile(r"\b(\w+)n't\b"), r"\1"),
    (re.compile(r"\b(?:not|never|no longer)\s+"), ""),
)
_NOT_A_NEGATION = re.compile(r"\bnot\s+(?:only|just)\b|\bno\s+(?:more|less|fewer)\s+than\b")
# A whole number on its own: not part of a decimal, version, time, date, range or name.
_NUMBER = re.compile(r"(?<![\w.,:/-])\d+(?![\w])(?![.,:/-]\d)")
_ENUM = re.compile(r"^\s*\d+[.)]\s")
_END = re.compile(r"[.!?][\"')\]]*(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*$")


def sentences_of(text: str, min_words: int = MIN_WORDS) -> list[str]:
    """The prose sentences of a passage worth editing (headings, code, tables, questions and
    stubs of fewer than ``min_words`` words left out). Example::

        sentences_of("Leave\\n=====\\n\\nYou get 25 days of paid leave a year. Ask HR.")
        # ["You get 25 days of paid leave a year."]
    """
    out = []
    for unit in units(text):
        sentence = clean(unit.text)
        long_enough = len(sentence.split()) >= min_words
        if unit.kind == SENTENCE and long_enough and not sentence.rstrip().endswith("?"):
            out.append(sentence)
    return out


def negate(sentence: str) -> str | None:
    """``sentence`` with its meaning negated, or None when it has no safe place for it.
    Example::

        negate("Backups can be restored by any admin.")  # "Backups can not be restored ..."
        negate("Backups cannot be restored.")             # "Backups can be restored."
        negate("Employees get 25 days.")                  # None: no auxiliary to negate
    """
    if sentence.rstrip().endswith("?") or _NOT_A_NEGATION.search(sentence):
        return None
    for pattern, repl in _UNNEGATE:
        edited, count = pattern.subn(repl, sentence, count=1)
        if count:
            return edited
    m = _AUX.search(sentence)
    if m is None or m.start() == 0:
        return None
    return f"{sentence[: m.end()]} not{sentence[m.end() :]}"


def _replacement(value: int, avoid: Collection[str], rng: random.Random) -> str | None:
    if 1900 <= value <= 2099:  # a year: the next or previous one is the realistic slip
        options = [value + 1, value - 1]
    else:
        options = [value + 1, value + 2, value * 2, value + 10]
    fresh = [str(v) for v in options if v != value and v >= 0 and str(v) not in avoid]
    return rng.choice(fresh) if fresh else None


def change_number(sentence: str, avoid: Collection[str], rng: random.Random) -> str | None:
    """``sentence`` with one whole number changed to a value not in ``avoid`` (the context's
    numbers, so the edit cannot become true by accident); None without such a number.
    Example::

        change_number("Leave is 25 days.", {"25"}, random.Random(0))  # "Leave is 35 days."
    """
    found = [
        m for m in _NUMBER.finditer(sentence) if not (m.start() == 0 and _ENUM.match(sentence))
    ]
    if not found:
        return None
    m = rng.choice(found)
    new = _replacement(int(m.group()), avoid, rng)
    return None if new is None else f"{sentence[: m.start()]}{new}{sentence[m.end() :]}"


def append_sentence(answer: str, sentence: str) -> str:
    """``answer`` with ``sentence`` added as a claim of its own: a full stop after an answer
    that lacks one, and the sentence capitalised and closed with one (a list item such as
    "the rate is below 1 %;" would otherwise run on into the answer's last sentence).
    Example::

        append_sentence("It is 25 days [1]", "parking is free;")
        # "It is 25 days [1]. Parking is free."
    """
    body = answer.rstrip()
    if body and not _END.search(body):
        body += "."
    claim = sentence.strip().rstrip(",;:–—- ")
    claim = claim[:1].upper() + claim[1:]
    if claim and not _END.search(claim):
        claim += "."
    return f"{body} {claim}".strip()
