"""``ragtune keys create|list|revoke``: API keys for ``ragtune serve``."""

from __future__ import annotations

import click

from ragtune.cli.common import console, json_option, open_project, print_json, split_csv


@click.group()
def keys() -> None:
    """API keys for `ragtune serve`. Only a hash of each key is stored.

    \b
    A key's groups limit what it may read: search, answers, citations, documents and
    feedback only ever come from documents that are public or share one of its groups
    (the same in-query check as --as-group). Admin keys also upload and delete documents,
    see every document and all feedback.
    """


@keys.command("create")
@click.option("-n", "--name", default="key", show_default=True, help="A label (e.g. holder).")
@click.option("-g", "--groups", multiple=True, metavar="G[,G]", help="Groups, e.g. hr,eng.")
@click.option("--admin", is_flag=True, help="May manage documents and see all feedback.")
@json_option("the key and its record")
@click.pass_context
def create(
    ctx: click.Context, name: str, groups: tuple[str, ...], admin: bool, as_json: bool
) -> None:
    """Create a key and print it once (it cannot be shown again)."""
    from ragtune.store.keys import create_key

    key, info = create_key(open_project(ctx).store, name, split_csv(groups), admin)
    if as_json:
        print_json({"key": key, **info.to_dict()})
        return
    click.echo(key)
    groups_text = ", ".join(info.groups) or "none (public documents only)"
    console(err=True).print(
        f"[dim]key {info.id} ({info.name}); groups: {groups_text}"
        f"{'; admin' if info.admin else ''}. Store it now: only its hash is kept.[/]"
    )


@keys.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@json_option()
@click.pass_context
def list_cmd(ctx: click.Context, include_revoked: bool, as_json: bool) -> None:
    """Keys (never their secrets): id, name, groups, admin, created, revoked."""
    from rich.table import Table

    from ragtune.store.keys import list_keys

    found = list_keys(open_project(ctx).store, include_revoked)
    if as_json:
        print_json([k.to_dict() for k in found])
        return
    table = Table("id", "name", "groups", "admin", "created", "revoked", box=None)
    for k in found:
        table.add_row(k.id, k.name, ",".join(k.groups) or "-", "yes" if k.admin else "",
                      k.created_at, k.revoked_at or "")  # fmt: skip
    out = console()
    out.print(table)
    out.print(f"{len(found)} keys" if found else "No keys; create one with `ragtune keys create`.")


@keys.command("revoke")
@click.argument("id_or_name")
@click.pass_context
def revoke(ctx: click.Context, id_or_name: str) -> None:
    """Revoke a key by id, or every active key with that name (effective at once)."""
    from ragtune.store.keys import revoke_key

    for k in revoke_key(open_project(ctx).store, id_or_name):
        click.echo(f"revoked {k.id} ({k.name})")
