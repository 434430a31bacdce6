"""``ragtune tune``"""

from __future__ import annotations

from typing import Any

import click

from ragtune.cli.common import console, json_option, open_project, print_json, seed_option
from ragtune.finetune.config import DEFAULT_LR, MAX_FALSE_ABSTENTION, METHODS, TuneConfig


@click.command()
@click.option("--name", required=True, help="Adapter name in the registry.")
@click.option("--method", type=click.Choice(METHODS), default="lora", show_default=True,
              help="lora (all linear layers), qlora (CUDA + bitsandbytes only), prefix, "
              "prompt, or full fine-tuning.")  # fmt: skip
@click.option("--dataset", default="default", show_default=True, help="Dataset from `data build`.")
@click.option("--kinds", default="qa,style,import,raw", show_default=True,
              help="Example kinds to train on (comma-separated).")  # fmt: skip
@click.option("--epochs", type=float, default=TuneConfig.epochs, show_default=True)
@click.option(
    "--max-steps",
    type=int,
    default=TuneConfig.max_steps,
    help="Stop after N steps (overrides epochs).",
)
@click.option("--lr", "learning_rate", type=float, default=TuneConfig.learning_rate,
              help=f"Learning rate; 0 = the method's default {DEFAULT_LR}.")  # fmt: skip
@click.option("--batch-size", type=int, default=TuneConfig.batch_size, show_default=True)
@click.option("--max-length", type=int, default=TuneConfig.max_length, show_default=True,
              help="Tokens/example.")  # fmt: skip
@click.option("--lora-r", type=int, default=TuneConfig.lora_r, show_default=True)
@click.option("--target-modules", default="all-linear", show_default=True,
              help="LoRA target modules, comma-separated (e.g. q_proj,v_proj).")  # fmt: skip
@click.option("--top-layers", type=click.IntRange(min=0), default=TuneConfig.top_layers,
              show_default=True,
              help="LoRA on the top N transformer layers only (0 = all): the layers below "
              "then need no backward pass.")  # fmt: skip
@click.option("--virtual-tokens", type=int, default=TuneConfig.virtual_tokens, show_default=True,
              help="Prefix/prompt tuning length.")  # fmt: skip
@click.option("--patience", type=int, default=TuneConfig.early_stopping_patience,
              show_default=True,
              help="Early stopping: epochs without validation improvement.")  # fmt: skip
@seed_option("Seed of the adapter's initialisation and data order.", TuneConfig.seed)
@click.option("--base-model", default="", help="HF folder or .gguf; default: packaged SmolLM2.")
@click.option("--max-forgetting", type=float, default=None, metavar="PCT",
              help="Refuse to register the adapter if general-text perplexity on the bundled "
              "probe rises more than PCT %.")  # fmt: skip
@click.option("--max-false-abstention", type=click.FloatRange(0, 100),
              default=MAX_FALSE_ABSTENTION, show_default=True, metavar="PCT",
              help="When the data teaches abstention (RAFT): fail the run if the adapter "
              "answers more than PCT % of the answerable validation questions with \"I cannot "
              "answer from the documents.\" (asked through raft+rag). The adapter stays saved, "
              "flagged in its metadata. 100 = measure only.")  # fmt: skip
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint of --name.")
@click.option("--force", is_flag=True, help="Replace an existing adapter of that name.")
@json_option("the adapter metadata")
@click.pass_context
def tune(ctx: click.Context, **kw: Any) -> None:
    """Train an adapter on a dataset built by `ragtune data build`, and register it.

    \b
    Uses PEFT and the transformers Trainer: loss on answer tokens only, dynamic padding,
    validation + a checkpoint each epoch, early stopping on validation loss, seeded.
    (Prefix and prompt tuning keep the last epoch: PEFT cannot reload their best checkpoint.)
    After a crash, rerun with --resume to continue from the last checkpoint.
    Defaults suit the packaged 135M model on CPU: LoRA r=16 on all linear layers.
    Facts trained this way are memorised for the phrasings seen in training; measure
    held-out phrasings (the pilots do) before trusting an adapter with knowledge.
    """
    from ragtune.finetune.train import train

    project = open_project(ctx)
    as_json, resume, force = bool(kw.pop("as_json")), bool(kw.pop("resume")), bool(kw.pop("force"))
    config = TuneConfig(
        name=str(kw["name"]), method=str(kw["method"]), dataset=str(kw["dataset"]),
        kinds=tuple(k.strip() for k in str(kw["kinds"]).split(",") if k.strip()),
        epochs=float(kw["epochs"]), max_steps=int(kw["max_steps"]),
        learning_rate=float(kw["learning_rate"]), batch_size=int(kw["batch_size"]),
        max_length=int(kw["max_length"]), lora_r=int(kw["lora_r"]),
        lora_alpha=2 * int(kw["lora_r"]),
        target_modules=tuple(t.strip() for t in str(kw["target_modules"]).split(",") if t.strip()),
        top_layers=int(kw["top_layers"]), virtual_tokens=int(kw["virtual_tokens"]),
        early_stopping_patience=int(kw["patience"]),
        seed=int(kw["seed"]), base_model=str(kw["base_model"]),
        max_forgetting=kw["max_forgetting"], max_false_abstention=kw["max_false_abstention"],
    )  # fmt: skip
    err = console(err=True)
    if err.is_terminal and not as_json:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("Training", total=None)

            def tick(step: int, total: int, loss: float | None) -> None:
                label = f"Training (loss {loss:.3f})" if loss is not None else "Training"
                bar.update(task, completed=step, total=total, description=label)

            info = train(project, config, resume=resume, force=force, progress=tick)
    else:
        info = train(project, config, resume=resume, force=force)
    if as_json:
        print_json(info.to_dict())
        return
    first = info.train_losses[0] if info.train_losses else float("nan")
    last = info.train_losses[-1] if info.train_losses else float("nan")
    out = console()
    out.print(f"Adapter [bold]{info.name}[/] ({info.method}) trained: {info.steps} steps, "
              f"{info.epochs:.1f} epochs, loss {first:.3f} -> {last:.3f}, "
              f"{info.wall_time_s:.0f} s, {info.tokens_per_s:.0f} tokens/s, "
              f"peak RSS {info.peak_rss_mb:.0f} MB")  # fmt: skip
    f = info.forgetting
    if f:
        ppl = f"{f['base_perplexity']:.2f} -> {f['adapter_perplexity']:.2f}"
        acc = f"{f['base_accuracy']:.2f} -> {f['adapter_accuracy']:.2f}"
        rise = f"{f['perplexity_increase_pct']:+.1f} %"
        out.print(f"forgetting probe: perplexity {ppl} ({rise}), general questions {acc}")
    if info.abstention:
        from ragtune.finetune.abstention import describe

        out.print(f"abstention check: {describe(info.abstention)}", markup=False)
    if info.eval_losses:
        out.print("validation loss per epoch: " + ", ".join(f"{x:.3f}" for x in info.eval_losses))
    out.print(f'Try it: ragtune ask "..." --strategy ft --adapter {info.name}')
