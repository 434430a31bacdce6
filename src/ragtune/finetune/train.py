"""Training through PEFT and the transformers Trainer (no hand-written loop).

Loss on answer tokens only, dynamic padding, validation and a checkpoint each epoch, early
stopping on validation loss, ``resume`` from the last checkpoint after a crash, seeded.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import ConfigError, NotFoundError, UsageError
from ragtune.finetune import abstention, forgetting
from ragtune.finetune.adapters import AdapterInfo, adapter_dir, install, save_metadata
from ragtune.finetune.config import TuneConfig
from ragtune.finetune.rows import TrainingRow

if TYPE_CHECKING:
    from ragtune.project import Project

# (step, total steps, latest training loss or None)
TrainProgress = Callable[[int, int, float | None], None]


def dataset_dir(project: Project, name: str) -> Path:
    return project.paths.dataset(name)


def load_examples(
    project: Project, dataset: str, split: str, kinds: tuple[str, ...]
) -> list[TrainingRow]:
    path = dataset_dir(project, dataset) / f"{split}.jsonl"
    if not path.exists():
        raise NotFoundError(
            f"dataset {dataset!r} has no {split} split ({path})",
            "build one with `ragtune data build`",
        )
    rows = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise UsageError(
                    f"{path}:{number}: not valid JSON ({exc.args[0]})",
                    "rebuild the dataset with `ragtune data build --force`",
                ) from None
            if not isinstance(row, dict) or ("messages" not in row and "text" not in row):
                raise UsageError(f"{path}:{number}: an example needs 'messages' or 'text'")
            rows.append(TrainingRow.from_dict(row))
    return [r for r in rows if r.kind in kinds]


class ExampleEncoder:
    """Chat-formatted examples -> token ids with labels only on the answer (and its end
    token). Prompts get the same system message the ``ft`` strategy sends at run time."""

    def __init__(self, tokenizer: Any, max_length: int, system: str) -> None:
        self.tok = tokenizer
        self.max_length = max_length
        self.system = system

    def prompt_messages(self, messages: list[dict[str, str]]) -> list[dict[str, str]]:
        if messages and messages[0]["role"] == "system":
            return messages
        return [{"role": "system", "content": self.system}, *messages]

    def __call__(self, example: TrainingRow) -> dict[str, list[int]]:
        tok = self.tok
        if example.kind == "raw":
            ids = tok(example.text or "", add_special_tokens=False)["input_ids"][: self.max_length]
            return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": list(ids)}
        messages = self.prompt_messages(example.messages or [])
        if not messages or messages[-1]["role"] != "assistant":
            raise UsageError(f"example {example.id} does not end with an assistant turn")
        prompt = tok.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=False)
        answer = messages[-1]["content"] + (tok.eos_token or "")
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        a_ids = tok(answer, add_special_tokens=False)["input_ids"][: self.max_length - 8]
        p_ids = p_ids[-(self.max_length - len(a_ids)) :]  # cut the prompt's start, never the answer
        ids = p_ids + a_ids
        return {
            "input_ids": ids,
            "attention_mask": [1] * len(ids),
            "labels": [-100] * len(p_ids) + a_ids,
        }


def peft_config(config: TuneConfig, model_dir: Path, model: Any = None) -> Any:
    """The PEFT config for a method (``None`` for full fine-tuning); ``model`` names the
    linear layers "all-linear" stands for when only the top layers are adapted (PEFT takes
    a layer subset with a list of module names only)."""
    import peft

    if config.method in ("lora", "qlora"):
        targets: Any = list(config.target_modules)
        if targets == ["all-linear"]:
            targets = "all-linear"
            if config.top_layers and model is not None:
                targets = linear_names(model)
        return peft.LoraConfig(
            r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
            target_modules=targets, task_type="CAUSAL_LM",
            layers_to_transform=top_layers(config.top_layers, model_dir),
        )  # fmt: skip
    if config.method == "prefix":
        # A projected prefix starts far less disruptive than a raw random one on small models.
        return peft.PrefixTuningConfig(
            num_virtual_tokens=config.virtual_tokens, prefix_projection=True,
            task_type="CAUSAL_LM",
        )  # fmt: skip
    if config.method == "prompt":
        return peft.PromptTuningConfig(
            num_virtual_tokens=config.virtual_tokens, task_type="CAUSAL_LM",
            prompt_tuning_init=peft.PromptTuningInit.TEXT,
            prompt_tuning_init_text="Answer the question about the company's documents.",
            tokenizer_name_or_path=str(model_dir),
        )  # fmt: skip
    return None


def linear_names(model: Any) -> list[str]:
    """The distinct names of the model's linear layers, but its output head."""
    import torch

    names = {n.rsplit(".", 1)[-1] for n, m in model.named_modules()
             if isinstance(m, torch.nn.Linear) and "lm_head" not in n}  # fmt: skip
    return sorted(names)


