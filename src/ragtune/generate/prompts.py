"""The one prompt builder: numbered context blocks within a token budget.

Every path that answers from documents (CLI, service, pilots, RAFT training data) builds its
prompt here, so what a model is trained on and what it is asked at run time match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ragtune.errors import UsageError
from ragtune.generate.base import Message
from ragtune.text.sentences import CODE, SENTENCE, clean, units
from ragtune.types import ScoredChunk

CANNOT_ANSWER = "I cannot answer from the documents."
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
# Tokens spent by the chat template, block headers and the question label, beyond the texts.
_TEMPLATE_OVERHEAD = 48


@dataclass
class Prompt:
    messages: list[Message]
    blocks: list[ScoredChunk] = field(default_factory=list)  # block n is blocks[n - 1]
    texts: list[str] = field(default_factory=list)  # the text of each block as shown
    dropped: int = 0  # retrieved chunks left out for the budget

    @property
    def labels(self) -> list[str]:
        """Each block's header, title and section: what an answer must not merely copy."""
        out = []
        for n, hit in enumerate(self.blocks, 1):
            out += [block_header(n, hit), hit.title, hit.chunk.section]
        return [x for x in out if x]


def passage_text(text: str) -> str:
    """A chunk as prose for the prompt: reST/Markdown markup and heading underlines out,
    wrapped lines joined, headings and code lines kept on lines of their own. Underlines and
    roles cost a small model tokens and attention for nothing."""
    lines: list[str] = []
    previous = ""
    for unit in units(text):
        plain = unit.text.strip() if unit.kind == CODE else clean(unit.text)
        if unit.kind == SENTENCE == previous and not lines[-1].endswith(":"):
            lines[-1] += " " + plain
        else:
            lines.append(plain)
        previous = unit.kind
    return "\n".join(lines) if lines else text.strip()


def block_header(n: int, hit: ScoredChunk) -> str:
    section = hit.chunk.section
    if section.startswith(hit.title):
        section = section[len(hit.title) :].lstrip(" >")
    return f"[{n}] {hit.title}" + (f" — {section}" if section else "")


def trim_to_sentences(text: str, budget: int, count: Callable[[str], int]) -> str:
    """The longest prefix of whole sentences within ``budget`` tokens ('' if none fits)."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    best = ""
    for end in ends:
        if count(text[:end]) > budget:
            break
        best = text[:end]
    return best


class PromptBuilder:
    """``rag(question, hits)`` and ``base(question)`` -> :class:`Prompt`."""

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        context_window: int,
        max_new_tokens: int,
        system: str,
        base_system: str,
        context_tokens: int = 1024,
    ) -> None:
        if context_tokens < 1:
            raise ValueError(f"context_tokens must be >= 1, got {context_tokens}")
        self.count = count_tokens
        self.context_window = context_window
        self.max_new_tokens = max_new_tokens
        self.system = system
        self.base_system = base_system
        self.context_tokens = context_tokens

    def _room(self, system: str, question: str) -> int:
        """Tokens left for context after the system prompt, question and answer budget."""
        fixed = self.count(system) + self.count(question) + _TEMPLATE_OVERHEAD
        room = self.context_window - self.max_new_tokens - fixed
        if room < 0:
            raise UsageError(
                f"the question is {self.count(question)} tokens; with the system prompt and "
                f"a {self.max_new_tokens}-token answer it exceeds the model's "
                f"{self.context_window}-token context",
                "shorten the question or lower generator.max_new_tokens",
            )
        return room

    def base(self, question: str) -> Prompt:
        self._check_question(question)
        self._room(self.base_system, question)
        messages = [
            {"role": "system", "content": self.base_system},
            {"role": "user", "content": question.strip()},
        ]
        return Prompt(messages)

    def check_rag(self, question: str) -> int:
        """Raise for a question that cannot fit; returns the tokens left for context."""
        self._check_question(question)
        return min(self.context_tokens, self._room(self.system, question))

    def rag(
        self, question: str, hits: Sequence[ScoredChunk], focus: dict[str, int] | None = None
    ) -> Prompt:
        """Blocks in rank order until the budget is spent; the lowest-ranked are dropped.
        A top block that alone is too long is cut at a sentence end, never mid-sentence.
        ``focus`` maps a chunk id to the offset (in the chunk) where its block starts: the
        heading of the best evidence, so an FAQ chunk's earlier entries do not come first."""
        budget = self.check_rag(question)
        blocks: list[ScoredChunk] = []
        texts: list[str] = []
        used = 0
        for hit in hits:
            header = block_header(len(blocks) + 1, hit)
            body = passage_text(hit.chunk.text[(focus or {}).get(hit.chunk.id, 0) :])
            cost = self.count(header) + self.count(body) + 2
            if used + cost > budget:
                if blocks:
                    break
                body = trim_to_sentences(body, budget - self.count(header) - 2, self.count)
                if not body:
                    break
                cost = budget
            blocks.append(hit)
            texts.append(f"{header}\n{body}")
            used += cost
        context = "\n\n".join(texts) if texts else "(no passages found)"
        user = f"Context:\n{context}\n\nQuestion: {question.strip()}"
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": user}]
        return Prompt(messages, blocks, texts, dropped=len(hits) - len(blocks))

    @staticmethod
    def _check_question(question: str) -> None:
        if not question or not question.strip():
            raise UsageError("the question is empty")
