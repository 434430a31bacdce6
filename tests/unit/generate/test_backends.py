"""Backend construction and failure modes (no model loading here)."""

import importlib.util
import re
import socket
from pathlib import Path

import pytest

from ragtune.builtin_backends import load_builtins
from ragtune.config import Settings
from ragtune.errors import ConfigError, GenerationError, ModelUnavailableError
from ragtune.generate.base import GenerationOptions
from ragtune.generate.llamacpp import LlamaCppGenerator
from ragtune.generate.openai_compat import OpenAIGenerator
from ragtune.models import packaged_smollm2, resolve_model
from ragtune.registry import generators


def test_packaged_model_is_found() -> None:
    path = packaged_smollm2()
    assert path.name.endswith(".gguf") and path.read_bytes()[:4] == b"GGUF"
    assert resolve_model("") == path


def test_model_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="model not found"):
        resolve_model(str(tmp_path / "missing.gguf"))
    (tmp_path / "folder").mkdir()
    with pytest.raises(ModelUnavailableError, match=r"no config\.json"):
        resolve_model(str(tmp_path / "folder"))
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"NOPE" + b"\x00" * 100)
    with pytest.raises(ModelUnavailableError, match="not a valid GGUF"):
        resolve_model(str(bad))


def test_unknown_backend_lists_choices() -> None:
    load_builtins()
    with pytest.raises(ConfigError, match=r"choose one of: .*llamacpp, openai, .*transformers"):
        generators.create("vllm", Settings.load(None))


def test_llamacpp_missing_extra_is_explained(tmp_path: Path) -> None:
    if importlib.util.find_spec("llama_cpp") is not None:
        pytest.skip("llama-cpp-python is installed; the real backend is tested elsewhere")
    gen = LlamaCppGenerator("")
    with pytest.raises(ModelUnavailableError, match=r"ragtune\[llamacpp\]"):
        gen.count_tokens("x")
    with pytest.raises(ModelUnavailableError, match=r"needs a \.gguf file"):
        (tmp_path / "m").mkdir()
        (tmp_path / "m" / "config.json").write_text("{}")
        LlamaCppGenerator(str(tmp_path / "m"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_openai_unreachable_server_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    gen = OpenAIGenerator(url, "m", timeout_s=5)
    expected = f"cannot reach the OpenAI-compatible server at {url}"
    with pytest.raises(GenerationError, match=re.escape(expected)):
        gen.generate([[{"role": "user", "content": "hi"}]], GenerationOptions())
    with pytest.raises(GenerationError, match="cannot reach"):
        list(gen.stream([{"role": "user", "content": "hi"}], GenerationOptions()))


def test_openai_config_errors() -> None:
    with pytest.raises(ConfigError, match="http"):
        OpenAIGenerator("localhost:8000", "m")
    with pytest.raises(ConfigError, match="model name"):
        OpenAIGenerator("http://127.0.0.1:1/v1", "")
