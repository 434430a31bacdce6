"""The llamacpp backend on the packaged GGUF, when the optional extra is installed."""

import importlib.util

import pytest

from ragtune.generate.base import GenerationOptions
from ragtune.generate.llamacpp import LlamaCppGenerator

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="optional extra ragtune[llamacpp] not installed",
    ),
]
HELLO = [
    {"role": "system", "content": "You are a concise assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]


def test_generate_stream_and_limits() -> None:
    gen = LlamaCppGenerator("", context_window=2048)
    options = GenerationOptions(max_new_tokens=24)
    whole = gen.generate([HELLO], options)[0]
    assert "Paris" in whole.text and 0 < whole.tokens_out <= 24 and whole.tokens_in > 10
    assert "".join(gen.stream(HELLO, options)).strip() == whole.text
    capped = gen.generate([HELLO], GenerationOptions(max_new_tokens=3))[0]
    assert capped.tokens_out == 3 and capped.finish_reason == "length"
    assert gen.count_tokens("hello world") >= 2
