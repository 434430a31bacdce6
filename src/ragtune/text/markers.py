"""Citation markers in answers: ``[1]`` or ``[1, 2]`` (``;`` also separates). One pattern for
every reader: citation parsing, the judge (markers are not claims), the answer metrics and
the pathology and repetition checks (a marker is not content)."""

from __future__ import annotations

import re

MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")  # group 1: the numbers inside
_WITH_SPACE = re.compile(r"\s*" + MARKER.pattern)


def markers(text: str) -> list[int]:
    """All marker numbers in order of appearance, without repeats."""
    found: list[int] = []
    for group in MARKER.findall(text):
        for n in re.split(r"\s*[,;]\s*", group):
            if int(n) not in found:
                found.append(int(n))
    return found


def strip_markers(text: str) -> str:
    """The text without its markers (and the spaces before them)."""
    return _WITH_SPACE.sub("", text)


def blank_markers(text: str) -> str:
    """The text with each marker replaced by a space (word boundaries kept)."""
    return MARKER.sub(" ", text)
