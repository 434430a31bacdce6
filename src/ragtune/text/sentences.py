"""Sentences of real documentation text, with offsets, that survive markup.

Documentation wraps paragraphs at ~80 columns and mixes prose with markup: reStructuredText
headings (a line under- or overlined with ``=-~^``...), roles (:func:`len`) and literals
(``x++``), Markdown headings and code fences, AsciiDoc ``==`` titles, literal blocks after
``::``, tables, list items, man-page text. Splitting at line breaks cut most sentences in
half, and the heading of an FAQ entry (the question itself) came out as the best "sentence".

:func:`units` returns the units of a text — headings, sentences, code/table lines — as
exact ``text[start:end]`` spans with a kind, so callers can skip headings or take the text
beneath one. :func:`clean` turns a span into plain prose for display or scoring.

Example::

    for u in units("Title\\n=====\\n\\nThe walrus. It is\\nbig.\\n"):
        print(u.kind, repr(clean(u.text)))
    # heading 'Title' / sentence 'The walrus.' / sentence 'It is big.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADING, SENTENCE, CODE = "heading", "sentence", "code"

_UNDERLINE = re.compile(r"^\s*([=\-~^*+#\"'`:.])\1{2,}\s*$")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
_ADOC_HEADING = re.compile(r"^={1,6}\s+\S")
_FENCE = re.compile(r"^\s*(```|~~~)")
_DIRECTIVE = re.compile(r"^\s*\.\.\s+[\w:-]+::|^\s*\.\.\s+_[^:]+:|^\s*\.\.\s*$")
_TABLE_RULE = re.compile(r"^\s*[+|]?[-=+|: ]{3,}[+|]?\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)]|#\.|\([a-z0-9]\))\s+")
_FIELD = re.compile(r"^\s*:[\w -]+:\s")  # a reST field list line (":param x: ...")
# Spans inside which a ". " is not a sentence end: ``literal``, `role text`, (e.g. ...).
_MASK = re.compile(r"``.+?``|`[^`\n]+`|\b(?:a\.k\.a|e\.g|i\.e|etc|vs|cf|approx|No|Fig|Mr|Dr|St)\.")
_END = re.compile(r"[.!?]+[\"')\]]*(?=\s+(?:[^\sa-z]|$)|\s*$)")
_ROLE = re.compile(r":[\w:+.-]+:`([^`<]*?)(?:\s*<[^>]*>)?`")
_LITERAL = re.compile(r"``(.+?)``")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_{1,2}")
_EMPH = re.compile(r"(?<!\w)(\*\*|\*|__|_)(?=\S)(.+?)(?<=\S)\1(?!\w)")
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Unit:
    start: int
    end: int
    kind: str  # HEADING | SENTENCE | CODE
    text: str


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        out.append((pos, line.rstrip("\r\n")))
        pos += len(line)
    return out


def _is_heading(line: str, prev: str, nxt: str) -> bool:
    if _MD_HEADING.match(line) or _ADOC_HEADING.match(line):
        return True
    body = line.strip()
    if body.isupper() and line == line.lstrip() and len(body.split()) <= 6:
        return True  # a man page's NAME / DESCRIPTION
    return bool(
        body
        and not _UNDERLINE.match(line)
        and _UNDERLINE.match(nxt)
        and len(nxt.strip()) >= min(len(body), 3)
        and (not prev.strip() or _UNDERLINE.match(prev))
    )


def _sentences(text: str, start: int, end: int) -> list[Unit]:
    """Sentence spans of one paragraph ``text[start:end]`` (its lines already joined)."""
    para = text[start:end]
    masked = _MASK.sub(lambda m: "x" * len(m.group()), para)
    out, at = [], 0
    for m in _END.finditer(masked):
        out.append((at, m.end()))
        at = m.end()
    if at < len(para):
        out.append((at, len(para)))
    units = []
    for s, e in out:
        raw = para[s:e]
        lead = len(raw) - len(raw.lstrip())
        s, e = s + lead, s + len(raw.rstrip())
        if e > s and _WORD.search(para[s:e]):
            units.append(Unit(start + s, start + e, SENTENCE, text[start + s : start + e]))
    return units


def units(text: str) -> list[Unit]:
    """Headings, sentences and code lines of ``text``, in order (see the module docs)."""
    lines = _lines(text)
    out: list[Unit] = []
    para: list[tuple[int, str]] = []
    code_indent: int | None = None  # inside a literal block: lines indented beyond this
    fenced = False

    def flush() -> None:
        if para:
            first, last = para[0], para[-1]
            out.extend(_sentences(text, first[0], last[0] + len(last[1])))
            para.clear()

    def code(pos: int, line: str) -> None:
        body = line.strip()
        if body and _WORD.search(body):
            lead = len(line) - len(line.lstrip())
            out.append(Unit(pos + lead, pos + len(line.rstrip()), CODE, body))

    for i, (pos, line) in enumerate(lines):
        prev = lines[i - 1][1] if i else ""
        nxt = lines[i + 1][1] if i + 1 < len(lines) else ""
        indent = len(line) - len(line.lstrip())
        if _FENCE.match(line):
            flush()
            fenced = not fenced
            continue
        if fenced:
            code(pos, line)
            continue
        if code_indent is not None:
            if not line.strip() or indent > code_indent:
                code(pos, line)
                continue
            code_indent = None
        if not line.strip() or _UNDERLINE.match(line) or _TABLE_RULE.match(line):
            flush()
            continue
        if _DIRECTIVE.match(line):
            flush()
            continue
        if _is_heading(line, prev, nxt):
            flush()
            lead = len(line) - len(line.lstrip())
            title = re.sub(r"^[#=]+\s*|\s*[#=]*$", "", line.strip())
            out.append(Unit(pos + lead, pos + len(line.rstrip()), HEADING, title))
            continue
        if "|" in line and line.count("|") >= 2:  # a table row: one unit, never joined
            flush()
            code(pos, line)
            continue
        if para and (_LIST_ITEM.match(line) or _FIELD.match(line)):
            flush()  # a list item or field starts a paragraph of its own
        para.append((pos, line))
        if line.rstrip().endswith("::"):  # reST: an indented literal block follows
            flush()
            code_indent = indent
    flush()
    return out


def clean(span: str) -> str:
    """Plain prose from a span: markup roles and literals unwrapped, lines joined."""
    text = _LINK.sub(r"\1", span)
    text = _ROLE.sub(lambda m: m.group(1).lstrip("~!"), text)
    text = _LITERAL.sub(r"\1", text)
    text = _CODE_SPAN.sub(r"\1", text)
    text = _EMPH.sub(r"\2", text)
    text = re.sub(r"::$", ":", text.strip())
    text = re.sub(r"^\s*(?:[-*+•]|#\.)\s+", "", text)
    return re.sub(r"\s+", " ", text).strip()
