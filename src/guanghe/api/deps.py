"""The API's hot-path dependencies: the caller remembered for a few seconds per token, so that
high-rate callers (the feed ranker, profile slots) cost no database round trip per request.
The dependencies the dashboard shares live in :mod:`guanghe.http.deps`."""

from __future__ import annotations

import time
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials

from guanghe.access import Principal, authenticate
from guanghe.errors import Forbidden
from guanghe.http.deps import SESSION_COOKIE, bearer, get_runtime
from guanghe.store import transaction

__all__ = [
    "PRINCIPAL_TTL_SECONDS",
    "SESSION_COOKIE",
    "forget_principal",
    "get_principal_cached",
    "recent_principal",
    "remember_principal",
    "require_role_cached",
]

#: How long a hot path trusts a token it has seen: a token revoked by another process stops
#: working within this (one revoked through this app at once, see :func:`forget_principal`).
PRINCIPAL_TTL_SECONDS: Final = 5.0
_PRINCIPAL_CACHE_LIMIT: Final = 10_000


async def get_principal_cached(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, as :func:`get_principal`, remembered for :data:`PRINCIPAL_TTL_SECONDS` so
    that high-rate callers (the feed ranker) cost no database round trip per request."""
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    principal = recent_principal(request, token)
    if principal is not None:
        return principal
    runtime = get_runtime(request)

    def look_up() -> Principal:
        with transaction(runtime.sessions) as session:
            return authenticate(session, token)

    return remember_principal(request, token, await run_in_threadpool(look_up))


def recent_principal(request: Request, token: str | None) -> Principal | None:
    """The principal of ``token`` if this app authenticated it in the last
    :data:`PRINCIPAL_TTL_SECONDS`."""
    hit = _principal_cache(request).get(token or "")
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def remember_principal(request: Request, token: str | None, principal: Principal) -> Principal:
    """Remember ``principal`` as the owner of ``token`` (see :func:`recent_principal`)."""
    cache = _principal_cache(request)
    if len(cache) >= _PRINCIPAL_CACHE_LIMIT:
        cache.clear()
    cache[token or ""] = (time.monotonic() + PRINCIPAL_TTL_SECONDS, principal)
    return principal


def forget_principal(request: Request, user_id: int) -> None:
    """Stop trusting the remembered tokens of user ``user_id`` (one was revoked): their next
    request is authenticated against the store again."""
    cache = _principal_cache(request)
    for token in [t for t, (_, p) in list(cache.items()) if p.user_id == user_id]:
        cache.pop(token, None)


def _principal_cache(request: Request) -> dict[str, tuple[float, Principal]]:
    cache: dict[str, tuple[float, Principal]] = request.app.state.principal_cache
    return cache


def require_role_cached(*roles: str) -> object:
    """:func:`require_role` over :func:`get_principal_cached`."""

    async def check(principal: Annotated[Principal, Depends(get_principal_cached)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs the {' or '.join(roles)} role, not {principal.role}")
        return principal

    return Depends(check)
