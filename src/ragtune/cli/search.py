"""``ragtune search``"""

from __future__ import annotations

import click

from ragtune.cli.common import console, json_option, open_project, print_json, split_csv


@click.command()
@click.argument("query")
@click.option("--mode", type=str, default=None, help="bm25 | dense | hybrid (default: config).")
@click.option("-k", "--k", "k", type=int, default=None, help="Number of results (default 5).")
@click.option("--filter", "filters", multiple=True, metavar="EXPR", help="Metadata filter.")
@click.option("--as-group", "as_group", multiple=True, metavar="G", help="Search as a member of G.")
@json_option("hits")
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    mode: str | None,
    k: int | None,
    filters: tuple[str, ...],
    as_group: tuple[str, ...],
    as_json: bool,
) -> None:
    """Search the ingested documents.

    \b
    Modes: bm25 (SQLite FTS5's tokens and scores, ranked from an in-memory index kept in
    .ragtune/index), dense (all-MiniLM-L6-v2, packaged; exact cosine, or from 50,000
    chunks on an HNSW graph: retrieval.dense_index), hybrid (the default: both, fused by
    reciprocal ranks weighted by how far each list's best hit stands out, then a
    section's opening chunk put before its later chunks; bench/fusion_faq.py;
    retrieval.fusion in ragtune.toml chooses lead_rrf, rrf, convex or dbsf).
    Reranking: none by default, since no cross-encoder ships offline; set rerank.name =
    "cross-encoder" and rerank.model_path in ragtune.toml to use a local one.
    Filters and --as-group are applied inside the query, so k allowed hits come back
    whenever k exist. Without --as-group you search as the local owner (everything).

    \b
    Filter syntax (repeat --filter or join clauses with 'and'):
      department = hr        department in (hr, finance)     doc_type != faq
      effective_date >= 2025-06-01     exists(owner)         not exists(owner)
    """
    project = open_project(ctx)
    groups = split_csv(as_group) if as_group else None
    hits = project.search(query, mode=mode, k=k, filters=list(filters) or None, groups=groups)
    if as_json:
        print_json([h.to_dict() for h in hits])
        return
    out = console()
    if not hits:
        out.print("No results.")
    for rank, hit in enumerate(hits, start=1):
        c = hit.chunk
        snippet = " ".join(c.text.split())[:240]
        out.print(f"[bold]{rank}. {hit.title}[/]  [dim]{c.doc_id} · {c.section} · "
                  f"chars {c.start}-{c.end} · score {hit.score:.3f}[/]")  # fmt: skip
        out.print(f"   {snippet}", markup=False)
