"""Fill-in-the-blank questions, answered from the sentence they quote.

A question such as "fill in the blank: When a C function calls ____ in that way, the
running coroutine suspends" quotes a sentence of the documents with a blank. Its words are
those of the sentence, so every "is this the question again?" check skips the very sentence
that answers it, and a small model rarely copies the right word. When the documents hold the
sentence, the answer is what stands in the blank there: :func:`find_fill` matches the words
around the blank (up to ``CONTEXT`` on each side, any punctuation or markup between them) in
a text and returns what stands between, with its offsets.

Example::

    q = "Fill in the blank: To find a loader, require is guided by the ____."
    fill = find_fill(q, "To find a loader, require is guided by the package.searchers sequence.")
    fill.text  # 'package.searchers sequence'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragtune.text.words import WORD as _WORD

BLANK = re.compile(r"_{3,}")
# The lead-in of a generated cloze ("According to ..., fill in the blank:") is not part of
# the quoted sentence.
_LEAD_IN = re.compile(r"^.*?\bfill\s+in\s+the\s+blanks?\b\s*[:,-]?\s*", re.IGNORECASE | re.DOTALL)
CONTEXT = 6  # words matched on each side of the blank
MIN_CONTEXT = 3  # fewer words around the blank match too many places
MAX_FILL = 80  # characters: a blank stands for a word or a phrase, not a paragraph
_JOIN = r"[\W_]+"  # between two context words: spaces, punctuation, markup, a line break


@dataclass(frozen=True)
class Fill:
    """What stands in the blank (``text``, offsets ``start:end``) and the whole matched
    passage (``match_start:match_end``), in the searched text."""

    text: str
    start: int
    end: int
    match_start: int
    match_end: int


def is_cloze(question: str) -> bool:
    return BLANK.search(question) is not None


def _gap(text: str) -> str:
    """The characters between a context word and the blank, as a pattern: spaces match any
    run of spaces (or none), everything else itself."""
    return "".join(r"\s*" if c.isspace() else re.escape(c) for c in text)


def _pattern(question: str) -> re.Pattern[str] | None:
    blank = BLANK.search(question)
    if blank is None:
        return None
    lead = _LEAD_IN.match(question[: blank.start()])
    before = question[lead.end() if lead else 0 : blank.start()]
    after = question[blank.end() :]
    left = list(_WORD.finditer(before))[-CONTEXT:]
    right = list(_WORD.finditer(after))[:CONTEXT]
    if len(left) + len(right) < MIN_CONTEXT or BLANK.search(after):
        return None  # too little to go on, or several blanks
    parts = []
    if left:
        parts.append(r"\b" + _JOIN.join(re.escape(w.group()) for w in left))
        parts.append(_gap(before[left[-1].end() :]))
    else:
        parts.append(r"(?:^|(?<=\n))[ \t]*")  # the blank opens the sentence: start of a line
    parts.append(rf"(?P<fill>[^\n]{{1,{MAX_FILL}}}?)")
    if right:
        parts.append(_gap(after[: right[0].start()]))
        parts.append(_JOIN.join(re.escape(w.group()) for w in right) + r"\b")
    else:
        # The blank ends the sentence: what follows it in the question, then a sentence end
        # (so "package.searchers sequence." is not cut at its first dot).
        parts.append(_gap(after.rstrip()) + r"(?=\s|$)")
    return re.compile("".join(parts), re.IGNORECASE)


def quoted_text(question: str) -> str:
    """The sentence a cloze question quotes, without its lead-in and blank: the query that
    finds it ("Lua reference manual, fill in the blank" only adds noise to a search)."""
    return " ".join(BLANK.sub(" ", _LEAD_IN.sub("", question, count=1)).split())


def find_fill(question: str, text: str) -> Fill | None:
    """What stands in the question's blank where ``text`` holds the quoted sentence; None
    when the question has no (single) blank or the text does not hold the sentence."""
    pattern = _pattern(question)
    if pattern is None:
        return None
    for match in pattern.finditer(text):
        raw = match.group("fill")
        fill = raw.strip().strip("`").strip()
        if not fill or not _WORD.search(fill):
            continue
        start = match.start("fill") + raw.index(fill)
        return Fill(fill, start, start + len(fill), match.start(), match.end())
    return None
