"""``ragtune calibrate``: choose the abstention threshold on the project's own questions."""

from __future__ import annotations

from pathlib import Path

import click

from ragtune.cli.common import console, json_option, open_project, print_json


@click.command()
@click.option(
    "--eval", "eval_file", type=click.Path(path_type=Path), default=None,
    help="Evaluation JSONL (question, answer, unanswerable); default: the test split of "
    "`ragtune data build`.",
)  # fmt: skip
@click.option("--dataset", default="default", show_default=True, help="Dataset for the default.")
@click.option(
    "--max-false-abstention", type=click.FloatRange(0.0, 1.0), default=None,
    help="Most answerable questions to refuse (default: abstention.max_false_abstention, 0.10).",
)  # fmt: skip
@json_option("the calibration")
@click.pass_context
def calibrate(
    ctx: click.Context,
    eval_file: Path | None,
    dataset: str,
    max_false_abstention: float | None,
    as_json: bool,
) -> None:
    """Choose when rag and extract answer "I cannot answer from the documents."

    \b
    Every evaluation question is retrieved as `ragtune ask` would, and its evidence score is
    the best retrieved sentence's 0.5 x embedding cosine + 0.5 x IDF-weighted share of the
    question's words it contains. With unanswerable questions in the set, the threshold is
    the one that refuses the most of them while refusing at most --max-false-abstention of
    the answerable ones; without, it is that quantile of the answerable scores. The result
    goes to .ragtune/abstention.json and is used from then on (a threshold set in
    ragtune.toml wins). Uncalibrated projects use 0.40, measured on the bundled sample.
    """
    from ragtune.evaluation.datasets import load_eval_file, load_test_split
    from ragtune.retrieval.answerability import calibrate_project

    project = open_project(ctx)
    if max_false_abstention is not None:
        project = project.with_settings(abstention={"max_false_abstention": max_false_abstention})
    if eval_file is not None:
        items, source = load_eval_file(eval_file), str(eval_file)
    else:
        items, source = load_test_split(project, dataset), f"dataset {dataset} (test split)"
    with console().status(f"scoring the evidence for {len(items)} questions"):
        cal, _ = calibrate_project(project, items, source)
    if as_json:
        from dataclasses import asdict

        print_json(asdict(cal))
        return
    console().print(f"Abstention {cal.describe()}.", markup=False)
    console().print(f"Saved to {project.paths.calibration}", markup=False)
