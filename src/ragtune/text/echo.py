"""Answers that say nothing: a restated question, a copied passage label, a bare preamble.

Shared by the strategies (never answer with one), the RAG post-processing (strip them) and
the judge (no credit for them), so all three agree on what an echo is.

Example::

    restates("Why are strings immutable?", "Why are Python strings immutable? [1]")  # True
    restates("Why are strings immutable?", "Strings are immutable for speed.")     # False
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ragtune.text.words import WORD as _WORD

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
    r"^\s*(?:"
    r"(?:the\s+)?answer(?:\s+to\s+(?:the|your|this)\s+question(?:\s+\"[^\"]*\")?)?"
    r"\s*(?:is(?:\s+that)?\s*:?|:)"
    r"|according\s+to\s+(?:the\s+)?(?:context|passage|document)s?\s*(?:\[\d+\])?\s*,?"
    r"|based\s+on\s+(?:the\s+)?(?:context|passage|document)s?\s*(?:\[\d+\])?\s*,?"
    r")\s*",
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


_YES_NO = re.compile(
    r"\s*(?:is|are|was|were|am|do|does|did|can|could|should|would|will|shall|may|might|must|"
    r"has|have|had)\b",
    re.I,
)
_POLAR = re.compile(r"\b(?:yes|no|not|never|none|cannot|nope)\b|n't\b", re.I)


def _polar(text: str) -> set[str]:
    # "doesn't" and "does not" are the same polarity
    return {
        "not" if m.group().lower() == "n't" else m.group().lower() for m in _POLAR.finditer(text)
    }


def restates(question: str, text: str, share: float = 0.75) -> bool:
    """Whether ``text`` is (mostly) the question again: at least ``share`` of its content
    words are the question's and it adds at most two words of its own (a text that is itself
    a question needs half, adding at most three). A heading that matches the question, or
    the model repeating it, is no answer."""
    said, asked = content(text), set(content(question))
    if not said:  # only function words (or nothing): says nothing either
        return True
    if _polar(text) - _polar(question):  # "No, X is not Y" answers "Is X Y?"
        return False
    is_question = _MARKER.sub("", text).rstrip().endswith("?")
    if _YES_NO.match(question) and not is_question:  # "Leave is paid." answers "Is leave paid?"
        return False
    if any(w not in asked and any(c.isdigit() for c in w) for w in said):
        return False  # "New hires get 25 days." answers "How many days do new hires get?"
    own = sum(w not in asked for w in said)
    overlap = (len(said) - own) / len(said)
    if is_question:
        return own <= 3 and overlap >= 0.5
    return own <= 2 and overlap >= share


def strip_preamble(text: str) -> str:
    """``"The answer to the question is: X"`` -> ``"X"`` (unchanged when there is none)."""
    out = _PREAMBLE.sub("", text, count=1)
    if out == text or not out.strip():
        return text
    return out[:1].upper() + out[1:]


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


# Talk about the passages instead of an answer ("... lies in the context passages").
_META = re.compile(
    r"\b(?:lies|is|are|can\s+be)\s+(?:found|given|provided|explained|described)?\s*in\s+"
    r"(?:the\s+)?(?:context|passages?|documents?)\b"
    r"|\bthis\s+answer\s+(?:provides|explains|gives)\b"
    r"|\bthe\s+(?:original\s+)?passages?\s+(?:discuss|says?|states?|explains?)"
    r"|^\s*(?:here'?s|here\s+is)\s+(?:a|the)\s+(?:possible\s+)?answer\s*:?\s*$",
    re.I,
)


def says_nothing(question: str, text: str, labels: list[str] | None = None) -> bool:
    """Whether an answer carries no answer at all: empty once a preamble is stripped, the
    question again, only passage labels or titles, or talk about the passages."""
    rest = strip_preamble(text)
    if not _WORD.search(_MARKER.sub(" ", rest)):
        return True
    if _PREAMBLE.fullmatch(rest) or _META.search(rest):
        return True
    return restates(question, rest) or is_label(rest, labels or [])


_LEADING_MARKER = re.compile(r"^\s*(\[\d+\])\s*")


def _strip_head(question: str, text: str, labels: list[str] | None) -> tuple[str, str, bool]:
    """``text`` without what repeats the prompt at its start, the leading ``[n]`` it moved,
    and whether the head is settled (a first sentence that says something is complete, so
    more text cannot change what is stripped)."""
    out, moved = strip_preamble(text).strip(), ""
    parts = sorted(
        {p.strip() for lab in labels or [] for p in [lab, *re.split(r"\s+[—>]\s+", lab)]},
        key=len,
        reverse=True,
    )
    changed, settled = True, False
    while changed and out:
        changed = False
        if m := _LEADING_MARKER.match(out):
            moved, out, changed = moved or m.group(1), out[m.end() :], True
        for part in (p for p in parts if len(p) > 3):
            clean = _MARKER.sub("", part).strip()
            if clean and out.lower().startswith(clean.lower()):
                out, changed = out[len(clean) :].lstrip(" —>:-\n"), True
                break
        first = re.match(r"[^.!?\n]*[.!?]+\s+", out)
        if first and restates(question, first.group()):
            out, changed = out[first.end() :], True
        settled = first is not None and not changed
    return strip_preamble(out.strip()), moved, settled


def clean_answer(question: str, text: str, labels: list[str] | None = None) -> str:
    """An answer without what merely repeats the prompt at its start: a preamble, copied
    passage labels, titles or section paths, and a restated question. A leading ``[n]``
    that came with a copied label moves to the end, so the citation is kept."""
    out, moved, _ = _strip_head(question, text, labels)
    if not out:
        return text.strip()
    if moved and not _MARKER.search(out):
        out = f"{out} {moved}"
    return out


class HeldHead:
    """Streams an answer the way :func:`clean_answer` will return it: pieces are held back
    until the head (labels, preamble, restated question) is settled, then the cleaned text
    is passed on and the rest as it comes; :meth:`finish` sends what the final answer adds
    (a moved ``[n]``), or the whole answer when nothing was sent yet. So a streaming client
    never shows a copied passage label the final answer does not have. While it holds,
    ``send`` gets ``""`` per piece: the consumer may raise there to stop generation."""

    def __init__(self, question: str, labels: list[str], send: Callable[[str], None]) -> None:
        self.question, self.labels, self.send = question, labels, send
        self.held, self.sent, self.open = "", "", False

    def __call__(self, piece: str) -> None:
        if self.open:
            self._pass(piece)
            return
        self.held += piece
        self.send("")  # lets the consumer stop generation while the head is held
        out, _, settled = _strip_head(self.question, self.held, self.labels)
        if settled and out:
            self.open = True
            # the held text's tail (after the settled sentence) is still raw; keep spacing
            self._pass(out + self.held[len(self.held.rstrip()) :])

    def _pass(self, piece: str) -> None:
        if piece:
            self.sent += piece
            self.send(piece)

    def finish(self, final: str) -> None:
        """Send what ``final`` (the answer as returned) adds to what was streamed."""
        if not self.open:
            self._pass(final)
            return
        sent = self.sent.rstrip()
        if final.startswith(sent) and len(final) > len(sent):
            rest = final[len(sent) :]
            self._pass(rest.lstrip() if self.sent != sent else rest)
