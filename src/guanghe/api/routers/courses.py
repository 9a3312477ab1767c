"""``/v1/courses``: teaching resources by stage, each creator's recommended lessons and the
lessons they completed."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from guanghe import community, creators
from guanghe.api.fields import IdPath, StorableText
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime
from guanghe.runtime import Runtime

router = APIRouter(tags=["courses"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Stage = Literal["novice", "growing", "mature"]
Slug = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$")]


class LessonIn(BaseModel):
    title: StorableText = Field(min_length=1, max_length=200)
    minutes: int = Field(ge=1, le=600)
    body: StorableText = Field(default="", max_length=20_000)
    url: Annotated[str, Field(max_length=500, pattern=r"^https?://\S+$")] | None = None
    addresses: Annotated[str, Field(max_length=40)] | None = Field(
        default=None, description="the growth rule it helps with (see docs/live_and_courses.md)"
    )


class CourseIn(BaseModel):
    slug: Slug
    title: StorableText = Field(min_length=1, max_length=200)
    summary: StorableText = Field(default="", max_length=4_000)
    stage: Stage
    vertical: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None, description="none: every vertical"
    )
    lessons: list[LessonIn] = Field(min_length=1, max_length=50)


class LessonOut(BaseModel):
    id: int
    course_id: int
    course: str
    position: int
    title: str
    body: str
    url: str | None
    minutes: int
    addresses: str | None
    completed: bool = Field(description="by the calling creator (false for other roles)")


class CourseOut(BaseModel):
    id: int
    slug: str
    title: str
    summary: str
    stage: str
    vertical: str | None
    lessons: list[LessonOut]


class GapOut(BaseModel):
    rule: str
    label: str
    score: float = Field(description="0 (weakest) to 1")


class RecommendationOut(BaseModel):
    lesson: LessonOut
    gap: GapOut | None


class RecommendationsOut(BaseModel):
    creator_id: int
    stage: str
    gaps: list[GapOut] = Field(description="weakest first")
    lessons: list[RecommendationOut]


def _course(view: community.CourseView) -> CourseOut:
    return CourseOut.model_validate(view, from_attributes=True)


@router.get("/v1/courses")
def list_courses(
    session: SessionDep,
    principal: PrincipalDep,
    stage: Stage | None = None,
    vertical: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9-]+$")] = None,
) -> list[CourseOut]:
    """Courses, of a stage and a vertical (courses for every vertical included)."""
    views = community.list_courses(session, principal, stage=stage, vertical=vertical)
    return [_course(v) for v in views]


@router.post("/v1/courses", status_code=201)
def create_course(runtime: RuntimeDep, principal: PrincipalDep, body: CourseIn) -> CourseOut:
    """Operators: add a course and its lessons (409 if the slug is taken)."""
    spec = community.CourseSpec(
        slug=body.slug,
        title=body.title,
        summary=body.summary,
        stage=body.stage,
        vertical=body.vertical,
        lessons=tuple(
            community.LessonSpec(
                title=lesson.title,
                minutes=lesson.minutes,
                body=lesson.body,
                url=lesson.url,
                addresses=lesson.addresses,
            )
            for lesson in body.lessons
        ),
    )
    now = dt.datetime.now(dt.UTC)
    return _course(runtime.write(lambda s: community.create_course(s, principal, spec, now=now)))


@router.get(
    "/v1/courses/recommended",
    responses={404: {"description": "No such creator, or no growth assessment of it yet"}},
)
def recommended(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    creator_id: Annotated[int, Query(ge=1, le=2**63 - 1)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> RecommendationsOut:
    """The creator's lessons, those for their weakest growth rule first (the creator, its
    institution, operators)."""
    growth = creators.creator_growth(
        session,
        principal,
        creator_id,
        snapshots=runtime.settings.snapshots_dir,
        rules=creators.load_rules(creators.rules_path(runtime.settings.data_dir)),
    )
    found = community.recommend_lessons(session, growth, limit=limit)
    return RecommendationsOut.model_validate(found, from_attributes=True)


@router.get("/v1/courses/{course_id}")
def get_course(session: SessionDep, principal: PrincipalDep, course_id: IdPath) -> CourseOut:
    """One course and its lessons."""
    return _course(community.get_course(session, principal, course_id))


@router.put("/v1/courses/{course_id}/lessons/{lesson_id}/completion")
def complete_lesson(
    runtime: RuntimeDep, principal: PrincipalDep, course_id: IdPath, lesson_id: IdPath
) -> LessonOut:
    """Creators: mark a lesson completed."""
    now = dt.datetime.now(dt.UTC)
    done = runtime.write(
        lambda s: community.complete_lesson(s, principal, course_id, lesson_id, now=now)
    )
    return LessonOut.model_validate(done, from_attributes=True)
