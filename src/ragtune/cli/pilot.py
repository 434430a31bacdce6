"""``ragtune pilot DOCS``: the main job, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ragtune.cli.common import (
    console,
    crossfit_option,
    json_option,
    latency_sample_option,
    print_json,
    resamples_option,
    seed_option,
    split_csv,
)
from ragtune.pilot.config import ALL, PilotConfig


@click.command()
@click.argument("docs", type=click.Path(exists=True))
@click.option(
    "--eval",
    "eval_file",
    type=click.Path(dir_okay=False),
    help="Evaluation JSONL (default: the test split of the built QA dataset).",
)
@click.option(
    "--update",
    type=click.Path(exists=True, file_okay=False),
    help="The next version of the documents: measures freshness.",
)
@click.option(
    "--style",
    type=click.Path(dir_okay=False),
    help="House-style examples (JSONL question/answer): trains a style LoRA and "
    "checks it against prompting with examples.",
)
@click.option(
    "-s",
    "--strategies",
    default=",".join(ALL),
    show_default=True,
    help="Comma-separated strategies to compare.",
)
@click.option(
    "-p",
    "--profile",
    type=click.Path(dir_okay=False),
    help="Answers to the advice steps (see `ragtune advise`).",
)
@click.option(
    "-n",
    "--questions",
    default=PilotConfig.questions,
    show_default=True,
    help="Use N evaluation questions (0 = all), keeping changed and unanswerable ones.",
)
@click.option(
    "--max-new-tokens", default=PilotConfig.max_new_tokens, show_default=True, help="Per answer."
)
@click.option(
    "--knowledge-steps",
    default=PilotConfig.knowledge_steps,
    show_default=True,
    help="Knowledge LoRA steps.",
)
@click.option(
    "--style-steps", default=PilotConfig.style_steps, show_default=True, help="Style LoRA steps."
)
@click.option(
    "--raft-steps", default=PilotConfig.raft_steps, show_default=True, help="RAFT LoRA steps."
)
@click.option(
    "--raft-missing",
    default=PilotConfig.raft_missing,
    show_default=True,
    type=float,
    help="Share of RAFT examples without the passage that answers (their target is the "
    "abstention). 0 by default: the packaged model learnt to refuse at random, not when the "
    "passage was missing; unanswerable questions are declined by the retrieval threshold.",
)
@click.option(
    "-k",
    "--k",
    "k",
    type=int,
    default=None,
    help="Passages per prompt (default: retrieval.k of the project).",
)
@click.option(
    "--threads",
    default=PilotConfig.threads,
    show_default=True,
    help="Torch threads; 0 = auto (1 when the machine is busy, else torch's default).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=PilotConfig.workers,
    show_default=True,
    help="LoRA runs trained, and strategies answered, at once: one process and one torch "
    "thread each; 0 = auto (2 on an idle machine with 2+ cores; the sample pilot went "
    "from ~985 s to ~875 s).",
)
@click.option(
    "--backend",
    type=click.Choice(["transformers", "llamacpp"]),
    default=None,
    help="Generator for compare and the style check (default: the project's "
    "generator.backend). llamacpp runs the packaged GGUF and the LoRA adapters converted to "
    "GGUF (needs `make setup-llamacpp`); it answers one request at a time, so on the sample "
    "pilot it took more CPU time than transformers' batches (443 vs 361 s for compare).",
)
@click.option(
    "--ray",
    metavar="ADDRESS",
    default=None,
    help="Run the LoRA runs, strategy answers and style check as Ray tasks, one per CPU of "
    "the cluster (or --workers): auto (a running cluster, or RAY_ADDRESS), local (start "
    "Ray here) or HOST:PORT. Every node needs pip install 'ragtune[ray]' and the project "
    "folder at the same path (a shared filesystem). A task lost with its node is re-run.",
)
@seed_option("Seed of the data split, training and generation.", PilotConfig.seed)
@resamples_option(PilotConfig.resamples)
@latency_sample_option
@crossfit_option
@json_option("the outcome")
@click.pass_context
def pilot(ctx: click.Context, docs: str, **kw: Any) -> None:
    """Run the whole pilot on DOCS: init -> ingest -> data build -> tune (knowledge LoRA,
    style LoRA, RAFT) -> compare -> advise -> report.

    \b
    The project is the -C folder (created when it has none). Each stage records a hash of its
    inputs; re-running skips the stages whose inputs did not change, and the progress shows
    an estimate per stage (the last run's time, else a rough model of 2 CPU cores).
    The report lands in .ragtune/reports/pilot.html (+ .md, .json).
    """
    from ragtune.errors import ProjectNotFoundError
    from ragtune.pilot.run import run_pilot
    from ragtune.project import Project

    def path(key: str) -> Path | None:
        return Path(kw[key]) if kw[key] else None

    config = PilotConfig(
        docs=Path(docs),
        eval_file=path("eval_file"),
        update=path("update"),
        style=path("style"),
        profile=path("profile"),
        strategies=tuple(split_csv((kw["strategies"],))),
        questions=kw["questions"],
        max_new_tokens=kw["max_new_tokens"],
        knowledge_steps=kw["knowledge_steps"],
        style_steps=kw["style_steps"],
        raft_steps=kw["raft_steps"],
        raft_missing=kw["raft_missing"],
        k=kw["k"],
        threads=kw["threads"],
        workers=kw["workers"],
        seed=kw["seed"],
        resamples=kw["resamples"],
        latency_sample=kw["latency_sample"],
        crossfit=kw["crossfit"],
        backend=kw["backend"] or "",
        ray=kw["ray"] or "",
    )
    folder = ctx.obj["project_dir"]
    try:
        project = Project.open(folder)
    except ProjectNotFoundError:
        project = Project.init(folder)
        console(err=True).print(f"initialised a project in {project.root}", markup=False)
    try:
        outcome = run_pilot(project, config, progress=not kw["as_json"])
    finally:
        project.close()
    if kw["as_json"]:
        print_json(outcome)
        return
    from ragtune.cli.advise import print_recommendation

    ran = [
        f"{s['stage']} "
        + ("skipped" if s["skipped"] else f"{s['seconds']:.0f} s (cpu {s['cpu_s']:.0f} s)")
        for s in outcome["stages"]
    ]
    out = console()
    out.print(
        f"pilot done in {outcome['wall_s']:.0f} s ({outcome['torch_threads']} torch "
        f"threads{_workers(outcome)}): " + ", ".join(ran),
        markup=False,
    )
    for adapter, record in (outcome.get("abstention") or {}).items():
        out.print(_abstention_line(adapter, record), markup=False)
    print_recommendation(outcome["recommendation"], outcome["profile_source"])
    out.print(f"report: {outcome['report']['html']}", markup=False)


def _workers(outcome: dict[str, Any]) -> str:
    n = outcome.get("workers", 1)
    if outcome.get("ray"):
        return f"; LoRA runs and strategies as Ray tasks on {outcome['ray']}, {n} at once"
    return f"; LoRA runs and strategies in {n} processes of 1 thread" if n > 1 else ""


def _abstention_line(adapter: str, record: dict[str, Any]) -> str:
    from ragtune.finetune.abstention import describe

    verdict = {True: "within the limit", None: "not judged (no limit, or nothing reached it)",
               False: "FAILS the limit (lower --raft-missing, or more --raft-steps); kept "
                      "and compared anyway"}[
                   record.get("passed")]  # fmt: skip
    return f"{adapter} abstention check: {describe(record)} — {verdict}"
