"""``/v1/creators/{id}/growth``: stage, tier, rights and the road to the next tier."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from guanghe import community, creators
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


class NextTierLessonOut(BaseModel):
    course_id: int
    lesson_id: int
    course: str
    title: str
    minutes: int
    addresses: str
    score: float = Field(description="the creator's standing on that rule, 0 (weakest) to 1")


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
    signal_ranks: dict[str, float] = Field(
        description="each quality signal's rank within the creator's vertical, 0..1"
    )
    next_tier_lessons: list[NextTierLessonOut] = Field(
        description="lessons addressing what the next tier still needs, weakest rule first"
    )


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
    lessons = [
        NextTierLessonOut(
            course_id=r.lesson.course_id,
            lesson_id=r.lesson.id,
            course=r.lesson.course,
            title=r.lesson.title,
            minutes=r.lesson.minutes,
            addresses=r.gap.rule,
            score=r.gap.score,
        )
        for r in community.lessons_toward_next_tier(session, view)
        if r.gap is not None
    ]
    return GrowthOut.model_validate(dataclasses.asdict(view) | {"next_tier_lessons": lessons})
