"""``ragtune compare``: the pilots. Tables live here; the numbers in ragtune.evaluation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import ragtune.strategy_table as strategy_table
from ragtune.cli.common import (
    console,
    crossfit_option,
    json_option,
    latency_sample_option,
    open_project,
    parse_pairs,
    print_json,
    resamples_option,
    seed_option,
    split_csv,
)
from ragtune.evaluation.runner import CompareConfig

if TYPE_CHECKING:
    from ragtune.evaluation.results import Results

_HELP = """Run strategies on the same held-out questions and compare them, with 95 % bootstrap
confidence intervals and paired differences.

\b
Questions: --eval FILE (JSONL: question, answer, source_docs, fact_id, unanswerable,
old_answer/new_answer, phrasings), else the test split of `ragtune data build` (--dataset).
Strategies: default all of base,rag,extract,ft,ft+rag,raft+rag that can run; adapter
strategies use --adapter NAME (or STRATEGY=NAME), else the registered adapters.
Answers are stored under .ragtune/runs/compare-<id>/ batch by batch: rerun the same command
after a crash or Ctrl-C and it resumes; --fresh starts over.

\b
Metrics (per question, averaged; NaN where they do not apply):
  answers    exact_match, contains (gold inside answer), f1 (token F1), rouge_l,
             cosine (MiniLM answer-gold cosine), bertscore (greedy MiniLM token matching),
             abstain_unanswerable (declined an unanswerable question),
             false_abstain (declined an answerable one)
  retrieval  recall@k, mrr, ndcg@k of the prompt's passages against source_docs
  ragas      faithfulness (answer claims supported by the context), answer_relevancy,
             context_precision, context_recall; --judge offline (a claim is supported when
             one passage holds all its numbers and >= 60 % of its content words; relevancy =
             question-answer cosine) or --judge BACKEND (an LLM rates; unparsable replies are
             counted as failed judgements)
  judge      self-test: up to --judge-selftest answers per strategy that the judge
             credited get an off-topic sentence, a negated context sentence, a changed
             number appended, or are replaced by the question; the share it caught
             (faithfulness / relevancy fell) per kind, goal >= 90 %; an LLM judge also
             judges 10 answers twice (run-to-run agreement)
  citations  citation_precision/recall of cited passages vs passages supporting the gold
             answer; citation_inferred (citations matched by overlap, not by the model)
  robustness f1 on a fact's first phrasing vs its alternative phrasings
  performance latency p50/p95 per stage, of the first --latency-sample questions answered
             one at a time; tokens in/out,
             compute seconds per query, peak RSS, adapter training wall time
  cost       [pricing] in ragtune.toml: cost per 1k queries, one-off training cost,
             break-even query volume between strategies
  freshness  --update DIR: the update is ingested into a copy of the project (yours is not
             touched); changed-fact questions are asked again: share stating the new fact vs
             the stale one; time-to-fresh = re-index time (retrieval) or retraining time
             (tuned; measured with --retrain, else the adapter's recorded training time)
  forgetting general-knowledge probe of each adapter vs the base model (from training)
A paired difference is flagged (▲/▼ next to a strategy) when its 95 % interval vs the first
strategy excludes zero.
"""


_DEFAULT = strategy_table.names(default_only=True)
_OTHERS = [n for n in strategy_table.names() if n not in _DEFAULT]


@click.command(help=_HELP)
@click.option(
    "-s",
    "--strategies",
    "strategies",
    default=None,
    help=f"Comma-separated names; default: {','.join(_DEFAULT)}; also: {','.join(_OTHERS)}.",
)
@click.option(
    "--adapter",
    "adapters",
    multiple=True,
    metavar="NAME|STRATEGY=NAME",
    help="Adapter(s) for ft, ft+rag, raft+rag (repeatable).",
)
@click.option("--eval", "eval_file", type=click.Path(dir_okay=False), help="Evaluation JSONL.")
@click.option(
    "--dataset",
    default="default",
    show_default=True,
    help="Dataset whose test split is used without --eval.",
)
@click.option(
    "--update", type=click.Path(exists=True), help="Updated documents (complete new state)."
)
@click.option(
    "--retrain",
    is_flag=True,
    help="With --update: retrain adapters to measure their time-to-fresh.",
)
@click.option(
    "--judge",
    default="offline",
    show_default=True,
    help="offline, or a generator backend for an LLM judge.",
)
@click.option("--judge-model", default=None, help="Model for the LLM judge.")
@click.option(
    "--judge-selftest",
    type=click.IntRange(min=0),
    default=CompareConfig.selftest_sample,
    show_default=True,
    help="Answers per strategy the judge's self-test edits and judges again (0: off); with "
    "an LLM judge each costs one more judgement per edit.",
)
@click.option("--backend", default=None, help="Generator backend (default: config).")
@click.option("--model", default=None, help="Generator model (default: config).")
@click.option(
    "-o",
    "--option",
    "gen_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Generation option, e.g. max_new_tokens=48.",
)
@seed_option("Generation and bootstrap seed.", CompareConfig.seed)
@click.option("--limit", type=int, default=None, help="Only the first N questions.")
@click.option(
    "--batch-size",
    default=CompareConfig.batch_size,
    show_default=True,
    help="Questions answered (and stored) together; at most generator.batch_size are "
    "generated at once.",
)
@resamples_option(CompareConfig.resamples)
@latency_sample_option
@crossfit_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=CompareConfig.workers,
    show_default=True,
    help="Strategies answered at once, each in its own process with one torch thread (same "
    "answers). On 2 idle cores 2 saved ~8 % on the sample pilot's comparison; each process "
    "loads its own copy of the models.",
)
@click.option("--run-id", default=None, help="Name the run (default: derived from the settings).")
@click.option("--fresh", is_flag=True, help="Discard a stored run with the same id.")
@json_option("the full results")
@click.pass_context
def compare(ctx: click.Context, **kw: Any) -> None:
    from ragtune.evaluation.datasets import load_eval_file, load_test_split
    from ragtune.evaluation.runner import plan_strategies

    started = time.perf_counter()
    project = open_project(ctx)
    items = (
        load_eval_file(kw["eval_file"])
        if kw["eval_file"]
        else load_test_split(project, kw["dataset"])
    )
    items = items[: kw["limit"]] if kw["limit"] else items
    requested = split_csv((kw["strategies"],)) if kw["strategies"] else None
    specs, skipped = plan_strategies(project, requested, list(kw["adapters"]))
    err = console(err=True)
    _check_sources(project, items, err)
    for reason in skipped:
        err.print(f"[yellow]skipped[/] {reason}", markup=True)
    config = CompareConfig(
        specs,
        backend=kw["backend"],
        model=kw["model"],
        options=parse_pairs(kw["gen_options"], "--option"),
        seed=kw["seed"],
        judge=kw["judge"],
        judge_model=kw["judge_model"],
        update=Path(kw["update"]) if kw["update"] else None,
        retrain=kw["retrain"],
        batch_size=kw["batch_size"],
        resamples=kw["resamples"],
        workers=kw["workers"],
        latency_sample=kw["latency_sample"],
        crossfit=kw["crossfit"],
        selftest_sample=kw["judge_selftest"],
    )
    results = _run(project, items, config, kw["run_id"], kw["fresh"], err)
    results.run.settings.update(skipped=skipped, command_wall_s=time.perf_counter() - started)
    if kw["as_json"]:
        print_json(results.to_dict())
    else:
        from ragtune.cli.compare_tables import print_results

        print_results(results, console())


def _check_sources(project: Any, items: Any, err: Any) -> None:
    known = set(project.store.document_ids())
    missing = sorted({d for i in items for d in i.source_docs} - known)
    if missing:
        err.print(
            f"[yellow]warning:[/] {len(missing)} source document id(s) of the evaluation "
            f"set are not in the project, e.g. {missing[0]!r}; retrieval metrics count "
            "them as misses (ids are paths relative to the folder given to ingest)"
        )


def _run(project: Any, items: Any, config: Any, run_id: Any, fresh: bool, err: Any) -> Results:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from ragtune.evaluation.runner import Runner

    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def tick(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done)

        runner = Runner(project, items, config, run_id=run_id, fresh=fresh, progress=tick)
        err.print(f"run {runner.run_id}: {len(items)} questions, {runner.folder}", markup=False)
        try:
            return runner.run()
        finally:
            runner.close()
