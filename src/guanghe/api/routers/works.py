"""``/v1/works``: list and get works, scoped to the caller."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import AwareDatetime, BaseModel

from guanghe import creators
from guanghe.api.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/v1/works", tags=["works"])


class WorkOut(BaseModel):
    id: int
    creator_id: int
    published_at: dt.datetime
    title: str
    caption: str
    hashtags: list[str]
    vertical: str
    duration_s: int
    cover_path: str | None


class WorkPage(BaseModel):
    items: list[WorkOut]
    next_cursor: str | None


def _out(view: creators.WorkView) -> WorkOut:
    return WorkOut.model_validate(view, from_attributes=True)


@router.get("")
def list_works(
    session: SessionDep,
    principal: PrincipalDep,
    creator_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    vertical: Annotated[str | None, Query(max_length=40, description="vertical slug")] = None,
    published_from: Annotated[
        AwareDatetime | None, Query(description="RFC 3339, inclusive")
    ] = None,
    published_to: Annotated[AwareDatetime | None, Query(description="RFC 3339, exclusive")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=creators.catalog.MAX_PAGE)] = 50,
) -> WorkPage:
    """Works of the creators the caller may see, newest first, a page at a time."""
    filters = creators.WorkFilter(creator_id, vertical, published_from, published_to)
    page = creators.list_works(session, principal, filters, cursor=cursor, limit=limit)
    return WorkPage(items=[_out(v) for v in page.items], next_cursor=page.next_cursor)


@router.get("/{work_id}")
def get_work(
    session: SessionDep, principal: PrincipalDep, work_id: Annotated[int, Path(ge=1, le=2**63 - 1)]
) -> WorkOut:
    """One work."""
    return _out(creators.get_work(session, principal, work_id))