def top_layers(n: int, model_dir: Path) -> list[int] | None:
    """The indices of the model's top ``n`` transformer layers (None = every layer)."""
    if n <= 0:
        return None
    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    total = int(config.get("num_hidden_layers") or 0)
    if n >= total:
        return None
    return list(range(total - n, total))


def check_qlora() -> None:
    import importlib.util

    import torch

    if not torch.cuda.is_available() or importlib.util.find_spec("bitsandbytes") is None:
        raise ConfigError(
            "qlora needs a CUDA GPU and bitsandbytes, and neither is available here",
            "use --method lora: on CPU it trains the same adapters without 4-bit quantisation",
        )


def load_base(spec: str, method: str) -> tuple[Any, Any, Path]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from ragtune.models import hf_folder

    hf_logging.disable_progress_bar()  # "Loading weights" bars under our own progress rows
    folder = hf_folder(spec)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs = {
            "quantization_config": BitsAndBytesConfig(load_in_4bit=True),
            "device_map": "auto",
        }
    model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
    return model, tokenizer, folder


def _wrap(model: Any, config: TuneConfig, folder: Path) -> Any:
    cfg = peft_config(config, folder, model)
    if cfg is None:
        return model
    import peft

    if config.method == "qlora":
        model = peft.prepare_model_for_kbit_training(model)
    try:
        return peft.get_peft_model(model, cfg)
    except ValueError as exc:  # e.g. a target module the model does not have
        raise ConfigError(f"cannot apply {config.method} to this model: {exc}") from None


