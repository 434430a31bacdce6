"""Training the real packaged SmolLM2 for a few steps through PEFT + Trainer."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.conftest import EXAMPLES

from ragtune.cli.main import cli
from ragtune.finetune.config import TuneConfig
from ragtune.finetune.rows import TrainingRow
from ragtune.finetune.train import ExampleEncoder, _trainer, _wrap, load_base, train
from ragtune.generate.base import GenerationOptions
from ragtune.project import Project

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # real training; slow under load
QUESTION = [{"role": "user", "content": "How many days of annual leave do I get?"}]


def style_row(example: dict[str, str]) -> TrainingRow:
    """A style training row from a bundled question/answer example."""
    messages = [{"role": "user", "content": example["question"]},
                {"role": "assistant", "content": example["answer"]}]  # fmt: skip
    return TrainingRow(example["question"], "style", example["question"], messages)


def style_rows() -> list[dict[str, Any]]:
    with open(EXAMPLES / "style.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def write_dataset(
    project: Project, name: str, pairs: list[tuple[str, str]], n_val: int = 2
) -> None:
    folder = project.state_dir / "datasets" / name
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        {"id": f"{name}{i}", "kind": "style", "fact_id": f"{name}{i}", "source": None,
         "test_kind": None, "messages": [{"role": "user", "content": q},
                                         {"role": "assistant", "content": a}]}
        for i, (q, a) in enumerate(pairs)
    ]  # fmt: skip
    splits = {"train": rows[n_val:], "validation": rows[:n_val], "test": []}
    for split, part in splits.items():
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in part)
        (folder / f"{split}.jsonl").write_text(text)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project.init(tmp_path / "p")
    write_dataset(p, "style", [(r["question"], r["answer"]) for r in style_rows()[:10]])
    shout = [(r["question"], "ZEBRA ZEBRA ZEBRA. " * 3) for r in style_rows()[10:20]]
    write_dataset(p, "shout", shout)
    return p


def test_loss_falls_and_reload_gives_identical_logits(project: Project, tmp_path: Path) -> None:
    import torch
    from peft import PeftModel

    config = TuneConfig(name="t", max_steps=4, learning_rate=2e-3, batch_size=4)
    model, tok, folder = load_base("", "lora")
    encoder = ExampleEncoder(tok, 128, "SYS")
    rows = [style_row(r) for r in style_rows()[:8]]
    data = [encoder(r) for r in rows]
    assert all(x["labels"][0] == -100 and x["labels"][-1] != -100 for x in data)  # answer only
    model = _wrap(model, config, folder)
    trainer = _trainer(model, tok, config, tmp_path / "run", data, [], None)
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 4 and losses[-1] < losses[0]
    model.save_pretrained(tmp_path / "adapter")
    fresh, _, _ = load_base("", "lora")
    reloaded = PeftModel.from_pretrained(fresh, tmp_path / "adapter")
    batch = torch.tensor([data[0]["input_ids"]])
    model.eval()
    reloaded.eval()
    with torch.no_grad():
        assert torch.equal(model(batch).logits, reloaded(batch).logits)


def test_two_adapters_switch_in_one_process(project: Project) -> None:
    for name, dataset in (("a-style", "style"), ("a-shout", "shout")):
        info = train(project, TuneConfig(name=name, dataset=dataset, max_steps=6,
                                         learning_rate=1e-2, batch_size=4))  # fmt: skip
        assert info.train_losses[-1] < info.train_losses[0]
        assert (project.state_dir / "adapters" / name / "adapter_model.safetensors").exists()
    options = GenerationOptions(max_new_tokens=16)
    base_gen = project.generator()
    shout = project.adapter_generator("a-shout")
    style = project.adapter_generator("a-style")
    assert shout.base is style.base is base_gen  # type: ignore[attr-defined]
    import torch

    model = base_gen._model  # type: ignore[attr-defined]
    weights = {n: t.detach().clone() for n, t in model.named_parameters() if "lora_" not in n}
    before = base_gen.generate([QUESTION], options)[0].text
    a1 = shout.generate([QUESTION], options)[0].text
    assert base_gen._merged == "a-shout"  # type: ignore[attr-defined]  # folded in, kept
    b1 = style.generate([QUESTION], options)[0].text
    assert len({before, a1, b1}) == 3, (before, a1, b1)
    assert "ZEBRA" in a1
    assert base_gen.generate([QUESTION], options)[0].text == before
    assert shout.generate([QUESTION], options)[0].text == a1
    base_gen.generate([QUESTION], options)  # unmerged: the base weights are restored exactly
    for name, tensor in model.named_parameters():
        if "lora_" not in name:
            assert torch.equal(tensor, weights[name]), name
    answer = project.ask("How many days of annual leave do I get?", strategy="ft",
                         adapter="a-shout", options={"max_new_tokens": 16})  # fmt: skip
    assert answer.strategy == "ft" and answer.adapter == "a-shout" and answer.text == a1


def test_cli_tune_adapters_and_errors(project: Project) -> None:
    root = str(project.root)

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["-C", root, *args])

    ok = run("tune", "--name", "c1", "--dataset", "style", "--max-steps", "2", "--json")
    assert ok.exit_code == 0, ok.output
    meta = json.loads(ok.stdout)
    assert meta["steps"] == 2 and meta["method"] == "lora" and meta["peak_rss_mb"] > 0
    probe = meta["forgetting"]
    assert probe["base_perplexity"] > 1 and 0 <= probe["adapter_accuracy"] <= 1
    assert probe["base_accuracy"] >= 0.5  # the probe is answerable by the base model
    refused = run("tune", "--name", "c3", "--dataset", "style", "--max-steps", "1",
                  "--max-forgetting", "-99")  # fmt: skip
    assert refused.exit_code != 0 and "not registered" in refused.output
    assert not (project.state_dir / "adapters" / "c3").exists()
    listed = run("adapters", "list")
    assert "c1" in listed.output and "1 adapters" in listed.output
    assert json.loads(run("adapters", "show", "c1").stdout)["dataset"] == "style"
    for args, message in [
        (("tune", "--name", "c1", "--dataset", "style"), "adapter 'c1' exists"),
        (("tune", "--name", "c2", "--dataset", "nope"), "dataset 'nope' has no train split"),
        (("tune", "--name", "c2", "--dataset", "style", "--method", "qlora"), "use --method lora"),
        (
            (
                "tune",
                "--name",
                "c2",
                "--dataset",
                "style",
                "--target-modules",
                "warp_drive",
                "--max-steps",
                "1",
            ),
            "cannot apply lora to this model",
        ),
        (("tune", "--name", "bad name", "--dataset", "style"), "invalid adapter name"),
        (("ask", "x", "--strategy", "ft"), "the ft strategy needs an adapter"),
        (("ask", "x", "--strategy", "ft", "--adapter", "ghost"), "no adapter named 'ghost'"),
    ]:
        bad = run(*args)
        assert bad.exit_code != 0 and message in bad.output, bad.output
        assert "Traceback" not in bad.output
    assert run("adapters", "rm", "c1").exit_code == 0
    assert "0 adapters" in run("adapters", "list").output


def test_sigkill_after_checkpoint_then_resume(project: Project) -> None:
    cmd = [sys.executable, "-m", "ragtune.cli.main", "-C", str(project.root), "tune",
           "--name", "r", "--dataset", "style", "--epochs", "3", "--batch-size", "4"]  # fmt: skip
    env = {**os.environ, "RAGTUNE_CACHE": os.environ["RAGTUNE_CACHE"]}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    checkpoint = project.state_dir / "runs" / "r" / "checkpoints" / "checkpoint-2"
    deadline = time.monotonic() + 300
    while not (checkpoint / "trainer_state.json").exists() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        time.sleep(0.2)
    time.sleep(0.5)  # let the checkpoint finish writing
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (project.state_dir / "adapters" / "r").exists()
    done = subprocess.run([*cmd, "--resume", "--json"], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    meta = json.loads(done.stdout)
    assert meta["steps"] == 6 and meta["epochs"] == pytest.approx(3.0)  # 8 examples / 4, x3


@pytest.mark.parametrize("method", ["prefix", "prompt", "full"])
def test_other_methods_train_save_and_answer(project: Project, method: str) -> None:
    info = train(project, TuneConfig(name=f"m-{method}", dataset="style", method=method,
                                     max_steps=2, virtual_tokens=8))  # fmt: skip
    assert info.method == method and info.steps == 2 and len(info.train_losses) == 2
    assert info.forgetting["adapter_perplexity"] > 1
    gen = project.adapter_generator(f"m-{method}")
    text = gen.generate([QUESTION], GenerationOptions(max_new_tokens=8))[0].text
    assert text and gen.model_name.endswith(f"m-{method}")


def test_merge_matches_the_adapter(project: Project, tmp_path: Path) -> None:
    import torch

    from ragtune.finetune.loading import load_with_adapter, merge_adapter
    from ragtune.finetune.train import load_base

    train(project, TuneConfig(name="mg", dataset="shout", max_steps=4, learning_rate=1e-2))
    out = merge_adapter(project, "mg", tmp_path / "merged")
    peft_model, tok = load_with_adapter(project, "mg")
    merged, _, _ = load_base(str(out), "lora")
    ids = tok("How many days of leave?", return_tensors="pt")["input_ids"]
    peft_model.eval()
    merged.eval()
    with torch.no_grad():
        assert torch.allclose(peft_model(ids).logits, merged(ids).logits, atol=1e-3)
    with pytest.raises(Exception, match="not empty"):
        merge_adapter(project, "mg", tmp_path / "merged")


def test_answer_loss_equals_the_full_loss_with_its_gradients() -> None:
    """The labelled-positions loss (fewer logits) is the model's own loss, value and grads."""
    import torch
    from transformers import DataCollatorForSeq2Seq

    from ragtune.finetune.loss import answer_loss

    model, tok, folder = load_base("", "lora")
    model = _wrap(model, TuneConfig(name="t"), folder)
    model.eval()  # LoRA dropout off: both losses must see the same network
    encoder = ExampleEncoder(tok, 128, "SYS")
    rows = [style_row(r) for r in style_rows()[:3]]
    raw = TrainingRow("raw-1", "raw", "raw-1", text="Plain text: every token carries a label here.")
    batch = DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)(
        [encoder(r) for r in [*rows, raw]]
    )
    assert (batch["labels"] == -100).any()  # padding and prompts are masked

    def grads(loss: Any) -> list[Any]:
        model.zero_grad()
        loss.backward()
        return [p.grad.clone() for p in model.parameters() if p.requires_grad]

    full = model(**batch).loss
    g_full = grads(full)
    mine, out = answer_loss(model, dict(batch))
    assert out.logits.shape[0] == int((batch["labels"][:, 1:] != -100).sum())
    assert torch.allclose(mine, full, atol=1e-5), (mine, full)
    mine_grads = grads(mine)
    assert len(mine_grads) == len(g_full)
    assert all(
        torch.allclose(a, b, rtol=1e-4, atol=1e-7) for a, b in zip(mine_grads, g_full, strict=True)
    )
    count = (batch["labels"][:, 1:] != -100).sum()
    scaled, _ = answer_loss(model, dict(batch), num_items_in_batch=count * 2)
    assert torch.allclose(scaled, full / 2, atol=1e-5)


