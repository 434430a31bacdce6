"""Serving at scale, opt-in: ragtune's ``openai`` backend on a real vLLM server (CPU build)
on loopback, with a LoRA adapter trained by ragtune served by its registry name.

Runs only with ``RAGTUNE_TEST_VLLM=1`` and vLLM installed (``make test-vllm`` does both;
vLLM pins its own transformers, so it has its own environment, ``.venv-vllm``). The server
takes ~45 s to start on 2 cores.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import EXAMPLES
from tests.helpers.vllm_server import vllm_python, vllm_server
from tests.integration.test_finetune_real import style_rows, write_dataset

from ragtune.config import Settings
from ragtune.finetune.config import TuneConfig
from ragtune.finetune.train import train
from ragtune.generate.base import GenerationOptions
from ragtune.models import hf_folder
from ragtune.project import Project

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        os.environ.get("RAGTUNE_TEST_VLLM") != "1",
        reason="opt-in: RAGTUNE_TEST_VLLM=1 (make test-vllm)",
    ),
]
QUESTION = "How many days of annual leave do I get?"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    python = vllm_python()
    if python is None:
        pytest.fail("RAGTUNE_TEST_VLLM=1 but vLLM is not installed: run make setup-vllm")
    root = tmp_path_factory.mktemp("vllm")
    project = Project.init(root / "p")
    project.ingest([EXAMPLES / "docs" / "hr"])
    shout = [(r["question"], "ZEBRA ZEBRA ZEBRA. " * 3) for r in style_rows()[:12]]
    write_dataset(project, "shout", shout)
    train(project, TuneConfig(name="a-shout", dataset="shout", max_steps=6, learning_rate=1e-2,
                              batch_size=4))  # fmt: skip
    adapter = project.state_dir / "adapters" / "a-shout"
    model = hf_folder("")
    with vllm_server(python, model, "smollm2", {"a-shout": adapter}, root / "vllm.log") as url:
        settings = Settings.load(None, generator={"openai_base_url": url, "model": "smollm2"})
        project.close()
        yield {"project": Project.open(root / "p", settings), "url": url}
    shutil.rmtree(root, ignore_errors=True)


def test_rag_answers_with_citations_through_vllm(served: dict[str, Any]) -> None:
    project: Project = served["project"]
    answer = project.ask("What is the notice period for resignation?", strategy="rag",
                         backend="openai")  # fmt: skip
    assert answer.citations and "notice period" in answer.text.lower()
    refused = project.ask("How do I report a security incident?", strategy="rag", backend="openai")
    assert refused.abstained  # nothing in the HR documents: declined before the server


def test_a_lora_adapter_is_served_by_its_registry_name(served: dict[str, Any]) -> None:
    project: Project = served["project"]
    tuned = project.ask(QUESTION, strategy="ft", adapter="a-shout", backend="openai")
    base = project.ask(QUESTION, strategy="base", backend="openai")
    assert "ZEBRA" in tuned.text  # the server applied the adapter ...
    assert "ZEBRA" not in base.text  # ... and only when asked for it by name
    local = project.ask(QUESTION, strategy="ft", adapter="a-shout", backend="transformers")
    assert "ZEBRA" in local.text  # what the same adapter says in process


def test_concurrent_requests_are_batched_by_the_server(served: dict[str, Any]) -> None:
    project: Project = served["project"]
    generator = project.generator("openai", "smollm2")
    prompts = [[{"role": "user", "content": f"Count to {n}."}] for n in range(3, 11)]
    out = generator.generate(prompts, GenerationOptions(max_new_tokens=16))
    assert len(out) == 8 and all(g.text.strip() for g in out)
