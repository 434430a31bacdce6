"""``ragtune serve``"""

from __future__ import annotations

from pathlib import Path

import click

from ragtune.cli.common import console, open_project


@click.command()
@click.option(
    "--strategy",
    default="rag",
    show_default=True,
    help="Default strategy (a request's `model` may pick another; GET /v1/models).",
)
@click.option("--adapter", default=None, help="Default adapter (for ft, ft+rag, raft+rag).")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 exposes it to the network).",
)
@click.option("--port", type=int, default=8000, show_default=True, help="TCP port.")
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=120.0,
    show_default=True,
    help="Seconds an answer may take (queue + generation) before 504.",
)
@click.option(
    "--max-body-mb",
    type=float,
    default=20.0,
    show_default=True,
    help="Largest request body (uploads included); bigger ones get 413.",
)
@click.option(
    "--max-question-chars",
    type=int,
    default=2000,
    show_default=True,
    help="Longer questions get 422.",
)
@click.option(
    "--max-tokens", type=int, default=512, show_default=True, help="Cap on a request's max_tokens."
)
@click.option(
    "--read-workers",
    type=int,
    default=2,
    show_default=True,
    help="Threads for search and reads (answers always run one at a time).",
)
@click.option(
    "--query-batch",
    type=click.IntRange(1, 1024),
    default=64,
    show_default=True,
    help="Searches arriving together are embedded in one batch of up to this many queries "
    "(1: each query alone, the old behaviour).",
)
@click.option(
    "--query-window-ms",
    type=click.FloatRange(0, 1000),
    default=2.0,
    show_default=True,
    help="How long the first search of a quiet moment waits for others to batch with.",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Pilot report the UI links to (default: newest .ragtune/reports/**/*.html).",
)
@click.option("--no-warm", is_flag=True, help="Load the model on the first question, not at start.")
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.pass_context
def serve(
    ctx: click.Context, strategy: str, adapter: str | None, host: str, port: int,
    timeout_s: float, max_body_mb: float, max_question_chars: int, max_tokens: int,
    read_workers: int, query_batch: int, query_window_ms: float, report: Path | None,
    no_warm: bool, log_level: str,
) -> None:  # fmt: skip
    """Serve the project over HTTP: an OpenAI-compatible API and a web UI.

    \b
    Endpoints (all but /healthz need `Authorization: Bearer KEY`, see `ragtune keys`):
      POST /v1/chat/completions   OpenAI chat (stream or not); `model` picks the strategy,
                                  the reply keeps [n] markers and adds `citations`
      GET  /v1/models             strategies and strategy:adapter pairs
      POST /v1/ask  /v1/search    answer with citations, passages and timings; search
      POST|GET /v1/documents, GET|DELETE /v1/documents/ID   (upload/delete: admin keys)
      POST|GET /v1/feedback       up/down + comment on an answer; export
      GET  /healthz  /metrics     liveness; Prometheus metrics
      GET  /                      the web UI (asks for a key)
    A key's groups limit retrieval like --as-group. Answers are generated one at a time;
    Ctrl-C or SIGTERM finishes running requests before exiting.
    """
    import uvicorn

    from ragtune.service.answering import check_default
    from ragtune.service.app import create_app
    from ragtune.service.deps import ServiceConfig
    from ragtune.store.keys import list_keys

    project = open_project(ctx)
    config = ServiceConfig(
        strategy=strategy, adapter=adapter, max_body_bytes=int(max_body_mb * 1024 * 1024),
        max_question_chars=max_question_chars, generation_timeout_s=timeout_s,
        max_new_tokens=max_tokens, read_workers=read_workers, query_batch=query_batch,
        query_window_ms=query_window_ms, warm=not no_warm, report=report,
    )  # fmt: skip
    check_default(project, config)  # a bad strategy or adapter fails here, not at start-up
    err = console(err=True)
    if not list_keys(project.store):
        err.print("[yellow]No API keys yet:[/] create one with `ragtune keys create --admin`.")
    project.close()  # the service opens its own connections, one per worker thread
    err.print(f"Serving {project.root} on http://{host}:{port}  (UI at /, API at /v1)")
    uvicorn.run(
        create_app(project, config), host=host, port=port, log_level=log_level,
        timeout_graceful_shutdown=int(max(timeout_s, 5.0)),
    )  # fmt: skip
