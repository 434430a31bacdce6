"""llama.cpp backend (optional extra ``ragtune[llamacpp]``): runs GGUF files directly, ~8x
faster decoding than transformers on CPU. llama-cpp-python compiles llama.cpp on install
(~12 min), which is why it is not part of the default install."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from ragtune.config import Settings
from ragtune.errors import GenerationError, ModelUnavailableError
from ragtune.generate.base import Generation, GenerationOptions, Message, cut_at_stop
from ragtune.registry import generators


class LlamaCppGenerator:
    name = "llamacpp"

    def __init__(
        self, model: str = "", threads: int = 0, context_window: int = 0, lora_path: str = ""
    ) -> None:
        from ragtune.models import resolve_model

        path = resolve_model(model)
        if path.is_dir():
            raise ModelUnavailableError(
                f"the llamacpp backend needs a .gguf file, got the folder {path}",
                "convert it with llama.cpp's convert_hf_to_gguf.py, or use --backend transformers",
            )
        self.path = path
        self.model_name = path.stem
        self.threads = threads or (os.cpu_count() or 2)
        self.n_ctx = context_window or 4096
        self.lora_path = lora_path
        self._llm: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ModelUnavailableError(
                    "llama-cpp-python is not installed",
                    "pip install 'ragtune[llamacpp]' (compiles llama.cpp, ~12 min)",
                ) from None
            # n_threads_batch (prompt evaluation) defaults to every core, not n_threads:
            # two worker processes would each take both cores for prefill.
            kwargs: dict[str, Any] = {
                "n_ctx": self.n_ctx,
                "n_threads": self.threads,
                "n_threads_batch": self.threads,
            }
            if self.lora_path:
                kwargs["lora_path"] = self.lora_path
            self._llm = Llama(model_path=str(self.path), verbose=False, **kwargs)
        return self._llm

    def set_threads(self, threads: int) -> None:
        """Use ``threads`` from the next request on (a worker left alone takes the idle
        cores; see ``ragtune.workers``)."""
        if threads < 1 or threads == self.threads:
            return
        with self._lock:
            self.threads = threads
            if self._llm is not None:
                self._llm._ctx.set_n_threads(threads, threads)

    @property
    def context_window(self) -> int:
        return self.n_ctx

    def count_tokens(self, text: str) -> int:
        return len(self._load().tokenize(text.encode("utf-8"), add_bos=False))

    def _kwargs(self, options: GenerationOptions) -> dict[str, Any]:
        return {
            "max_tokens": options.max_new_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
            "repeat_penalty": options.repetition_penalty,
            "stop": list(options.stop) or None,
            "seed": options.seed,
        }

    def generate(
        self, prompts: Sequence[list[Message]], options: GenerationOptions
    ) -> list[Generation]:
        llm = self._load()
        out = []
        for prompt in prompts:
            started = time.perf_counter()
            with self._lock:
                # A fresh KV cache per request: reusing a cached prefix evaluates the prompt in
                # different batches and changes greedy output from one call to the next.
                llm.reset()
                try:
                    resp = llm.create_chat_completion(messages=prompt, **self._kwargs(options))
                except ValueError as exc:  # e.g. prompt longer than n_ctx
                    raise GenerationError(f"llama.cpp refused the prompt: {exc}") from None
            choice, usage = resp["choices"][0], resp["usage"]
            text, _ = cut_at_stop(choice["message"]["content"] or "", options.stop)
            out.append(
                Generation(text.strip(), usage["prompt_tokens"], usage["completion_tokens"],
                           time.perf_counter() - started, choice.get("finish_reason") or "stop")
            )  # fmt: skip
        return out

    def stream(self, prompt: list[Message], options: GenerationOptions) -> Iterator[str]:
        llm = self._load()
        with self._lock:
            llm.reset()  # see generate()
            for part in llm.create_chat_completion(
                messages=prompt, stream=True, **self._kwargs(options)
            ):
                piece = part["choices"][0]["delta"].get("content")
                if piece:
                    yield piece


@generators.register("llamacpp")
def _make(settings: Settings) -> LlamaCppGenerator:
    g = settings.generator
    return LlamaCppGenerator(g.model, g.threads, g.context_window)