def train(
    project: Project,
    config: TuneConfig,
    *,
    resume: bool = False,
    force: bool = False,
    progress: TrainProgress | None = None,
) -> AdapterInfo:
    """Train an adapter on a built dataset and register it; see :class:`TuneConfig`."""
    if config.method == "qlora":
        check_qlora()
    out_dir = adapter_dir(project, config.name)
    run_dir = project.paths.run(config.name)
    if out_dir.exists() and not (force or resume):
        raise UsageError(f"adapter {config.name!r} exists", "pick another --name or pass --force")
    checkpoints = sorted(run_dir.glob("checkpoints/checkpoint-*"))
    if resume and not checkpoints:
        raise UsageError(f"no checkpoint of {config.name!r} to resume", "run without --resume")
    if not resume and run_dir.exists():
        shutil.rmtree(run_dir)  # a fresh run must not pick up an older run's state
    train_rows = load_examples(project, config.dataset, "train", config.kinds)
    val_rows = load_examples(project, config.dataset, "validation", config.kinds)
    if not train_rows:
        raise UsageError(
            f"dataset {config.dataset!r} has no training examples of kinds {list(config.kinds)}",
            "check `ragtune data show` or change --kinds",
        )
    model, tokenizer, folder = load_base(config.base_model, config.method)
    encoder = ExampleEncoder(tokenizer, config.max_length, project.settings.prompt.base_system)
    train_set = [encoder(r) for r in train_rows]
    val_set = [encoder(r) for r in val_rows]
    # The Trainer seeds itself only after the adapter exists: without this the LoRA (or
    # prefix) initialisation is unseeded, and two runs with one --seed train different
    # adapters -- including a run restarted after a crash before its first checkpoint.
    from transformers import set_seed

    set_seed(config.seed)
    model = _wrap(model, config, folder)
    started = time.perf_counter()
    trainer = _trainer(model, tokenizer, config, run_dir, train_set, val_set, progress)
    result = trainer.train(resume_from_checkpoint=True if resume else None)
    wall = time.perf_counter() - started
    probe = _forgetting(
        trainer.model, tokenizer, config, project.settings.prompt.base_system, folder
    )
    forgetting.check_limit(config.name, probe, config.max_forgetting)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(f".{config.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    trainer.model.save_pretrained(tmp)
    if config.method == "full":
        tokenizer.save_pretrained(tmp)
    tokens = sum(len(x["input_ids"]) for x in train_set)
    epochs_done = float(trainer.state.epoch or 0)
    runtime = max(float(result.metrics.get("train_runtime", wall)), 1e-9)
    info = AdapterInfo(
        name=config.name, method=config.method, base_model=config.base_model or "packaged:smollm2",
        base_model_path=str(folder), dataset=config.dataset,
        dataset_hash=_dataset_hash(project, config.dataset), config=config.to_dict(),
        train_losses=[h["loss"] for h in trainer.state.log_history if "loss" in h],
        eval_losses=[h["eval_loss"] for h in trainer.state.log_history if "eval_loss" in h],
        steps=int(trainer.state.global_step), epochs=epochs_done,
        train_examples=len(train_set), wall_time_s=wall,
        tokens_per_s=tokens * epochs_done / runtime,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        forgetting=probe,
    )  # fmt: skip
    save_metadata(tmp, info)
    install(tmp, out_dir)  # the old adapter or the whole new one, whenever a kill lands
    if abstention.teaches_abstention(train_rows):
        del trainer, model  # the training copy: the check answers with the saved adapter
        rows = val_rows
        if config.abstention_dataset:
            rows = load_examples(project, config.abstention_dataset, "validation", config.kinds)
        abstention.check_adapter(project, config, info, rows)
    return info


def _forgetting(
    model: Any, tokenizer: Any, config: TuneConfig, system: str, folder: Path
) -> dict[str, float]:
    """Probe scores of the trained model and of its base (adapter switched off; cached)."""
    adapted = forgetting.score(model, tokenizer, system)

    def base() -> forgetting.ProbeScore:
        if config.method == "full":
            base_model, _, _ = load_base(config.base_model, "full")
            return forgetting.score(base_model, tokenizer, system)
        with model.disable_adapter():
            return forgetting.score(model, tokenizer, system)

    return forgetting.report(forgetting.base_score(folder, config.method, system, base), adapted)


def warm_probe(spec: str = "") -> forgetting.ProbeScore:
    """Measure (or read) a base model's forgetting probe with the default system message, so
    a first training run finds it cached; ``make setup`` calls it for the packaged model."""
    from ragtune.config import Settings

    system = Settings().prompt.base_system
    model, tokenizer, folder = load_base(spec, "lora")
    return forgetting.base_score(
        folder, "lora", system, lambda: forgetting.score(model, tokenizer, system)
    )


def _trainer_class(base: Any, method: str, group_lengths: bool = True) -> Any:
    """The Trainer, with length-grouped batches (``ragtune.finetune.sampler``) unless turned
    off, and the loss computed on labelled positions only where it can be."""
    from ragtune.finetune.loss import METHODS, answer_loss
    from ragtune.finetune.sampler import LengthWindowSampler

    class GroupedTrainer(base):
        def _get_train_sampler(self, train_dataset: Any = None) -> Any:
            if not group_lengths:
                return super()._get_train_sampler(train_dataset)
            data = train_dataset if train_dataset is not None else self.train_dataset
            lengths = [len(row["input_ids"]) for row in data]
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            return LengthWindowSampler(lengths, self.args.train_batch_size, seed)

    if method not in METHODS:
        return GroupedTrainer

    class AnswerLossTrainer(GroupedTrainer):
        def compute_loss(
            self, model: Any, inputs: Any, return_outputs: bool = False, **kw: Any
        ) -> Any:
            num_items_in_batch = kw.get("num_items_in_batch")
            loss, outputs = answer_loss(model, inputs, num_items_in_batch)
            return (loss, outputs) if return_outputs else loss

    return AnswerLossTrainer


def _dataset_hash(project: Project, name: str) -> str:
    card = dataset_dir(project, name) / "card.json"
    try:
        return str(json.loads(card.read_text()).get("hash", ""))
    except (OSError, ValueError):
        return ""


def _trainer(
    model: Any,
    tokenizer: Any,
    config: TuneConfig,
    run_dir: Path,
    train_set: list[dict[str, list[int]]],
    val_set: list[dict[str, list[int]]],
    progress: TrainProgress | None,
) -> Any:
    from transformers import (
        DataCollatorForSeq2Seq,
        EarlyStoppingCallback,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )
    from transformers.trainer_callback import PrinterCallback

    has_val = bool(val_set)
    # PEFT cannot reload a "best" prompt-learning checkpoint inside the Trainer, and early
    # stopping needs that reload: prefix/prompt tuning keep the last state instead.
    best_at_end = has_val and config.method not in ("prefix", "prompt")
    args = TrainingArguments(
        output_dir=str(run_dir / "checkpoints"), num_train_epochs=config.epochs,
        max_steps=config.max_steps, per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.batch_size, gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate, eval_strategy="epoch" if has_val else "no",
        save_strategy="epoch", save_total_limit=2, load_best_model_at_end=best_at_end,
        metric_for_best_model="eval_loss", greater_is_better=False, logging_steps=1,
        use_cpu=True, report_to=[], seed=config.seed, data_seed=config.seed,
        disable_tqdm=True, save_only_model=False, remove_unused_columns=False,
        prediction_loss_only=True,
    )  # fmt: skip

    class Progress(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if progress is not None:
                loss = (logs or {}).get("loss")
                progress(int(state.global_step), int(state.max_steps), loss)

    callbacks: list[Any] = [Progress()]
    if best_at_end and config.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(config.early_stopping_patience))
    trainer = _trainer_class(Trainer, config.method, config.group_lengths)(
        model=model, args=args, train_dataset=train_set, eval_dataset=val_set or None,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
        callbacks=callbacks,
    )  # fmt: skip
    trainer.remove_callback(PrinterCallback)  # it prints raw log dicts; Progress reports them
    return trainer
