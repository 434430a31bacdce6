"""Token-aware chunking that follows headings and paragraphs.

Every chunk is an exact slice of the document text (``text[start:end]``), so citations can
point at character offsets, and records the heading path it sits under.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ragtune.types import SECTION_SEPARATOR, Chunk, chunk_id_for

TokenCounter = Callable[[Sequence[str]], list[int]]

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^([=\-~^*+#\"'`])\1{2,}\s*$")  # Markdown setext and reST
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+([A-Z][^.!?;]{1,70})$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


@dataclass
class _Unit:
    start: int
    end: int
    section: str
    is_heading: bool = False
    tokens: int = 0


def _heading_level(line: str, next_line: str) -> tuple[int, str] | None:
    """(level, heading text) when ``line`` is a heading in any of our formats."""
    stripped = line.strip()
    if m := _MD_HEADING.match(stripped):
        return len(m.group(1)), m.group(2)
    under = next_line.strip()
    if stripped and _UNDERLINE.match(under) and not _UNDERLINE.match(stripped):
        return {"=": 1, "-": 2}.get(under[0], 3), stripped
    words = stripped.split()
    if 0 < len(words) <= 8 and stripped.isupper() and any(c.isalpha() for c in stripped):
        return 2, stripped.title()
    if m := _NUMBERED.match(stripped):
        return 1 + m.group(1).count(".") + 1, stripped
    return None


def split_units(text: str) -> list[_Unit]:
    """Paragraph and heading units with offsets and the heading path above them."""
    lines = text.splitlines(keepends=True)
    units: list[_Unit] = []
    stack: list[tuple[int, str]] = []
    pos, para_start, para_end = 0, -1, -1
    skip_next = False

    def flush() -> None:
        nonlocal para_start
        if para_start >= 0:
            units.append(_Unit(para_start, para_end, SECTION_SEPARATOR.join(t for _, t in stack)))
            para_start = -1

    for i, line in enumerate(lines):
        line_start, pos = pos, pos + len(line)
        if skip_next:  # the underline of a setext heading
            skip_next = False
            continue
        body = line.strip()
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        heading = _heading_level(line, nxt) if body else None
        if heading:
            flush()
            level, title = heading
            stack = [(lvl, t) for lvl, t in stack if lvl < level] + [(level, title)]
            skip_next = bool(_UNDERLINE.match(nxt.strip())) and not _MD_HEADING.match(body)
            lead = len(line) - len(line.lstrip())
            end = line_start + len(line.rstrip())
            units.append(
                _Unit(line_start + lead, end, SECTION_SEPARATOR.join(t for _, t in stack), True)
            )
        elif not body:
            flush()
        else:
            if para_start < 0:
                para_start = line_start + len(line) - len(line.lstrip())
            para_end = line_start + len(line.rstrip())
    flush()
    return units


def _split_long(text: str, unit: _Unit, size: int, count: TokenCounter) -> list[_Unit]:
    """Break an over-long paragraph at sentence ends, then at word boundaries."""
    pieces: list[tuple[int, int]] = []
    cursor = unit.start
    for m in _SENTENCE_END.finditer(text, unit.start, unit.end):
        pieces.append((cursor, m.start()))
        cursor = m.end()
    pieces.append((cursor, unit.end))
    out: list[_Unit] = []
    counts = count([text[s:e] for s, e in pieces])
    for (s, e), n in zip(pieces, counts, strict=True):
        if n <= size:
            out.append(_Unit(s, e, unit.section, tokens=n))
            continue
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[s:e])]
        per = max(1, int(len(words) * size / n))  # words per window, by average density
        for j in range(0, len(words), per):
            ws, we = s + words[j][0], s + words[min(j + per, len(words)) - 1][1]
            out.append(_Unit(ws, we, unit.section, tokens=count([text[ws:we]])[0]))
    return out


def chunk_text(
    doc_id: str, text: str, count: TokenCounter, size: int = 192, overlap: int = 32
) -> list[Chunk]:
    """Pack paragraph units into chunks of at most ~``size`` tokens.

    A heading starts a new chunk unless the current one is still small (under a third of
    ``size``), so tiny sections travel with their neighbours instead of becoming crumbs.
    Consecutive chunks in one section repeat up to ``overlap`` tokens of trailing units.
    """
    if overlap >= size:
        raise ValueError(f"overlap ({overlap}) must be < size ({size})")
    units = split_units(text)
    for unit, n in zip(units, count([text[u.start : u.end] for u in units]), strict=True):
        unit.tokens = n
    flat: list[_Unit] = []
    for unit in units:
        flat.extend(_split_long(text, unit, size, count) if unit.tokens > size else [unit])

    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    total = 0
    for unit in flat:
        starts_section = unit.is_heading and total >= size // 3
        has_body = any(not u.is_heading for u in current)
        if has_body and (total + unit.tokens > size or starts_section):
            groups.append(current)
            tail = [] if starts_section else _overlap_tail(current, overlap)
            current, total = tail, sum(u.tokens for u in tail)
        current.append(unit)
        total += unit.tokens
    if current:
        groups.append(current)

    chunks = []
    for ordinal, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        body = text[start:end]
        section = next((u.section for u in group if not u.is_heading), group[0].section)
        chunks.append(
            Chunk(
                id=chunk_id_for(doc_id, start, body),
                doc_id=doc_id,
                text=body,
                start=start,
                end=end,
                ordinal=ordinal,
                section=section,
                n_tokens=sum(u.tokens for u in group),
            )
        )
    return chunks


def _overlap_tail(units: list[_Unit], overlap: int) -> list[_Unit]:
    """Trailing units worth at most ``overlap`` tokens (never the whole chunk again)."""
    tail: list[_Unit] = []
    total = 0
    for unit in reversed(units[1:]):
        if unit.is_heading or total + unit.tokens > overlap:
            break
        tail.insert(0, unit)
        total += unit.tokens
    return tail
