"""Request dependencies: a per-request transaction and the authenticated principal."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from guanghe.access import Principal, authenticate
from guanghe.errors import Forbidden
from guanghe.runtime import Runtime
from guanghe.store import transaction

SESSION_COOKIE = "guanghe_session"
_bearer = HTTPBearer(auto_error=False, description="An API token from `guanghe token create`")


def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[Session]:
    """One transaction per request, committed when the handler returns without error."""
    with transaction(runtime.sessions) as session:
        yield session


def get_principal(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from the bearer token or the dashboard's session cookie."""
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    return authenticate(session, token)


def require_role(*roles: str) -> object:
    """A dependency that admits only principals with one of ``roles``."""

    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs the {' or '.join(roles)} role, not {principal.role}")
        return principal

    return Depends(check)


#: How long a hot path trusts a token it has seen: a revoked token stops working within this.
PRINCIPAL_TTL_SECONDS: Final = 5.0
_PRINCIPAL_CACHE_LIMIT: Final = 10_000


async def get_principal_cached(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, as :func:`get_principal`, remembered for :data:`PRINCIPAL_TTL_SECONDS` so
    that high-rate callers (the feed ranker) cost no database round trip per request."""
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    cache: dict[str, tuple[float, Principal]] = request.app.state.__dict__.setdefault(
        "principal_cache", {}
    )
    now = time.monotonic()
    hit = cache.get(token or "")
    if hit is not None and hit[0] > now:
        return hit[1]
    runtime = get_runtime(request)

    def look_up() -> Principal:
        with transaction(runtime.sessions) as session:
            return authenticate(session, token)

    principal = await run_in_threadpool(look_up)
    if len(cache) >= _PRINCIPAL_CACHE_LIMIT:
        cache.clear()
    cache[token or ""] = (now + PRINCIPAL_TTL_SECONDS, principal)
    return principal


def require_role_cached(*roles: str) -> object:
    """:func:`require_role` over :func:`get_principal_cached`."""

    async def check(principal: Annotated[Principal, Depends(get_principal_cached)]) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs the {' or '.join(roles)} role, not {principal.role}")
        return principal

    return Depends(check)


SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
