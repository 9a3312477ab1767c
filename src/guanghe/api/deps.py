"""Request dependencies: a per-request transaction and the authenticated principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
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


SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
