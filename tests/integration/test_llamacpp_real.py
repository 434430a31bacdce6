"""The llamacpp backend on the packaged GGUF, when the optional extra is installed."""

import importlib.util
from pathlib import Path

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


def test_threads_cover_prompt_evaluation_and_can_change() -> None:
    """One thread means one for prefill too (two pilot workers must not each take every
    core), and a worker left alone can take more without changing greedy answers."""
    gen = LlamaCppGenerator("", threads=1, context_window=1024)
    options = GenerationOptions(max_new_tokens=12)
    one = gen.generate([HELLO], options)[0].text
    params = gen._llm.context_params
    assert (params.n_threads, params.n_threads_batch) == (1, 1)
    gen.set_threads(2)
    assert gen.threads == 2 and gen.generate([HELLO], options)[0].text == one


def test_lora_export_to_gguf_runs_in_llamacpp(tmp_path: Path) -> None:
    import json

    from ragtune.finetune.config import TuneConfig
    from ragtune.finetune.export import export_gguf
    from ragtune.finetune.train import train
    from ragtune.project import Project

    project = Project.init(tmp_path / "p")
    folder = project.state_dir / "datasets" / "d"
    folder.mkdir(parents=True)
    turns = [
        {"role": "user", "content": "Greeting?"},
        {"role": "assistant", "content": "ZEBRA ZEBRA ZEBRA"},
    ]
    row = {"kind": "style", "messages": turns}
    (folder / "train.jsonl").write_text((json.dumps(row) + "\n") * 8)
    (folder / "validation.jsonl").write_text("")
    train(project, TuneConfig(name="z", dataset="d", max_steps=6, learning_rate=1e-2))
    path = export_gguf(project, "z")
    assert path.read_bytes()[:4] == b"GGUF"
    options = GenerationOptions(max_new_tokens=12)
    base = project.generator("llamacpp").generate([HELLO], options)[0].text
    tuned = project.adapter_generator("z", "llamacpp")
    assert tuned.model_name.endswith("+z")
    assert tuned.generate([HELLO], options)[0].text != base
