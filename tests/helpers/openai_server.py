"""A real OpenAI-compatible HTTP server on loopback for tests, backed by a real generator.

Not a mock: requests go over TCP to a stdlib HTTP server that runs the model. It serves
``GET /v1/models`` and ``POST /v1/chat/completions`` (plain and ``stream: true`` SSE).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ragtune.generate.base import GenerationOptions


def _options(body: dict[str, Any]) -> GenerationOptions:
    return GenerationOptions(
        max_new_tokens=int(body.get("max_tokens") or 64),
        temperature=float(body.get("temperature") or 0.0),
        stop=tuple(body.get("stop") or ()),
    )


def make_handler(generator: Any, model_name: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _json(self, code: int, data: dict[str, Any]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": model_name, "object": "model"}]})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": "not found"}})
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if body.get("model") != model_name:
                self._json(404, {"error": {"message": f"model {body.get('model')} not found"}})
                return
            options = _options(body)
            if body.get("stream"):
                self._stream(body["messages"], options)
                return
            gen = generator.generate([body["messages"]], options)[0]
            self._json(200, {
                "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                "model": model_name,
                "choices": [{"index": 0, "finish_reason": gen.finish_reason,
                             "message": {"role": "assistant", "content": gen.text}}],
                "usage": {"prompt_tokens": gen.tokens_in, "completion_tokens": gen.tokens_out,
                          "total_tokens": gen.tokens_in + gen.tokens_out},
            })  # fmt: skip

        def _stream(self, messages: list[dict[str, str]], options: GenerationOptions) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in generator.stream(messages, options):
                chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                         "created": int(time.time()), "model": model_name,
                         "choices": [{"index": 0, "delta": {"content": piece},
                                      "finish_reason": None}]}  # fmt: skip
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

    return Handler


@contextmanager
def serve(generator: Any, model_name: str = "smollm2") -> Iterator[str]:
    """Run the server on a free loopback port; yields its base URL (``.../v1``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(generator, model_name))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