def test_trainer_dataloader_batches_by_length(tmp_path: Path) -> None:
    """The real Trainer + accelerate DataLoader uses the length-window sampler: every
    example once per epoch, much less padding than its own random sampler, which
    ``group_lengths=False`` keeps."""
    from ragtune.finetune.sampler import padding_share

    model, tok, _ = load_base("", "lora")
    rows = [{"input_ids": [1] * n, "attention_mask": [1] * n, "labels": [1] * n}
            for n in [8 + (i * 37) % 120 for i in range(96)]]  # fmt: skip
    lengths = [len(r["input_ids"]) for r in rows]

    def batches(group: bool) -> list[list[int]]:
        config = TuneConfig(name="s", max_steps=24, batch_size=4, group_lengths=group)
        trainer = _trainer(model, tok, config, tmp_path / str(group), rows, [], None)
        loader = trainer.get_train_dataloader()
        return [[int(m.sum()) for m in batch["attention_mask"]] for batch in loader]

    grouped, plain = batches(True), batches(False)
    assert sorted(n for b in grouped for n in b) == sorted(lengths)

    def share(bs: list[list[int]]) -> float:
        flat = [n for b in bs for n in b]
        return padding_share(flat, list(range(len(flat))), 4)

    assert share(grouped) < 0.5 * share(plain), (share(grouped), share(plain))
