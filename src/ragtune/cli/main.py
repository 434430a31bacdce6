"""``ragtune`` entry point. Heavy imports happen inside commands, so ``--help`` is fast."""

from __future__ import annotations

import sys
from typing import Any

import click

from ragtune.errors import RagtuneError


class _Group(click.Group):
    """Translates RagtuneError into one line on stderr (no traceback) and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RagtuneError as exc:
            click.secho(f"Error: {exc}", err=True, fg="red")
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.secho("Interrupted; everything committed so far is kept.", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-C",
    "--project",
    "project_dir",
    default=".",
    envvar="RAGTUNE_PROJECT",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Project folder (or any folder below it). Env: RAGTUNE_PROJECT.",
)
@click.version_option(package_name="ragtune")
@click.pass_context
def cli(ctx: click.Context, project_dir: str) -> None:
    """ragtune: RAG, fine-tuning, or both? Decide from measurements on your own documents.

    \b
    Typical flow:
      ragtune init                 create ragtune.toml and .ragtune/ here
      ragtune ingest docs/         add or update documents (incremental)
      ragtune search "question"    hybrid BM25 + dense search
      ragtune ask "question"       a grounded answer with numbered sources
      ragtune docs list            what is stored
      ragtune serve                OpenAI-compatible API + web UI (keys: ragtune keys)
      ragtune pilot docs/          the whole job: tune, compare, advise, report
    """
    ctx.obj = {"project_dir": project_dir}


def _register() -> None:
    from ragtune.cli import adapters, ask, calibrate, docs, ingest, init, search, tune

    cli.add_command(init.init)
    cli.add_command(ingest.ingest)
    cli.add_command(search.search)
    cli.add_command(ask.ask)
    cli.add_command(calibrate.calibrate)
    cli.add_command(tune.tune)
    cli.add_command(adapters.adapters)
    cli.add_command(docs.docs)
    from ragtune.cli import data  # training data; kept apart from the line above on purpose

    cli.add_command(data.data)
    from ragtune.cli import compare  # the pilots

    cli.add_command(compare.compare)
    from ragtune.cli import keys, serve  # the service; kept apart to ease concurrent edits

    cli.add_command(serve.serve)
    cli.add_command(keys.keys)
    from ragtune.cli import advise, pilot  # advice, report and the main job

    cli.add_command(advise.advise)
    cli.add_command(pilot.pilot)


_register()


def main() -> None:
    cli(prog_name="ragtune")


if __name__ == "__main__":
    main()
