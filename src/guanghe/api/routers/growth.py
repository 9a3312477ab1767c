"""``/v1/creators/{id}/growth``: stage, tier, rights and the road to the next tier."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from guanghe import creators
from guanghe.api.fields import IdPath
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime
from guanghe.runtime import Runtime

router = APIRouter(prefix="/v1/creators", tags=["growth"])

CreatorId = IdPath


class RightOut(BaseModel):
    name: str
    title: str
    description: str
    status: str


class RequirementOut(BaseModel):
    name: str
    required: float
    current: float
    met: bool
    progress: float


class NextTierOut(BaseModel):
    name: str
    requirements: list[RequirementOut]
    missing: list[str]
    rights_unlocked: list[RightOut]


class TeachingOut(BaseModel):
    title: str
    url: str


class TierChangeOut(BaseModel):
    since: dt.date
    tier: str
    stage: str
    quality: float


class GrowthOut(BaseModel):
    creator_id: int
    as_of: dt.date
    stage: str
    quality: float
    in_pool: bool
    tier: str
    rights: list[RightOut]
    coming_rights: list[RightOut]
    next_tier: NextTierOut | None
    teaching: list[TeachingOut]
    history: list[TierChangeOut]
    badges: list[str]


@router.get("/{creator_id}/growth")
def get_growth(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    creator_id: CreatorId,
) -> GrowthOut:
    """Where the creator stands: creators see their own, institutions their signed creators,
    operators everyone."""
    data_dir = runtime.settings.data_dir
    view = creators.creator_growth(
        session,
        principal,
        creator_id,
        snapshots=runtime.settings.snapshots_dir,
        rules=creators.load_rules(creators.rules_path(data_dir)),
    )
    return GrowthOut.model_validate(view, from_attributes=True)
