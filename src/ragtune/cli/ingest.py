"""``ragtune ingest``"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ragtune.cli.common import (
    console,
    json_option,
    open_project,
    parse_pairs,
    print_json,
    split_csv,
)
from ragtune.types import IngestReport


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--include", multiple=True, metavar="GLOB", help="Only files matching (repeatable).")
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Also skip files/folders matching (hidden and _-prefixed ones always are).",
)
@click.option("--meta", multiple=True, metavar="K=V", help="Metadata for files that lack K.")
@click.option(
    "--groups",
    multiple=True,
    metavar="G1,G2",
    help="Access groups for files without their own (default: a stored document keeps its "
    "groups; a new one is public).",
)
@click.option(
    "--public", is_flag=True, help="Make files without groups of their own readable by everyone."
)
@click.option("--sync", is_flag=True, help="Also remove stored documents not found under PATHS.")
@click.option(
    "--ray",
    metavar="ADDRESS",
    default=None,
    help="Embed on a Ray cluster: auto (a running one, or RAY_ADDRESS), local (start Ray "
    "here) or HOST:PORT. Needs pip install 'ragtune[ray]' on every node.",
)
@json_option("the report")
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    meta: tuple[str, ...],
    groups: tuple[str, ...],
    public: bool,
    sync: bool,
    ray: str | None,
    as_json: bool,
) -> None:
    """Add or update documents from files and folders (.md .txt .html .pdf, recursively).

    \b
    Incremental: unchanged files are skipped by content hash; a changed file replaces its
    old version atomically. A document's id is its path relative to the PATH argument, so
    `ingest docs-v2/ --sync` updates the documents first ingested from `docs/`.
    Metadata comes from YAML front matter (.md/.txt), <meta> tags (.html) and PDF info;
    `groups:` limits who may retrieve a document (`groups: []` = everyone). A file that
    declares no groups gets --groups, or with --public none; without either, a document
    already stored keeps its groups, so an update never publishes it by omission.
    Files that fail (corrupt, binary, too large, unreadable) are listed with the reason and
    skipped; everything else is ingested. Exit code 3 when some files failed.
    """
    if public and groups:
        raise click.UsageError("--public and --groups contradict each other; choose one")
    project = open_project(ctx)
    options: dict[str, Any] = {
        "meta": {k: v.strip() for k, v in parse_pairs(meta, "--meta").items()},
        "groups": split_csv(groups) if groups else ([] if public else None),
        "include": list(include) or None,
        "exclude": list(exclude) or None,
        "sync": sync,
        "ray": ray,
    }
    err = console(err=True)
    if err.is_terminal and not as_json:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("Ingesting", total=None)

            def tick(done: int, total: int, name: str) -> None:
                bar.update(task, completed=done, total=total, description=f"Ingesting {name[:40]}")

            report = project.ingest(paths, progress=tick, **options)
    else:
        report = project.ingest(paths, **options)
    if as_json:
        print_json(report.to_dict())
    else:
        _print_report(report)
    if report.by_status("failed"):
        sys.exit(3)


def _print_report(report: IngestReport) -> None:
    out = console()
    counts = report.counts()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n or k in ("added", "updated"))
    kept = f" ({report.n_reused} kept their vectors)" if report.n_reused else ""
    out.print(f"{summary}; {report.n_chunks} chunks written{kept} in {report.seconds:.1f}s")
    if report.shards:
        nodes = len({s["node"] for s in report.shards})
        out.print(f"  embedded on Ray: {len(report.shards)} shard(s) over {nodes} node(s)")
    for outcome in report.by_status("failed"):
        out.print(f"  [red]failed[/] {outcome.path}: {outcome.reason}")
    for outcome in report.by_status("removed"):
        out.print(f"  [yellow]removed[/] {outcome.doc_id}")
    if report.excluded:
        shown = ", ".join(report.excluded[:5]) + (", ..." if len(report.excluded) > 5 else "")
        out.print(
            f"  [yellow]excluded[/] {len(report.excluded)} path(s) matching ingest.exclude "
            f"({shown}); set ingest.exclude in ragtune.toml to ingest them"
        )
