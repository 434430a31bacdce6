"""OpenAI-compatible backend: vLLM, Ollama, llama.cpp server, ``ragtune serve``, OpenAI.

The API key is read from the environment variable *named* in ``generator.openai_api_key_env``
(never stored in config). Local servers usually need no key.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ragtune.config import Settings
from ragtune.errors import ConfigError, GenerationError
from ragtune.generate.base import Generation, GenerationOptions, Message, cut_at_stop
from ragtune.registry import generators


class OpenAIGenerator:
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 120.0,
        context_window: int = 0,
        concurrency: int = 4,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"openai_base_url must start with http:// or https://: {base_url!r}")
        if not model:
            raise ConfigError("the openai backend needs a model name", "set generator.model")
        self.base_url = base_url.rstrip("/")
        self.model_name = model
        self.api_key_env = api_key_env
        self.timeout_s = timeout_s
        self._context = context_window or 8192
        self.concurrency = max(1, concurrency)
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            from openai import OpenAI

            key = os.environ.get(self.api_key_env) or "not-needed"
            self._client = OpenAI(
                base_url=self.base_url, api_key=key, timeout=self.timeout_s, max_retries=1
            )
        return self._client

    @property
    def context_window(self) -> int:
        return self._context

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)  # no tokenizer for a remote model: ~4 chars per token

    def _request(self, options: GenerationOptions) -> dict[str, Any]:
        req: dict[str, Any] = {
            "model": self.model_name,
            "max_tokens": options.max_new_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
            "seed": options.seed,
        }
        if options.stop:
            req["stop"] = list(options.stop)[:4]  # the API accepts at most four
        return req

    def _translate(self, exc: Exception) -> GenerationError:
        import openai

        where = f"the OpenAI-compatible server at {self.base_url}"
        if isinstance(exc, openai.APITimeoutError):
            return GenerationError(f"{where} timed out after {self.timeout_s:g} s")
        if isinstance(exc, openai.APIConnectionError):
            return GenerationError(
                f"cannot reach {where}", "is it running? check generator.openai_base_url"
            )
        if isinstance(exc, openai.AuthenticationError):
            return GenerationError(
                f"{where} rejected the API key", f"set the env var {self.api_key_env}"
            )
        if isinstance(exc, openai.NotFoundError):
            return GenerationError(f"{where} has no model {self.model_name!r}")
        return GenerationError(f"{where} failed: {exc}")

    def _one(self, prompt: list[Message], options: GenerationOptions) -> Generation:
        import openai

        started = time.perf_counter()
        try:
            resp = self.client.chat.completions.create(messages=prompt, **self._request(options))
        except openai.OpenAIError as exc:
            raise self._translate(exc) from None
        choice = resp.choices[0]
        text, _ = cut_at_stop(choice.message.content or "", options.stop)
        usage = resp.usage
        return Generation(
            text.strip(),
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else self.count_tokens(text),
            time.perf_counter() - started,
            choice.finish_reason or "stop",
        )

    def generate(
        self, prompts: Sequence[list[Message]], options: GenerationOptions
    ) -> list[Generation]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(lambda p: self._one(p, options), prompts))

    def stream(self, prompt: list[Message], options: GenerationOptions) -> Iterator[str]:
        import openai

        try:
            # The context closes the HTTP response when this iterator is closed early, so
            # the upstream server sees the disconnect and stops generating.
            with self.client.chat.completions.create(
                messages=prompt, stream=True, **self._request(options)
            ) as events:
                for event in events:
                    if event.choices and event.choices[0].delta.content:
                        yield event.choices[0].delta.content
        except openai.OpenAIError as exc:
            raise self._translate(exc) from None


@generators.register("openai")
def _make(settings: Settings) -> OpenAIGenerator:
    g = settings.generator
    return OpenAIGenerator(
        g.openai_base_url, g.model, g.openai_api_key_env, g.timeout_s, g.context_window,
        concurrency=g.batch_size,
    )  # fmt: skip
