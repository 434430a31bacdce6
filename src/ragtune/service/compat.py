"""Where ragtune meets the OpenAI chat API: which request options it refuses, and how its
own finish reasons become OpenAI's.

ragtune answers with one plain-text choice from its own prompt. An option it cannot honour
is refused (400, naming the option) rather than silently ignored, unless it asks for
nothing (``n=1``, ``tools=[]``, ``response_format={"type": "text"}``, ...). Options that
change nothing about the answer (``user``, ``metadata``, ``stream_options``, ...) are
accepted and ignored. Example::

    check_options({"n": 2})   # ServiceError 400: "unsupported option: n=2 (...)"
    openai_finish_reason("extracted")   # "stop"
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ragtune.service.errors import ServiceError

# OpenAI's chat completion finish reasons; clients (the openai package) validate them.
OPENAI_FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter",
                                   "function_call"})  # fmt: skip

# Sent by OpenAI clients and changing nothing about a ragtune answer: accepted, ignored.
IGNORED = frozenset({
    "user", "metadata", "store", "service_tier", "stream_options", "parallel_tool_calls",
    "safety_identifier", "prompt_cache_key", "prompt_cache_retention",
})  # fmt: skip

_NO_TOOLS = "ragtune makes no tool or function calls"
_OWN_DECODING = "ragtune applies its own repetition penalty"
# Options ragtune cannot honour: (the values that ask for nothing, why not).
NEUTRAL: dict[str, tuple[tuple[Any, ...], str]] = {
    "n": ((1,), "ragtune returns one choice"),
    "logprobs": ((False,), "ragtune returns no log-probabilities"),
    "top_logprobs": ((0,), "ragtune returns no log-probabilities"),
    "tools": (([],), _NO_TOOLS),
    "functions": (([],), _NO_TOOLS),
    "tool_choice": (("none", "auto"), _NO_TOOLS),
    "function_call": (("none", "auto"), _NO_TOOLS),
    "response_format": (({"type": "text"},), "ragtune answers in plain text with citations"),
    "presence_penalty": ((0,), _OWN_DECODING),
    "frequency_penalty": ((0,), _OWN_DECODING),
    "logit_bias": (({},), _OWN_DECODING),
    "modalities": ((["text"],), "ragtune answers in text only"),
}
# The chat options ragtune uses (ChatRequest's fields), for the hint.
USED = ("model", "messages", "stream", "max_tokens", "max_completion_tokens", "temperature",
        "top_p", "stop", "seed", "filters")  # fmt: skip


def check_options(extra: Mapping[str, Any]) -> None:
    """Refuse the request's unknown or unsupported options (``extra``: the fields ragtune's
    schema does not declare) with 400; null always means 'the default' and passes."""
    problems = [_problem(name, value) for name, value in extra.items()
                if value is not None and name not in IGNORED]  # fmt: skip
    problems = [p for p in problems if p]
    if problems:
        raise ServiceError(
            400, f"unsupported option{'s' if len(problems) > 1 else ''}: {'; '.join(problems)}",
            f"remove {'them' if len(problems) > 1 else 'it'}; ragtune uses {', '.join(USED)}",
        )  # fmt: skip


def _problem(name: str, value: Any) -> str:
    shown = _ascii(name)
    if name not in NEUTRAL:
        return f"{shown} is not supported (not an option ragtune knows)"
    neutral, why = NEUTRAL[name]
    if value in neutral:
        return ""
    return f"{shown}={json.dumps(value)[:80]} is not supported ({why})"  # JSON: ASCII-safe


def _ascii(text: str) -> str:
    """``text`` safe to put in a JSON error body (a lone surrogate would break encoding)."""
    return text.encode("ascii", "backslashreplace").decode("ascii")


def openai_finish_reason(reason: str | None) -> str:
    """OpenAI's finish reason for ragtune's: ``extracted`` (the extract strategy) and
    ``abstained`` (not enough evidence) are a normal ``stop``."""
    return reason if reason in OPENAI_FINISH_REASONS else "stop"
