"""Request dependencies the API and the dashboard share: the runtime, a per-request
transaction, the authenticated principal, role checks, the session cookie and the refusal of
writes that another site's page started."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from guanghe.access import Principal, authenticate
from guanghe.errors import Forbidden
from guanghe.runtime import Runtime
from guanghe.store import transaction

SESSION_COOKIE = "guanghe_session"
bearer = HTTPBearer(auto_error=False, description="An API token from `guanghe token create`")
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
    """One transaction per request, committed when the handler returns without error and
    before the response is sent (``scope="function"``): a client never hears of a write that
    did not commit, and the page a redirect leads to reads it."""
    with transaction(runtime.sessions) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
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


PrincipalDep = Annotated[Principal, Depends(get_principal)]
