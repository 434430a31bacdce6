"""``ragtune init``"""

from __future__ import annotations

from pathlib import Path

import click

from ragtune.cli.common import console


@click.command()
@click.argument("path", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def init(ctx: click.Context, path: Path | None) -> None:
    """Create a project: ragtune.toml (all settings, commented) and the .ragtune/ state folder.

    PATH defaults to the -C/--project folder (the current one).
    """
    from ragtune.project import Project

    root = path or Path(ctx.obj["project_dir"])
    project = Project.init(root)
    console().print(f"Initialised ragtune project in [bold]{project.root}[/]")
    console().print("Next: ragtune ingest DOCS_FOLDER")
