"""Which generator runs a registered adapter: on the openai backend, the server's model of
the adapter's registry name (vLLM's ``--lora-modules NAME=FOLDER``), for LoRA adapters only.
The real server is in tests/integration/test_vllm_serving.py (opt-in)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragtune.config import Settings
from ragtune.errors import UsageError
from ragtune.finetune.adapters import AdapterInfo, adapter_dir, save_metadata
from ragtune.generate.openai_compat import OpenAIGenerator
from ragtune.project import Project


def _register(project: Project, name: str, method: str, base: Path) -> None:
    folder = adapter_dir(project, name)
    folder.mkdir(parents=True)
    save_metadata(folder, AdapterInfo(name, method, str(base), str(base), "default"))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    base = tmp_path / "base"  # a model folder of its own: nothing to convert
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 8}))
    settings = Settings.load(None, embedder={"name": "hash"},
                             generator={"openai_base_url": "http://127.0.0.1:9/v1"})  # fmt: skip
    p = Project.init(tmp_path / "p", settings)
    _register(p, "knowledge", "lora", base)
    _register(p, "soft", "prefix", base)
    return p


def test_a_lora_adapter_is_asked_for_by_its_name(project: Project) -> None:
    generator = project.adapter_generator("knowledge", "openai")
    assert isinstance(generator, OpenAIGenerator)
    assert generator.model_name == "knowledge"
    assert generator.base_url == "http://127.0.0.1:9/v1"
    system = project.answer_system("ft+rag", "openai", adapter="knowledge")
    assert system.adapter == "knowledge"


def test_other_adapters_and_backends_are_refused_clearly(project: Project) -> None:
    with pytest.raises(UsageError, match="serves LoRA adapters only"):
        project.adapter_generator("soft", "openai")
    with pytest.raises(UsageError, match="transformers, llamacpp or openai backend"):
        project.adapter_generator("knowledge", "ollama")
