"""``ragtune adapters list|show|rm|merge``"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ragtune.cli.common import console, json_option, open_project, print_json


@click.group()
def adapters() -> None:
    """List, inspect, remove and merge trained adapters (.ragtune/adapters/NAME: a plain PEFT
    folder, loadable with PeftModel.from_pretrained alone, plus ragtune.json)."""


@adapters.command("list")
@json_option("the adapters")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """One line per adapter."""
    from ragtune.finetune.adapters import list_adapters

    infos = list_adapters(open_project(ctx))
    if as_json:
        print_json([i.to_dict() for i in infos])
        return
    from rich.table import Table

    table = Table("name", "method", "dataset", "steps", "final loss", "false abstention",
                  "created", box=None)  # fmt: skip
    for i in infos:
        loss = f"{i.train_losses[-1]:.3f}" if i.train_losses else "-"
        table.add_row(i.name, i.method, i.dataset, str(i.steps), loss, _refusals(i.abstention),
                      i.created)  # fmt: skip
    console().print(table)
    console().print(f"{len(infos)} adapters")


def _refusals(record: dict[str, Any]) -> str:
    """The false-abstention rate, and the limit it broke: "77 % > 10 %"."""
    rate = record.get("false_abstention")
    if rate is None:
        return "-"
    over = record.get("passed") is False
    return f"{100 * rate:.0f} %" + (f" > {record['max_false_abstention_pct']:g} %" if over else "")


@adapters.command("show")
@click.argument("name")
@click.pass_context
def show(ctx: click.Context, name: str) -> None:
    """Everything recorded about an adapter (JSON)."""
    from ragtune.finetune.adapters import load_info

    print_json(load_info(open_project(ctx), name).to_dict())


@adapters.command("rm")
@click.argument("name")
@click.pass_context
def rm(ctx: click.Context, name: str) -> None:
    """Delete an adapter and its checkpoints."""
    from ragtune.finetune.adapters import remove_adapter

    remove_adapter(open_project(ctx), name)
    console().print(f"removed {name}")


@adapters.command("merge")
@click.argument("name")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def merge(ctx: click.Context, name: str, out: Path) -> None:
    """Fold a LoRA adapter into its base model: a standalone HF model folder at OUT."""
    from ragtune.finetune.loading import merge_adapter

    path = merge_adapter(open_project(ctx), name, out)
    console().print(f"merged model written to {path} (use it with --model {path})")


@adapters.command("export-gguf")
@click.argument("name")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Output file (default: adapter.gguf inside the adapter folder).")  # fmt: skip
@click.pass_context
def export_gguf(ctx: click.Context, name: str, out: Path | None) -> None:
    """Convert a LoRA adapter to GGUF for llama.cpp (needs the llamacpp extra). Afterwards
    `ragtune ask --strategy ft --adapter NAME --backend llamacpp` uses it."""
    from ragtune.finetune.export import export_gguf as export

    path = export(open_project(ctx), name, out)
    console().print(f"wrote {path}")
