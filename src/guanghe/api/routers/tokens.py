"""``/v1/tokens``: operators list API tokens and revoke them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel

from guanghe import access
from guanghe.access import Principal
from guanghe.api.deps import forget_principal
from guanghe.http.deps import SessionDep, get_runtime, require_role
from guanghe.runtime import Runtime

router = APIRouter(prefix="/v1/tokens", tags=["access"])

Operator = Annotated[Principal, require_role("operator")]


class TokenOut(BaseModel):
    id: int
    user_id: int
    name: str
    role: str
    subject_id: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class TokenPage(BaseModel):
    items: list[TokenOut]
    next_after_id: int | None


def _out(view: access.TokenView) -> TokenOut:
    return TokenOut.model_validate(view, from_attributes=True)


@router.get("")
def list_tokens(
    _: Operator,
    session: SessionDep,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=access.MAX_TOKEN_PAGE)] = 100,
) -> TokenPage:
    """API tokens, oldest first, a page at a time (operators): whose each is and whether it is
    revoked; never the token itself. The next page starts after ``next_after_id``."""
    views = access.list_tokens(session, after_id=after_id, limit=limit)
    next_after = views[-1].id if len(views) == limit else None
    return TokenPage(items=[_out(v) for v in views], next_after_id=next_after)


@router.delete("/{token_id}")
def revoke_token(
    request: Request,
    _: Operator,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    token_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> TokenOut:
    """Revoke a token (operators): it stops working at once on this server process, within
    seconds on the others. Revoking a revoked token changes nothing."""
    now = dt.datetime.now(dt.UTC)
    view = runtime.write(lambda session: access.revoke_token(session, token_id, now=now))
    forget_principal(request, view.user_id)
    return _out(view)
