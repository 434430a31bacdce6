"""``ragtune data build|list|show``"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ragtune.cli.common import console, json_option, open_project, print_json, seed_option
from ragtune.errors import UsageError
from ragtune.finetune.config import DEFAULT_P_MISSING

if TYPE_CHECKING:
    from ragtune.finetune.data import DatasetCard
    from ragtune.project import Project


@click.group()
def data() -> None:
    """Build and inspect training/evaluation datasets (.ragtune/datasets/NAME/)."""


@data.command("build")
@click.option("-n", "--name", default="default", show_default=True, help="Dataset name.")
@click.option(
    "-i",
    "--import",
    "imports",
    multiple=True,
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="JSONL of your own examples (repeatable): {question, answer}, "
    "{instruction, input, output} or {messages: [...]}; an optional fact_id groups "
    "phrasings of one fact.",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Skip invalid import lines (and report them) instead of refusing the file.",
)
@click.option(
    "--style",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="JSONL {question, answer} examples of the answer format and tone you want "
    "(e.g. examples/style.jsonl); kind 'style'.",
)
@click.option(
    "--raw",
    is_flag=True,
    help="Also add chunk texts as kind 'raw' (continued pre-training; train and "
    "validation only, never from held-out documents).",
)
@click.option("--no-qa", "no_qa", is_flag=True, help="Do not generate QA pairs from documents.")
@click.option(
    "--include-restricted",
    is_flag=True,
    help="Also train on documents restricted to groups. Off by default: whatever a "
    "model is trained on can be drawn out of it by anyone who can query the model, "
    "whatever their group.",
)
@click.option(
    "-p",
    "--phrasings",
    type=int,
    default=3,
    show_default=True,
    help="Questions written per fact (2+ lets test hold a phrasing not trained on).",
)
@click.option(
    "--heldout-docs",
    type=float,
    default=0.15,
    show_default=True,
    help="Share of documents held out whole for the test split.",
)
@seed_option("Seed of the split.")
@click.option(
    "--backend",
    default=None,
    help="Have a model write the QA pairs: transformers | llamacpp | openai.",
)
@click.option("--model", default=None, help="Model for --backend (local path or served name).")
@click.option(
    "--raft",
    is_flag=True,
    help="RAFT examples: each QA question with its oracle chunk and --raft-k distractors "
    "from the retriever, in the rag prompt; the target quotes the oracle with its [n] marker, "
    "or abstains when the oracle is left out. Same questions and split as a plain build.",
)
@click.option(
    "--raft-k",
    type=int,
    default=None,
    help="RAFT distractor chunks per example  [default: retrieval.k - 1]",
)
@click.option(
    "--raft-p-missing",
    type=float,
    default=DEFAULT_P_MISSING,
    show_default=True,
    help="RAFT: share of examples (per split) whose oracle is left out.",
)
@click.option(
    "--from-feedback",
    is_flag=True,
    help="Build from the service's feedback instead: approved answers become train/validation "
    "examples, rejected ones test cases (test_kind 'rejected'). NAME defaults to 'feedback'.",
)
@click.option("-f", "--force", is_flag=True, help="Replace an existing dataset of that name.")
@json_option("the card")
@click.pass_context
def build(
    ctx: click.Context,
    name: str,
    imports: tuple[Path, ...],
    skip_invalid: bool,
    style: Path | None,
    raw: bool,
    no_qa: bool,
    include_restricted: bool,
    phrasings: int,
    heldout_docs: float,
    seed: int,
    backend: str | None,
    model: str | None,
    raft: bool,
    raft_k: int | None,
    raft_p_missing: float,
    from_feedback: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Build a versioned train/validation/test dataset from the documents and your files.

    \b
    QA pairs: without --backend, rules turn sentences that state numbers, amounts, dates,
    definitions, section topics and reference entries (".. function:: f(x)") into several
    questions each (no model; deterministic). With --backend/--model a model writes them
    (--backend openai talks to generator.openai_base_url, e.g. vLLM or Ollama).
    Every question must stand alone: no file names, chapter or section numbers, markup,
    or references to what it does not name ("the 1st argument", "this function", "it");
    others are dropped and counted as "unclear_questions", facts left without one as
    "unclear_passages". Every answer is checked against its source chunk: its numbers and
    content words must appear there, and a question may not copy the text verbatim;
    failures are dropped and counted as "unsupported". Exact and near-duplicate questions
    (word 3-shingle Jaccard >= 0.9 to another fact's question), questions under 3 words
    and answers over 512 words are dropped too. Restricted documents are skipped unless
    --include-restricted.

    \b
    Split (seeded: the same inputs and --seed give byte-identical files):
      test        questions of held-out documents (--heldout-docs, test_kind "heldout_doc")
                  + one phrasing each of other facts ("paraphrase"), 10% of their examples
      validation  one more phrasing each of other facts, 10% of the examples
      train       the rest (every fact keeps a phrasing); style/import lines are split
                  80/10/10 line by line, raw text 90/10 into train/validation
    No test question appears in train or validation (checked).

    \b
    Output: .ragtune/datasets/NAME/{train,validation,test}.jsonl + card.json. A line:
      {"id", "kind": "qa"|"style"|"import"|"raw", "messages": [{"role", "content"}...],
       "fact_id", "source": {"doc_id", "chunk_id", "start", "end"} | null,
       "test_kind": "paraphrase" | "heldout_doc" | null}     (raw: "text" for "messages")

    \b
    --raft: the QA lines become RAFT lines (kind "qa", so `ragtune tune` trains on them):
      messages = [rag system prompt, "Context: [1] ... Question: ...", target], plus
      "question" and "raft": {"oracle", "marker", "chunk_ids", "answer"}; card.json
      records the RAFT settings under "raft".
    """
    from ragtune.finetune.data import build_dataset

    raft_set = raft_k is not None or _given(ctx, "raft_p_missing")
    if raft_set and not raft:
        raise UsageError("--raft-k and --raft-p-missing need --raft")
    raft_record: dict[str, Any] = {}

    def build_dataset_or_raft(project: Project, **kw: Any) -> DatasetCard:
        if not raft:
            return build_dataset(project, **kw)
        from ragtune.finetune.raft import build_raft_dataset

        card, record = build_raft_dataset(project, k=raft_k, p_missing=raft_p_missing, **kw)
        raft_record.update(record)
        return card

    if from_feedback:
        _from_feedback(ctx, "feedback" if name == "default" else name, seed,
                       include_restricted, force, as_json)  # fmt: skip
        return
    project = open_project(ctx)
    generator = project.generator(backend, model) if backend or model else None
    options: dict[str, Any] = {
        "name": name, "seed": seed, "imports": imports, "style": style, "raw": raw,
        "qa": not no_qa, "phrasings": phrasings, "heldout_docs": heldout_docs,
        "generator": generator, "include_restricted": include_restricted,
        "skip_invalid": skip_invalid, "force": force,
    }  # fmt: skip
    err = console(err=True)
    if generator is not None and err.is_terminal and not as_json:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("Writing QA pairs", total=None)
            card = build_dataset_or_raft(
                project, progress=lambda d, t: bar.update(task, completed=d, total=t), **options
            )
    else:
        card = build_dataset_or_raft(project, **options)
    extra = {"raft": raft_record} if raft_record else {}
    if as_json:
        print_json({**card.to_dict(), **extra, "path": str(card.path), "warnings": card.warnings})
        return
    for warning in card.warnings:
        err.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)
    _print_card(card)
    if raft_record:
        gone, kept = raft_record["oracle_missing"], raft_record["oracle_present"]
        console().print(
            f"raft: {raft_record['k']} distractors per example; oracle left out in "
            + ", ".join(f"{gone[s]}/{gone[s] + kept[s]} {s}" for s in gone)
        )


