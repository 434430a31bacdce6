"""API keys for ``ragtune serve``: created once, stored only as a SHA-256 hash.

A key looks like ``rt_<id>_<secret>``; the id is public (it names the key in listings and
logs), the secret is 32 random bytes. Only the hash of the whole key is stored, so a copy of
the database does not give anyone a working key. Example::

    key, info = create_key(project.store, "alice", groups=["hr"], admin=False)
    caller = lookup_key(project.store, key)     # ApiKey(...) or None
    revoke_key(project.store, info.id)
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ragtune.errors import NotFoundError, UsageError
from ragtune.store.base import Store
from ragtune.store.records import now_iso

_GROUP = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_KEY = re.compile(r"rt_([0-9a-f]{12})_[A-Za-z0-9_-]{20,100}")


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret). ``groups`` limit what its holder may read."""

    id: str
    name: str
    groups: tuple[str, ...]
    admin: bool
    created_at: str
    revoked_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        return data


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_groups(groups: Iterable[str]) -> tuple[str, ...]:
    """Validated, sorted, de-duplicated group names."""
    names = sorted({g.strip() for g in groups if g.strip()})
    for name in names:
        if not _GROUP.fullmatch(name):
            raise UsageError(
                f"bad group name {name!r}", "use letters, digits, '.', '_' or '-' (max 64)"
            )
    return tuple(names)


def create_key(
    store: Store, name: str, groups: Iterable[str] = (), admin: bool = False
) -> tuple[str, ApiKey]:
    """A new key: returns the secret key (shown once) and what is stored about it."""
    if not name.strip() or len(name) > 100:
        raise UsageError(f"bad key name {name!r}", "give a short label, e.g. the holder's name")
    key_id = secrets.token_hex(6)
    key = f"rt_{key_id}_{secrets.token_urlsafe(32)}"
    info = ApiKey(key_id, name.strip(), check_groups(groups), admin, now_iso())
    with store.transaction():
        store.execute(
            "INSERT INTO api_keys(id, name, key_hash, groups, admin, created_at)"
            " VALUES(?,?,?,?,?,?)",
            (key_id, info.name, hash_key(key), json.dumps(list(info.groups)), int(admin),
             info.created_at),
        )  # fmt: skip
    return key, info


def lookup_key(store: Store, key: str) -> ApiKey | None:
    """The active key matching ``key``; None for a malformed, unknown or revoked key."""
    if not _KEY.fullmatch(key):
        return None
    rows = store.query(
        "SELECT * FROM api_keys WHERE key_hash=? AND revoked_at IS NULL", (hash_key(key),)
    )
    return _from_row(rows[0]) if rows else None


def list_keys(store: Store, include_revoked: bool = False) -> list[ApiKey]:
    sql = "SELECT * FROM api_keys"
    if not include_revoked:
        sql += " WHERE revoked_at IS NULL"
    return [_from_row(r) for r in store.query(sql + " ORDER BY created_at, id")]


def revoke_key(store: Store, id_or_name: str) -> list[ApiKey]:
    """Revoke the active key with this id, or every active key with this name."""
    with store.transaction():
        rows = store.query(
            "SELECT * FROM api_keys WHERE (id=? OR name=?) AND revoked_at IS NULL",
            (id_or_name, id_or_name),
        )
        if not rows:
            raise NotFoundError(f"no active key {id_or_name!r}", "see `ragtune keys list`")
        store.execute_many(
            "UPDATE api_keys SET revoked_at=? WHERE id=?", [(now_iso(), r["id"]) for r in rows]
        )
    return [_from_row(r) for r in rows]


def _from_row(row: Any) -> ApiKey:
    return ApiKey(
        id=row["id"], name=row["name"], groups=tuple(json.loads(row["groups"])),
        admin=bool(row["admin"]), created_at=row["created_at"], revoked_at=row["revoked_at"],
    )  # fmt: skip
