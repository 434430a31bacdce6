"""The generator protocol, its options, and what a generation returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ragtune.config import Settings
from ragtune.errors import ConfigError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}


@dataclass(frozen=True)
class GenerationOptions:
    """Decoding options shared by every backend. Greedy by default, so runs reproduce."""

    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    repetition_penalty: float = 1.1
    stop: tuple[str, ...] = ()
    seed: int = 0
    # transformers applies the repetition penalty to the prompt's tokens too, which keeps a
    # small model from quoting the passages it was given; False counts the answer's only.
    penalize_prompt: bool = False

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not 0.0 <= self.temperature <= 2.0:
            raise ConfigError(f"temperature must be in [0, 2], got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.repetition_penalty < 1.0:
            raise ConfigError(f"repetition_penalty must be >= 1, got {self.repetition_penalty}")
        if any(not s for s in self.stop):
            raise ConfigError("stop sequences must not be empty strings")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0.0

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GenerationOptions:
        """Build from a dict; an unknown key raises with the valid ones."""
        valid = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise ConfigError(
                f"unknown generation option(s): {', '.join(unknown)}",
                f"valid options: {', '.join(sorted(valid))}",
            )
        values = dict(data)
        if "stop" in values:
            values["stop"] = tuple(values["stop"])
        return cls(**values)

    def merged(self, overrides: Mapping[str, Any] | None) -> GenerationOptions:
        """A copy with ``overrides`` applied; strings (from the CLI) are converted by field
        type, and an unknown key raises with the valid ones."""
        if not overrides:
            return self
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for key, value in overrides.items():
            if key in values and isinstance(value, str):
                value = _convert(key, value, values[key])
            values[key] = value  # an unknown key makes from_mapping raise, listing valid ones
        return GenerationOptions.from_mapping(values)

    @classmethod
    def from_settings(cls, settings: Settings) -> GenerationOptions:
        g = settings.generator
        return cls(
            max_new_tokens=g.max_new_tokens, temperature=g.temperature, top_p=g.top_p,
            repetition_penalty=g.repetition_penalty, stop=tuple(g.stop), seed=g.seed,
            penalize_prompt=g.penalize_prompt,
        )  # fmt: skip


def _convert(key: str, value: str, current: Any) -> Any:
    try:
        if isinstance(current, tuple):
            return tuple(v for v in value.split("|") if v)
        if isinstance(current, bool):
            return value.lower() in ("1", "true", "yes")
        return type(current)(value)
    except ValueError:
        raise ConfigError(
            f"option {key}: cannot read {value!r} as {type(current).__name__}"
        ) from None


@dataclass
class Generation:
    """One completion. ``seconds`` is the wall time the caller waited (the whole batch)."""

    text: str
    tokens_in: int
    tokens_out: int
    seconds: float
    finish_reason: str  # "stop" (end of turn or a stop sequence) | "length"


class Generator(Protocol):
    name: str
    model_name: str

    @property
    def context_window(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def generate(
        self, prompts: Sequence[list[Message]], options: GenerationOptions
    ) -> list[Generation]: ...

    def stream(self, prompt: list[Message], options: GenerationOptions) -> Iterator[str]: ...


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Text before the first stop sequence, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
