"""What ``extract`` answers with: the best-supported span that is not the question again.

On FAQ and knowledge-base pages the sentence most similar to a question is its heading — the
question itself. So a heading (or a sentence that restates the question) is never the answer:
the text beneath it is, up to a small budget; other echoes are skipped for the next best
sentence. Spans are exact document offsets, so citations point at them as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ragtune.text.cloze import find_fill, is_cloze
from ragtune.text.echo import restates
from ragtune.text.sentences import HEADING, SENTENCE, Unit, clean, units
from ragtune.types import Chunk, ScoredChunk

MIN_WORDS = 12  # a first sentence shorter than this ("There are several advantages.") is
MAX_WORDS = 60  # continued by the next ones, never past this many words
MAX_SENTENCES = 3


@dataclass(frozen=True)
class Span:
    """An answer span: its plain text, the chunk it is cut from and document offsets."""

    text: str
    quote: str  # the exact document text
    chunk: Chunk
    hit: ScoredChunk
    start: int
    end: int


class _Candidate(Protocol):
    """The fields of a ranked evidence sentence this module reads."""

    @property
    def text(self) -> str: ...
    @property
    def hit(self) -> ScoredChunk: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def score(self) -> float: ...


NextChunk = Callable[[Chunk], Chunk | None]


def choose(
    question: str, ranked: Sequence[_Candidate], next_chunk: NextChunk | None = None
) -> Span | None:
    """The answer span for ``question`` from evidence sentences ranked best first."""
    if is_cloze(question):
        span = cloze_span(question, ranked)
        if span is not None:
            return span
    if _HOW.match(question):
        ranked = sorted(ranked, key=lambda s: -(s.score + _instructs(s.text) * HOW_BONUS))
    for sentence in ranked:
        heading = sentence.kind == HEADING
        echo = restates(question, sentence.text)
        if heading or (echo and sentence.text.rstrip().endswith("?")):
            span = beneath(sentence, next_chunk)
            if span is not None:
                return _named(sentence, span) if heading and _is_entry(sentence.text) else span
            continue
        span = _with_entry_name(sentence)
        if echo and span.start == sentence.start:
            continue  # the question again; opened by its entry's name it is the answer
        return span
    return None


# "How do I/you ...?" asks for a way to do something; a manual says it as an instruction
# ("To set the environment of a Lua function, use the variable _ENV ..."), which a plain
# statement on the same words ("C functions no longer have environments.") must not beat
# by a hair of cosine. Not "how many / much / long": those ask for a quantity.
_HOW = re.compile(r"\s*how\s+(?:do|does|can|could|should|would|to|might|may)\b", re.I)
_INSTRUCTION = re.compile(
    r"^\s*(?:to\s+\w+[^.;:]*,\s*)?(?:use|call|set|pass|write|run|add|create|define|give|"
    r"put|install|import|open|make|configure)\b", re.I,
)  # fmt: skip
HOW_BONUS = 0.05  # a tenth of the evidence score's cosine share


def _instructs(text: str) -> bool:
    return bool(_INSTRUCTION.match(clean(text)))


# A heading that names an API entry: "table.unpack (list [, i [, j]])", "lua_pushliteral".
_ENTRY = re.compile(r"[A-Za-z_][\w.:]*(?:\s*\(.*\))?")
_CODE_NAME = re.compile(r"_|\w\.\w|\(|[a-z][A-Z]")
# A line of prose ends like a sentence; "int luaL_loadstring (lua_State *L, const char *s);"
# and "[-0, +1, –]" do not.
_PROSE = re.compile(r"[A-Za-z][\w)'\"]*[.!?:]['\")\]]*\s*$")


def _with_entry_name(sentence: _Candidate) -> Span:
    """The sentence as a span, opened by its reference entry's heading when it is the
    entry's first sentence: a manual's "Returns the elements from the given table." answers
    "which function ...?" only with its name ("table.unpack (list [, i [, j]]): Returns
    ...")."""
    chunk, hit = sentence.hit.chunk, sentence.hit
    offset = sentence.start - chunk.start
    before = [u for u in units(chunk.text) if u.end <= offset]
    while before and before[-1].kind != HEADING and not _PROSE.search(before[-1].text):
        before.pop()  # a C prototype or stack notation between the name and its first sentence
    head = before[-1] if before else None
    if head is None or head.kind != HEADING or not _is_entry(head.text):
        return Span(clean(sentence.text), sentence.text, chunk, hit, sentence.start, sentence.end)
    start = chunk.start + head.start
    text = f"{_title(head.text)}: {clean(sentence.text)}"
    return Span(text, chunk.text[head.start : offset + len(sentence.text)], chunk, hit, start,
                sentence.end)  # fmt: skip


def _named(heading: _Candidate, span: Span) -> Span:
    """``span`` (the text beneath an entry's heading) opened by the entry's name."""
    text = f"{_title(heading.text)}: {span.text}"
    if span.chunk.id != heading.hit.chunk.id:  # beneath it in the next chunk: quote the text
        return Span(text, span.quote, span.chunk, span.hit, span.start, span.end)
    chunk = span.chunk
    quote = chunk.text[heading.start - chunk.start : span.end - chunk.start]
    return Span(text, quote, chunk, span.hit, heading.start, span.end)


def _title(heading: str) -> str:
    """A heading's words without its Markdown/AsciiDoc marks ("### table.unpack (...)")."""
    return clean(re.sub(r"^[#=]+\s*|\s*[#=]*$", "", heading.strip()))


def _is_entry(heading: str) -> bool:
    name = _title(heading)
    return bool(_ENTRY.fullmatch(name) and _CODE_NAME.search(name))


def cloze_span(question: str, ranked: Sequence[_Candidate]) -> Span | None:
    """What fills the blank of a fill-in-the-blank question, in the first retrieved passage
    (by its best sentence's rank) that holds the quoted sentence; the citation quotes the
    whole matched sentence. (That sentence restates the question, so the loop in
    :func:`choose` would skip it.)"""
    seen: set[str] = set()
    for sentence in ranked:
        hit = sentence.hit
        if hit.chunk.id in seen:
            continue
        seen.add(hit.chunk.id)
        fill = find_fill(question, hit.chunk.text)
        if fill is not None:
            chunk = hit.chunk
            return Span(fill.text, chunk.text[fill.match_start : fill.match_end], chunk, hit,
                        chunk.start + fill.match_start, chunk.start + fill.match_end)  # fmt: skip
    return None


def beneath(sentence: _Candidate, next_chunk: NextChunk | None = None) -> Span | None:
    """The first sentences after a heading or question, in its chunk or the next one."""
    chunk = sentence.hit.chunk
    after = _following(chunk, sentence.end)
    if not after and next_chunk is not None:
        following = next_chunk(chunk)
        after = _following(following, sentence.end) if following is not None else []
        if after and following is not None:
            chunk = following
    if not after:
        return None
    taken: list[Unit] = []
    words = 0
    for unit in after:
        n = len(clean(unit.text).split())
        if taken and (words >= MIN_WORDS or words + n > MAX_WORDS):
            break
        taken.append(unit)
        words += n
        if len(taken) == MAX_SENTENCES:
            break
    start, end = chunk.start + taken[0].start, chunk.start + taken[-1].end
    quote = chunk.text[taken[0].start : taken[-1].end]
    return Span(" ".join(clean(u.text) for u in taken), quote, chunk, sentence.hit, start, end)


def _following(chunk: Chunk, after_doc_offset: int) -> list[Unit]:
    """Sentences of ``chunk`` that start after a document offset, up to the next heading
    (an empty section gives nothing: the next question's text is not this one's answer)."""
    out = []
    for unit in units(chunk.text):
        if chunk.start + unit.start < after_doc_offset:
            continue
        if unit.kind == HEADING:
            break
        if unit.kind == SENTENCE:
            out.append(unit)
        elif out:
            break  # a code block ends the prose answer
    return out


def section_start(chunk: Chunk, doc_offset: int) -> int:
    """The offset in ``chunk`` of the last heading before ``doc_offset`` (0 if none)."""
    start = 0
    for unit in units(chunk.text):
        if chunk.start + unit.start > doc_offset:
            break
        if unit.kind == HEADING:
            start = unit.start
    return start
