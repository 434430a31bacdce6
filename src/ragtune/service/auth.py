"""API-key authentication: every endpoint but ``/healthz`` (and the static UI) needs a key.

Keys arrive as ``Authorization: Bearer rt_...`` (what OpenAI clients send) or
``X-API-Key: rt_...``. The key's groups then limit retrieval exactly like ``--as-group``:
the ACL is part of the SQL of each search, never a filter on its results.
"""

from __future__ import annotations

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ragtune.service.deps import Caller, Runtime
from ragtune.service.errors import forbidden, unauthorized
from ragtune.store.keys import lookup_key


def runtime(request: Request) -> Runtime:
    """The app's :class:`Runtime` (set by ``create_app``)."""
    rt: Runtime = request.app.state.runtime
    return rt


def _presented_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    bearer = value.strip() if scheme.lower() == "bearer" else ""
    named = request.headers.get("x-api-key", "").strip()
    if bearer and named and bearer != named:
        # Two different keys: trusting either one would let a stale or wrong header decide
        # whose documents the caller sees.
        raise unauthorized("two different API keys (Authorization and X-API-Key); send one")
    return bearer or named


# Declared for the OpenAPI schema (generated clients and fuzzers learn how to authenticate);
# the key itself is read by _presented_key, which accepts either header.
_BEARER = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rt_...`")
_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")


async def caller(
    request: Request,
    _bearer: HTTPAuthorizationCredentials | None = Security(_BEARER),
    _header: str | None = Security(_HEADER),
) -> Caller:
    """The caller behind the request's key; 401 when it is missing, unknown or revoked."""
    key = _presented_key(request)
    if not key:
        raise unauthorized("missing API key")
    rt = runtime(request)
    found = await rt.run(rt.read, lambda: lookup_key(rt.local().store, key))
    if found is None:
        raise unauthorized("invalid or revoked API key")
    who = Caller(found.id, found.name, found.groups, found.admin)
    request.state.caller = who
    return who


async def admin(who: Caller = Depends(caller)) -> Caller:
    """Like :func:`caller`, but 403 unless the key is an admin key."""
    if not who.admin:
        raise forbidden()
    return who
