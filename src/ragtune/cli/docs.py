"""``ragtune docs list|show|rm``"""

from __future__ import annotations

import click

from ragtune.cli.common import console, json_option, open_project, print_json


@click.group()
def docs() -> None:
    """List, inspect and remove stored documents."""


@docs.command("list")
@json_option()
@click.pass_context
def list_docs(ctx: click.Context, as_json: bool) -> None:
    """One line per document: id, version, format, groups, title."""
    project = open_project(ctx)
    documents = project.documents()
    if as_json:
        print_json([{k: v for k, v in d.to_dict().items() if k != "text"} for d in documents])
        return
    from rich.table import Table

    table = Table("id", "v", "format", "groups", "title", box=None)
    for d in documents:
        table.add_row(d.id, str(d.version), d.format, ",".join(d.groups) or "-", d.title)
    out = console()
    out.print(table)
    out.print(f"{len(documents)} documents")


@docs.command("show")
@click.argument("doc_id")
@click.option("--text", "show_text", is_flag=True, help="Print the full extracted text.")
@json_option(note=" (with chunks, versions)")
@click.pass_context
def show(ctx: click.Context, doc_id: str, show_text: bool, as_json: bool) -> None:
    """Metadata, version history and chunks of one document."""
    project = open_project(ctx)
    doc = project.document(doc_id)
    versions = project.store.versions(doc_id)
    chunks = project.store.chunks_of(doc_id)
    if as_json:
        data = doc.to_dict()
        data.update(versions=versions, chunks=[c.to_dict() for c in chunks])
        print_json(data)
        return
    out = console()
    out.print(f"[bold]{doc.title}[/]  ({doc.id}, version {doc.version}, {doc.format})")
    out.print(f"source: {doc.source_path}")
    out.print(f"groups: {', '.join(doc.groups) or '(everyone)'}")
    for key, value in sorted(doc.metadata.items()):
        out.print(f"{key}: {value}", markup=False)
    out.print("versions: " + "; ".join(
        f"v{v['version']} {v['ingested_at']} {v['content_hash'][:10]}"
        + (f" removed {v['removed_at']}" if v["removed_at"] else "")
        for v in versions
    ))  # fmt: skip
    out.print(f"{len(chunks)} chunks:")
    for c in chunks:
        out.print(f"  #{c.ordinal} [{c.start}:{c.end}] {c.n_tokens} tok  {c.section}", markup=False)
    if show_text:
        out.print(doc.text.strip(), markup=False)


@docs.command("rm")
@click.argument("doc_ids", nargs=-1, required=True)
@click.pass_context
def rm(ctx: click.Context, doc_ids: tuple[str, ...]) -> None:
    """Remove documents (their version history records the removal)."""
    project = open_project(ctx)
    out = console()
    missing = []
    for doc_id in doc_ids:
        if project.remove(doc_id):
            out.print(f"removed {doc_id}")
        else:
            missing.append(doc_id)
    if missing:
        from ragtune.errors import NotFoundError

        raise NotFoundError(f"no such document: {', '.join(missing)}", "see `ragtune docs list`")
