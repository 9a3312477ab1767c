"""``/v1/creators``: list and get creators, scoped to the caller."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from guanghe import creators
from guanghe.api.fields import MAX_INT63, Cursor, IdPath, IdQuery, StorableText
from guanghe.http.deps import PrincipalDep, SessionDep
from guanghe.pagination import MAX_PAGE
from guanghe.vocabulary import STAGES

router = APIRouter(prefix="/v1/creators", tags=["creators"])

CreatorId = IdPath
#: A vertical named as ``GET /v1/verticals`` lists it.
VerticalQuery = Annotated[
    StorableText | None, Query(max_length=40, description="A name from /v1/verticals")
]


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
    vertical: VerticalQuery = None,
    stage: Annotated[str | None, Query(pattern="^(" + "|".join(STAGES) + ")$")] = None,
    institution_id: IdQuery = None,
    min_followers: Annotated[int | None, Query(ge=0, le=MAX_INT63)] = None,
    max_followers: Annotated[int | None, Query(ge=0, le=MAX_INT63)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> CreatorPage:
    """Creators the caller may see, in id order, a page at a time."""
    filters = creators.CreatorFilter(vertical, stage, institution_id, min_followers, max_followers)
    page = creators.list_creators(session, principal, filters, cursor=cursor, limit=limit)
    return CreatorPage(items=[_out(v) for v in page.items], next_cursor=page.next_cursor)


@router.get("/{creator_id}")
def get_creator(session: SessionDep, principal: PrincipalDep, creator_id: CreatorId) -> CreatorOut:
    """One creator."""
    return _out(creators.get_creator(session, principal, creator_id))


class VerticalOut(BaseModel):
    id: int
    slug: str = Field(description="The name every endpoint uses for the vertical")
    name: str


verticals_router = APIRouter(tags=["creators"])


@verticals_router.get("/v1/verticals")
def list_verticals(session: SessionDep, _caller: PrincipalDep) -> list[VerticalOut]:
    """The vertical vocabulary: every endpoint names verticals by ``slug``."""
    views = creators.list_verticals(session)
    return [VerticalOut.model_validate(v, from_attributes=True) for v in views]
