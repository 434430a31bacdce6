"""Fast checks of the training configuration, dataset reading and adapter registry."""

import json
from pathlib import Path

import pytest

from ragtune.errors import ConfigError, NotFoundError, RagtuneError, UsageError
from ragtune.finetune.adapters import AdapterInfo, check_base, list_adapters, load_info
from ragtune.finetune.config import DEFAULT_LR, TuneConfig
from ragtune.finetune.forgetting import (
    ProbeScore,
    base_score,
    check_limit,
    probe_questions,
    report,
)
from ragtune.finetune.train import load_examples
from ragtune.project import Project


def test_config_defaults_and_validation() -> None:
    assert TuneConfig(name="a").learning_rate == DEFAULT_LR["lora"]
    assert TuneConfig(name="a", method="prompt").learning_rate == DEFAULT_LR["prompt"]
    for kwargs, message in [
        ({"name": "no spaces"}, "invalid adapter name"),
        ({"name": "a", "method": "dora"}, "choose one of: lora, qlora"),
        ({"name": "a", "batch_size": 0}, "batch_size"),
        ({"name": "a", "max_length": 8}, "max_length"),
        ({"name": "a", "kinds": ()}, "kinds"),
    ]:
        with pytest.raises(ConfigError, match=message):
            TuneConfig(**kwargs)  # type: ignore[arg-type]


def test_dataset_reading_errors(hash_project: Project) -> None:
    with pytest.raises(NotFoundError, match="ragtune data build"):
        load_examples(hash_project, "missing", "train", ("qa",))
    folder = hash_project.state_dir / "datasets" / "d"
    folder.mkdir(parents=True)
    good = {"kind": "qa", "messages": [{"role": "user", "content": "q"}]}
    (folder / "train.jsonl").write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(UsageError, match=r"train\.jsonl:2: not valid JSON"):
        load_examples(hash_project, "d", "train", ("qa",))
    (folder / "train.jsonl").write_text(json.dumps(good) + "\n" + json.dumps({"kind": "qa"}))
    with pytest.raises(UsageError, match="needs 'messages' or 'text'"):
        load_examples(hash_project, "d", "train", ("qa",))
    (folder / "train.jsonl").write_text(json.dumps(good) + "\n")
    assert load_examples(hash_project, "d", "train", ("style",)) == []


def test_adapter_registry_and_base_mismatch(hash_project: Project, tmp_path: Path) -> None:
    assert list_adapters(hash_project) == []
    with pytest.raises(NotFoundError, match="adapters list"):
        load_info(hash_project, "ghost")
    trained_on, other = tmp_path / "trained", tmp_path / "other"
    for folder, hidden in ((trained_on, 576), (other, 2048)):
        folder.mkdir()
        config = {"model_type": "llama", "hidden_size": hidden, "num_hidden_layers": 30}
        (folder / "config.json").write_text(json.dumps(config))
    info = AdapterInfo("x", "lora", "my-model", str(trained_on), "d")
    check_base(info, trained_on)
    with pytest.raises(RagtuneError, match=r"hidden 576.*hidden 2048"):
        check_base(info, other)
    assert AdapterInfo.from_dict({**info.to_dict(), "unknown_future_field": 1}) == info


def test_base_probe_is_measured_once_per_model_and_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAGTUNE_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    calls: list[str] = []

    def measure(tag: str) -> ProbeScore:
        calls.append(tag)
        return ProbeScore(9.5, 0.75)

    assert base_score(model, "lora", "sys", lambda: measure("a")) == ProbeScore(9.5, 0.75)
    assert base_score(model, "prefix", "sys", lambda: measure("b")) == ProbeScore(9.5, 0.75)
    assert calls == ["a"]  # same weights, precision and system message: cached
    base_score(model, "qlora", "sys", lambda: measure("4bit"))
    base_score(model, "lora", "other system", lambda: measure("system"))
    (model / "model.safetensors").write_bytes(b"new weights!")
    base_score(model, "lora", "sys", lambda: measure("weights"))
    assert calls == ["a", "4bit", "system", "weights"]
    for cached in (tmp_path / "cache" / "probe").glob("*.json"):
        cached.write_text("{not json")  # a damaged cache entry is measured again
    base_score(model, "lora", "sys", lambda: measure("again"))
    assert calls[-1] == "again"


def test_forgetting_limit() -> None:
    assert len(probe_questions()) == 20
    result = report(ProbeScore(10.0, 0.8), ProbeScore(12.0, 0.7))
    assert result["perplexity_increase_pct"] == pytest.approx(20.0)
    assert result["accuracy_drop"] == pytest.approx(0.1)
    check_limit("a", result, None)
    check_limit("a", result, 25.0)
    with pytest.raises(RagtuneError, match=r"rose 20\.0 % \(10\.00 -> 12\.00\)"):
        check_limit("a", result, 10.0)


def test_top_layers_names_the_upper_layers(tmp_path: Path) -> None:
    import torch

    from ragtune.finetune.train import linear_names, top_layers

    (tmp_path / "config.json").write_text(json.dumps({"num_hidden_layers": 30}))
    assert top_layers(0, tmp_path) is None
    assert top_layers(15, tmp_path) == list(range(15, 30))
    assert top_layers(30, tmp_path) is None and top_layers(40, tmp_path) is None
    with pytest.raises(ConfigError, match="top_layers"):
        TuneConfig(name="x", top_layers=-1)

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q_proj, self.up_proj = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
            self.norm = torch.nn.LayerNorm(2)

    model = torch.nn.Module()
    model.layers = torch.nn.ModuleList([Block(), Block()])
    model.lm_head = torch.nn.Linear(2, 3)
    assert linear_names(model) == ["q_proj", "up_proj"]
