"""The work behind each pilot stage, through the same public pieces the CLI commands use
(``Project.ingest``, ``build_dataset``/``build_raft_dataset``, ``train``, the compare
``Runner``). Each returns the small dict of outputs the next stage's input hash is built from.
Example::

    steps.ingest(project, Path("examples/docs"), tick)    # {"documents": 32, "state": "..."}
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.pilot.config import RAFT, pilot_adapter, uses
from ragtune.pilot.stages import Tick

if TYPE_CHECKING:
    from ragtune.evaluation.datasets import EvalItem
    from ragtune.evaluation.runner import Runner
    from ragtune.pilot.config import PilotConfig
    from ragtune.project import Project

STYLE_SPLIT = (0.6, 0.1, 0.3)  # 40 style lines -> 24 train, 16 held out for the style check
# (batch size, max tokens per example, LoRA on the top N layers; 0 = all) per adapter kind;
# RAFT prompts hold k passages. Every LoRA adapts all layers: on the top 15 of 30 they train
# 24-34 % faster and keep 84-93 % of the held-out loss drop, but in `make demo` the style
# adapter then lost the house format (5 of 16 held-out answers vs 13) and raft+rag's F1 fell
# 0.121 -> 0.07 (two runs): the comparison would shortchange fine-tuning (bench/NOTES.md,
# "LoRA on the top layers"; `ragtune tune --top-layers` offers it).
SHAPES = {"default": (4, 128, 0), "style": (4, 256, 0), "raft": (2, 768, 0)}
LEARNING_RATE = 1e-3  # a short step budget on CPU; 5e-4 barely moved facts in 40 steps
# No LoRA dropout: the budgets are under one epoch (knowledge, RAFT) or three (style), too
# short to overfit, and dropout copies every adapted layer's input: 8 knowledge steps took
# 33.4 s without it vs 39.8 s with 0.05 (3 runs each, 1 thread), loss after 8 steps 0.668 vs 0.669.
LORA_DROPOUT = 0.0


def ingest(project: Project, docs: Path, tick: Tick) -> dict[str, Any]:
    project.ingest([docs], progress=lambda done, total, _name: tick(done, total))
    state = hashlib.sha256()
    for doc in sorted(project.documents(), key=lambda d: d.id):
        state.update(f"{doc.id}\0{doc.content_hash}\0".encode())
    return {"documents": len(project.documents()), "state": state.hexdigest()}


def _card_key(project: Project, name: str) -> str:
    from ragtune.finetune.data import load_card

    return StageHash.of(load_card(project, name).files_sha256)


class StageHash:
    @staticmethod
    def of(data: Any) -> str:
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def train_only(project: Project, dataset: str) -> str:
    """A copy of ``dataset`` without validation rows: with a step budget under one epoch
    there is nothing for early stopping to choose, and validating long RAFT prompts would
    cost more CPU time than the training itself."""
    source = project.paths.dataset(dataset)
    if not (source / "train.jsonl").is_file():
        from ragtune.errors import NotFoundError

        raise NotFoundError(
            f"dataset {dataset!r} has no train split ({source / 'train.jsonl'})",
            "re-run the pilot: its data stage builds it",
        )
    folder = source.with_name(f"{dataset}-train")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy2(source / "train.jsonl", folder / "train.jsonl")
    (folder / "validation.jsonl").write_text("")
    (folder / "test.jsonl").write_text("")
    return folder.name


def build_data(project: Project, cfg: PilotConfig) -> dict[str, Any]:
    """QA pairs ("default"), the style set ("style") and RAFT examples ("raft")."""
    from ragtune.finetune.data import build_dataset

    build_dataset(project, name="default", seed=cfg.seed, force=True)
    out = {"default": _card_key(project, "default")}
    if cfg.style:
        build_dataset(
            project,
            name="style",
            style=cfg.style,
            qa=False,
            seed=cfg.seed,
            split=STYLE_SPLIT,
            force=True,
        )
        out["style"] = _card_key(project, "style")
    if uses(cfg.strategies, RAFT):
        from ragtune.finetune.raft import build_raft_dataset

        build_raft_dataset(
            project, name="raft", seed=cfg.seed, p_missing=cfg.raft_missing, force=True
        )
        out["raft"] = _card_key(project, "raft")
    return out


def recipe(dataset: str) -> dict[str, Any]:
    """The training settings a LoRA run's stage key must follow besides data and steps."""
    from ragtune.finetune.sampler import WINDOW_BATCHES

    batch, length, top = SHAPES[dataset]
    out: dict[str, Any] = {
        "batch": batch,
        "length": length,
        "top_layers": top,
        "lr": LEARNING_RATE,
        "dropout": LORA_DROPOUT,
        "group_lengths": True,  # batches of similar length (ragtune.finetune.sampler)
        "window": WINDOW_BATCHES,
    }
    if dataset == "raft":
        # The false-abstention check (ragtune.finetune.abstention) runs in this stage: an
        # adapter trained before it existed has no measurement, so the key makes it retrain.
        from ragtune.finetune.config import ABSTENTION_QUESTIONS, MAX_FALSE_ABSTENTION

        out["abstention"] = {"limit_pct": MAX_FALSE_ABSTENTION, "questions": ABSTENTION_QUESTIONS}
    return out


