"""``ragtune advise``: the decision steps + the latest compare results -> a recommendation,
and the report (HTML, Markdown, JSON) in .ragtune/reports/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ragtune.cli.common import console, json_option, open_project, print_json


@click.command()
@click.option(
    "-p",
    "--profile",
    type=click.Path(dir_okay=False),
    help="Answers to the decision steps (TOML, JSON or YAML); without it you are "
    "asked when stdin is a terminal, else the defaults are used.",
)
@click.option(
    "--results",
    type=click.Path(dir_okay=False),
    help="A compare results.json (default: the project's newest run).",
)
@click.option(
    "--style-check",
    type=click.Path(dir_okay=False),
    help="Style check JSON (default: the pilot's, when present).",
)
@click.option(
    "--eval",
    "eval_file",
    type=click.Path(dir_okay=False),
    help="Evaluation JSONL for the drill-down's gold answers (the pilot stores them).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False),
    help="Report folder (default: .ragtune/reports).",
)
@click.option("--no-report", is_flag=True, help="Only the recommendation.")
@json_option("the recommendation")
@click.pass_context
def advise(ctx: click.Context, **kw: Any) -> None:
    """Recommend prompting only, RAG, fine-tuning or a hybrid, from your answers and the
    measurements.

    \b
    Steps: (1) how often does the knowledge change? (2) are citations required?
    (3) behaviour/style or knowledge? (4) how many labelled examples? (5) latency budget?
    (6) how specialised is the domain? (7) budget and query volume. Each step quotes the
    measured numbers with their 95 % intervals and flags where they contradict the rule of
    thumb; the recommendation states its confidence and what to measure next.
    """
    from ragtune.advisor.evidence import latest_results
    from ragtune.advisor.framework import advise as decide
    from ragtune.advisor.profile import resolve_profile
    from ragtune.evaluation.results import Results, load_json
    from ragtune.evaluation.sections import StyleCheck

    project = open_project(ctx)
    results_path = Path(kw["results"]) if kw["results"] else latest_results(project.state_dir)
    results = Results.load(results_path)
    default_style = project.paths.pilot / "style.json"
    style_path = kw["style_check"] or (default_style if default_style.is_file() else None)
    style = StyleCheck.from_dict(load_json(style_path)) if style_path else None
    profile, source = resolve_profile(kw["profile"], prompt=not kw["as_json"])
    rec = decide(results, profile, style)
    paths: dict[str, Path] = {}
    if not kw["no_report"]:
        from ragtune.evaluation.datasets import load_eval_file
        from ragtune.report.html import write_report

        items = load_eval_file(kw["eval_file"]) if kw["eval_file"] else None
        out = Path(kw["out"]) if kw["out"] else project.paths.reports
        paths = write_report(results, rec, out, style=style, items=items)
    if kw["as_json"]:
        print_json(
            {
                "recommendation": rec.to_dict(),
                "profile_source": source,
                "results": str(results_path),
                "report": {k: str(v) for k, v in paths.items()},
            }
        )
        return
    print_recommendation(rec.to_dict(), source)
    if paths:
        console().print(f"report: {paths['html']} (also .md, .json)", markup=False)


def print_recommendation(rec: dict[str, Any], source: str = "") -> None:
    """The human summary shared by ``advise`` and ``pilot``."""
    out = console()
    out.print(
        f"[bold]Recommendation: {rec['choice']}[/] (confidence: {rec['confidence']}; "
        f"measured strategy {rec['strategy'] or '-'}"
        + (f" + style adapter {rec['style_adapter']}" if rec["style_adapter"] else "")
        + ")"
    )
    if source:
        out.print(f"profile: {source}", markup=False)
    sections = (
        ("Facts that drove it", rec["facts"]),
        ("Reasons", rec["reasons"]),
        ("Contradictions", rec["contradictions"]),
        ("Next", rec["next_steps"]),
    )
    for title, lines in sections:
        if lines:
            out.print(f"[bold]{title}[/]")
            for n, line in enumerate(lines, start=1):
                out.print(f"  {n}. {line}", markup=False)
