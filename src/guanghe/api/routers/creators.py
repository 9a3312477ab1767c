"""``/v1/creators``: list and get creators, scoped to the caller."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from guanghe import creators
from guanghe.api.deps import PrincipalDep, SessionDep
from guanghe.vocabulary import STAGES

router = APIRouter(prefix="/v1/creators", tags=["creators"])

CreatorId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class CreatorOut(BaseModel):
    id: int
    handle: str
    display_name: str
    vertical: str
    joined_on: dt.date
    follower_count: int
    stage: str
    institution_id: int | None


class CreatorPage(BaseModel):
    items: list[CreatorOut]
    next_cursor: str | None


def _out(view: creators.CreatorView) -> CreatorOut:
    return CreatorOut.model_validate(view, from_attributes=True)


@router.get("")
def list_creators(
    session: SessionDep,
    principal: PrincipalDep,
    vertical: Annotated[str | None, Query(max_length=40, description="vertical slug")] = None,
    stage: Annotated[str | None, Query(pattern="^(" + "|".join(STAGES) + ")$")] = None,
    institution_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    min_followers: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    max_followers: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=creators.catalog.MAX_PAGE)] = 50,
) -> CreatorPage:
    """Creators the caller may see, in id order, a page at a time."""
    filters = creators.CreatorFilter(vertical, stage, institution_id, min_followers, max_followers)
    page = creators.list_creators(session, principal, filters, cursor=cursor, limit=limit)
    return CreatorPage(items=[_out(v) for v in page.items], next_cursor=page.next_cursor)


@router.get("/{creator_id}")
def get_creator(session: SessionDep, principal: PrincipalDep, creator_id: CreatorId) -> CreatorOut:
    """One creator."""
    return _out(creators.get_creator(session, principal, creator_id))
