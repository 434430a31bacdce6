"""Helpers for service tests: a real uvicorn server on loopback, an echoing generator.

The echo generator answers with its whole prompt (context passages included), so any
passage the ACL failed to keep out would show up in the answer text, streamed or not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import uvicorn

from ragtune.config import Settings
from ragtune.generate.base import Generation, GenerationOptions, Message
from ragtune.registry import generators


class EchoGenerator:
    """Replies "[1] " + every prompt message; ``model = "delay=S"`` sleeps S s per word.
    ``max_active`` records the most generations that ever ran at the same time."""

    name = "echo"
    context_window = 4096
    active = 0
    max_active = 0
    _lock = threading.Lock()

    def __init__(self, model: str = "") -> None:
        self.model_name = "echo"
        self.delay = float(model.split("=", 1)[1]) if model.startswith("delay=") else 0.0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _reply(self, prompt: list[Message], options: GenerationOptions) -> list[str]:
        words = ("[1] " + " ".join(m["content"] for m in prompt)).split()
        return words[: max(options.max_new_tokens, 1) * 50]

    def generate(
        self, prompts: Sequence[list[Message]], options: GenerationOptions
    ) -> list[Generation]:
        out = []
        for prompt in prompts:
            words = self._reply(prompt, options)
            time.sleep(self.delay * len(words))
            out.append(Generation(" ".join(words), 10, len(words), 0.0, "stop"))
        return out

    def stream(self, prompt: list[Message], options: GenerationOptions) -> Iterator[str]:
        cls = EchoGenerator
        with cls._lock:
            cls.active += 1
            cls.max_active = max(cls.max_active, cls.active)
        try:
            for word in self._reply(prompt, options):
                time.sleep(self.delay or 0.0005)  # a real model takes time; overlaps would show
                yield word + " "
        finally:
            with cls._lock:
                cls.active -= 1


if "echo" not in generators:
    generators.register("echo")(lambda settings: EchoGenerator(settings.generator.model))


def echo_settings(**generator: Any) -> Settings:
    """Hash embedder + echo generator: unit speed, real composition path."""
    return Settings.load(
        None,
        embedder={"name": "hash"},
        chunking={"size": 64, "overlap": 8},
        generator={"backend": "echo", **generator},
    )


def hammer(
    url: str, key: str, path: str, bodies: Sequence[dict[str, Any]], clients: int, per_client: int
) -> tuple[list[float], list[str]]:
    """``clients`` threads each send ``per_client`` POSTs (cycling through ``bodies``) over
    keep-alive connections; returns (latencies in s, error descriptions)."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                          timeout=120) as c:  # fmt: skip
            for i in range(per_client):
                started = time.perf_counter()
                try:
                    r = c.post(path, json=bodies[(n + i) % len(bodies)])
                    ok = r.status_code == 200
                    problem = "" if ok else f"{r.status_code} {r.text[:200]}"
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                with lock:
                    latencies.append(time.perf_counter() - started)
                    if problem:
                        errors.append(problem)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


@contextmanager
def serve_app(app: Any, timeout_graceful: float = 10) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free loopback port; yields the base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=timeout_graceful,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)
