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
#: What browsers say (``Sec-Fetch-Site``) of a request that another site's page started.
_FOREIGN_SITES: Final = frozenset({"cross-site", "same-site"})
_READS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


async def refuse_foreign_writes(request: Request) -> None:
    """Refuse a write that another site's page made a browser send without a bearer token
    (cross-site request forgery).

    The session cookie is ``SameSite=Lax``, so such a request arrives signed out; this also
    covers what needs no cookie: signing a visitor in with the forger's token, or out. Browsers
    mark these requests ``Sec-Fetch-Site: cross-site`` (``same-site`` from a sibling domain).
    A foreign page cannot attach an ``Authorization`` header without a CORS grant, which this
    app never gives, so a request bearing one holds its token; API clients send no such mark.
    (``async``: it runs on the event loop, adding no thread hop to the hot paths.)
    """
    if (
        request.method not in _READS
        and request.headers.get("sec-fetch-site") in _FOREIGN_SITES
        and "authorization" not in request.headers
    ):
        raise Forbidden("this write came from another site's page")


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


#: How long a hot path trusts a token it has seen: a token revoked by another process stops
#: working within this (one revoked through this app at once, see :func:`forget_principal`).
PRINCIPAL_TTL_SECONDS: Final = 5.0
_PRINCIPAL_CACHE_LIMIT: Final = 10_000


async def get_principal_cached(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
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


SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
