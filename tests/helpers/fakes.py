"""Fakes for fast unit tests (the real paths have their own tests)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ragtune.generate.base import Generation, GenerationOptions, Message


class QueuedGenerator:
    """Returns queued replies in order and records the prompts it was given."""

    name = "queued"
    model_name = "queued-model"
    context_window = 4096

    def __init__(self, replies: Sequence[str]) -> None:
        self.replies = list(replies)
        self.prompts: list[list[Message]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(
        self, prompts: Sequence[list[Message]], options: GenerationOptions
    ) -> list[Generation]:
        self.prompts.extend(prompts)
        out = []
        for prompt in prompts:
            text = self.replies.pop(0)
            tokens_in = sum(self.count_tokens(m["content"]) for m in prompt)
            out.append(Generation(text, tokens_in, self.count_tokens(text), 0.01, "stop"))
        return out

    def stream(self, prompt: list[Message], options: GenerationOptions) -> Iterator[str]:
        self.prompts.append(prompt)
        text = self.replies.pop(0)
        for word in text.split(" "):
            yield word + " "
