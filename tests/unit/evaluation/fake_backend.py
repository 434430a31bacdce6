"""A deterministic generator backend for runner tests: answers with the passage sentence
closest to the question (citing it) when the prompt has passages, else a fixed guess. Registered as
``eval-fake``; ``RAGTUNE_FAKE_DELAY`` (seconds per batch) makes a run slow enough to kill."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence

from ragtune.generate.base import Generation, GenerationOptions, Message
from ragtune.registry import generators

NAME = "eval-fake"


class EchoGenerator:
    name = NAME
    model_name = "echo"
    context_window = 4096

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _reply(self, prompt: list[Message]) -> str:
        """The passage sentence sharing most words with the question, citing its passage."""
        user = prompt[-1]["content"]
        if not user.startswith("Context:"):
            return "It is 25 working days."
        context, _, question = user.rpartition("\n\nQuestion: ")
        wanted = set(re.findall(r"\w{4,}", question.lower()))
        best, best_n, best_score = "", 1, -1
        for block in re.split(r"\n\n(?=\[\d+\] )", context.removeprefix("Context:\n")):
            n = int(block[1 : block.index("]")])
            for sentence in re.split(r"(?<=[.!?])\s+", block.split("\n", 1)[-1]):
                score = len(wanted & set(re.findall(r"\w{4,}", sentence.lower())))
                if score > best_score:
                    best, best_n, best_score = sentence.strip(), n, score
        return f"{best} [{best_n}]"

    def generate(
        self, prompts: Sequence[list[Message]], options: GenerationOptions
    ) -> list[Generation]:
        time.sleep(float(os.environ.get("RAGTUNE_FAKE_DELAY", "0")))
        out = []
        for p in prompts:
            text = self._reply(p)
            tokens_in = sum(self.count_tokens(m["content"]) for m in p)
            out.append(Generation(text, tokens_in, self.count_tokens(text), 0.001, "stop"))
        return out

    def stream(self, prompt: list[Message], options: GenerationOptions) -> Iterator[str]:
        yield self._reply(prompt)


if NAME not in generators:
    generators.register(NAME)(lambda settings: EchoGenerator())