def _given(ctx: click.Context, param: str) -> bool:
    source = ctx.get_parameter_source(param)
    return source is not None and source != click.core.ParameterSource.DEFAULT


@data.command("list")
@json_option("the cards")
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """One line per dataset: name, created, split sizes, generator, hash."""
    from ragtune.finetune.data import list_datasets

    cards = list_datasets(open_project(ctx))
    if as_json:
        print_json([c.to_dict() for c in cards])
        return
    from rich.table import Table

    table = Table("name", "created", "train", "validation", "test", "generator", "hash", box=None)
    for c in cards:
        n = c.counts
        table.add_row(
            c.name,
            c.created,
            str(n["train"]),
            str(n["validation"]),
            str(n["test"]),
            c.generator,
            c.hash[:12],
        )
    out = console()
    out.print(table)
    out.print(f"{len(cards)} datasets" if cards else "No datasets; run `ragtune data build`.")


@data.command("show")
@click.argument("name")
@json_option("the card and samples")
@click.pass_context
def show(ctx: click.Context, name: str, as_json: bool) -> None:
    """The card of a dataset and 3 sample examples per split."""
    from ragtune.finetune.data import SPLITS, load_card, load_split

    project = open_project(ctx)
    card = load_card(project, name)
    samples = {s: load_split(project, name, s)[:3] for s in SPLITS}
    if as_json:
        print_json(
            {
                "card": card.to_dict(),
                "samples": {s: [r.to_dict() for r in rs] for s, rs in samples.items()},
            }
        )
        return
    _print_card(card)
    out = console()
    for split, rows in samples.items():
        out.print(f"\n[bold]{split}[/] (first {len(rows)})")
        for row in rows:
            label = row.kind + (f", {row.test_kind}" if row.test_kind else "")
            if row.messages is not None:
                out.print(f"  [{label}] Q: {_short(row.question)}\n      A: {_short(row.answer)}",
                          markup=False)  # fmt: skip
            else:
                out.print(f"  [{label}] {_short(row.text or '')}", markup=False)


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _print_card(card: DatasetCard) -> None:
    from rich.table import Table

    out = console()
    out.print(
        f"[bold]{card.name}[/]  {card.path}  ({card.generator}, seed {card.seed}, "
        f"hash {card.hash[:12]})"
    )
    table = Table("split", "examples", box=None)
    n = card.counts
    table.add_row("train", str(n["train"]))
    table.add_row("validation", str(n["validation"]))
    table.add_row(
        "test",
        f"{n['test']} ({n['test_paraphrase']} paraphrase, "
        f"{n['test_heldout_doc']} held-out document)",
    )
    out.print(table)
    out.print("sources: " + ", ".join(f"{k} {v}" for k, v in card.sources.items()))
    out.print(
        "dropped: "
        + ", ".join(f"{k.removeprefix('dropped_')} {v}" for k, v in card.filters.items())
    )


def _from_feedback(
    ctx: click.Context, name: str, seed: int, include_restricted: bool, force: bool, as_json: bool
) -> None:
    from ragtune.finetune.feedback import build_from_feedback

    card = build_from_feedback(
        open_project(ctx), name=name, seed=seed, include_restricted=include_restricted,
        force=force,
    )  # fmt: skip
    if as_json:
        print_json({**card.to_dict(), "path": str(card.path), "warnings": card.warnings})
        return
    for warning in card.warnings:
        console(err=True).print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)
    _print_card(card)