def tune(
    project: Project,
    name: str,
    dataset: str,
    max_steps: int,
    kinds: tuple[str, ...],
    seed: int,
    tick: Tick,
) -> dict[str, Any]:
    from ragtune.finetune.abstention import FalseAbstentionError
    from ragtune.finetune.config import TuneConfig
    from ragtune.finetune.train import train

    shape = recipe(dataset)  # the same settings the stage key is built from
    config = TuneConfig(
        name=name,
        dataset=train_only(project, dataset),
        abstention_dataset=dataset,  # the train-only copy has no validation split
        kinds=kinds,
        max_steps=max_steps,
        batch_size=shape["batch"],
        max_length=shape["length"],
        learning_rate=shape["lr"],
        lora_dropout=shape["dropout"],
        group_lengths=shape["group_lengths"],
        top_layers=shape["top_layers"],
        seed=seed,
    )
    try:
        info = train(project, config, force=True, progress=lambda s, t, _loss: tick(s, t))
    except FalseAbstentionError as exc:
        # Saved and flagged: the pilot still compares it, so the report shows what the
        # refusals cost, and its results carry the failed check (abstention_checks).
        info = exc.info
    return {
        "created": f"{info.name}@{info.created}",
        "wall_s": info.wall_time_s,
        "loss": [info.train_losses[0], info.train_losses[-1]] if info.train_losses else [],
    }


def abstention_checks(project: Project, strategies: Sequence[str]) -> dict[str, Any]:
    """The false-abstention check recorded for each adapter the strategies use (adapters
    trained on data without abstention targets have none)."""
    from ragtune.errors import RagtuneError
    from ragtune.finetune.adapters import load_info

    out: dict[str, Any] = {}
    for adapter in sorted({s.adapter for s in specs_for(strategies) if s.adapter}):
        try:
            record = load_info(project, adapter).abstention
        except RagtuneError:  # not trained (its strategy was not asked for)
            continue
        if record:
            out[adapter] = record
    return out


def specs_for(strategies: Sequence[str]) -> list[Any]:
    from ragtune.evaluation.runner import StrategySpec

    return [StrategySpec(s, pilot_adapter(s)) for s in strategies]


def compare_runner(
    project: Project,
    items: Sequence[EvalItem],
    cfg: PilotConfig,
    run_id: str,
    tick: Tick,
    backend: str = "transformers",
) -> Runner:
    """The compare run the pilot spreads over its pool (``ragtune.pilot.schedule``);
    ``tick(done, total)`` counts answers over both phases."""
    from ragtune.evaluation.runner import CompareConfig, Runner

    specs = specs_for(cfg.strategies)
    config = CompareConfig(
        specs,
        options={"max_new_tokens": cfg.max_new_tokens},
        seed=cfg.seed,
        update=cfg.update,
        batch_size=cfg.batch_size,
        resamples=cfg.resamples,
        latency_sample=cfg.latency_sample,
        crossfit=cfg.crossfit,
        backend=backend,
    )
    changed = sum(i.changes for i in items) if cfg.update else 0
    total = len(specs) * (len(items) + changed)
    done: dict[str, int] = {}

    def progress(label: str, n: int, _of: int) -> None:
        done[label] = n
        tick(sum(done.values()), total)

    return Runner(project, items, config, run_id=run_id, progress=progress)
