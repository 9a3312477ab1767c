"""Teaching resources by stage: courses and lessons tagged by stage and vertical, the lessons
recommended to each creator by their stage and the gaps their growth rules show, completion
tracked, and the lessons that move a creator towards the next tier.

A lesson may say which growth rule it ``addresses``: a requirement of a tier
(``min_works_28d``, ``min_followers``... see ``creators/rules.toml``) or a quality signal
(``play_rate``, ``engagement_rate``...). A creator's gaps (:func:`growth_gaps`) score each rule
from 0 (weakest) to 1: an unmet requirement of the next tier by the share of it reached, a
quality signal by its rank within the creator's vertical (the quality requirement itself is
the weighted mean of those ranks, so the signals stand for it). A signal is a gap only where the
creator ranks in the lower half of their vertical (below :data:`SIGNAL_GAP_RANK`): a creator
strong on every signal, with nothing unmet, has no weakest rule. The weakest rule is the gap with
the lowest score; recommendations put the lessons addressing it first.

Operators add courses; creators complete lessons as themselves; operators, creators,
institutions and agents read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.community.members import check_reader
from guanghe.creators import GrowthView, vertical_ids
from guanghe.creators.rules import QUALITY_SIGNALS, TIER_REQUIREMENTS
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.store import Course, Creator, Lesson, LessonCompletion, Vertical
from guanghe.text import check_text
from guanghe.vocabulary import STAGES

#: The growth rules a lesson may address.
GROWTH_RULES: Final = (*TIER_REQUIREMENTS, *QUALITY_SIGNALS)
MAX_LESSONS: Final = 50
SIGNAL_GAP_RANK: Final = 0.5  # a quality signal ranked below the vertical's median is a gap
_SLUG: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")
MAX_LESSON_BODY_CHARS: Final = 20_000
#: What each rule is about, as a creator reads it.
RULE_LABELS: Final = {
    "min_followers": "followers",
    "min_quality": "quality score",
    "min_works_28d": "works published in 28 days",
    "min_active_days_28d": "active days in 28 days",
    "min_continuous_months": "months of continuous publishing",
    "engagement_rate": "engagement per play",
    "follow_rate": "follows per exposure",
    "play_rate": "plays per exposure (titles, covers, length)",
    "consistency": "publishing consistency",
    "retention": "followers kept (few unfollows)",
}


@dataclass(frozen=True, slots=True)
class LessonSpec:
    title: str
    minutes: int
    body: str = ""
    url: str | None = None
    addresses: str | None = None


@dataclass(frozen=True, slots=True)
class CourseSpec:
    slug: str
    title: str
    stage: str
    lessons: tuple[LessonSpec, ...]
    summary: str = ""
    vertical: str | None = None


@dataclass(frozen=True, slots=True)
class LessonView:
    id: int
    course_id: int
    course: str
    position: int
    title: str
    body: str
    url: str | None
    minutes: int
    addresses: str | None
    completed: bool


@dataclass(frozen=True, slots=True)
class CourseView:
    id: int
    slug: str
    title: str
    summary: str
    stage: str
    vertical: str | None
    lessons: tuple[LessonView, ...]


@dataclass(frozen=True, slots=True)
class Gap:
    """One growth rule for one creator: ``score`` 0 (weakest) .. 1."""

    rule: str
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class Recommendation:
    lesson: LessonView
    gap: Gap | None  # the gap it addresses, if any of the creator's


@dataclass(frozen=True, slots=True)
class Recommendations:
    creator_id: int
    stage: str
    gaps: tuple[Gap, ...]  # weakest first
    lessons: tuple[Recommendation, ...]


def create_course(
    session: Session, principal: Principal, spec: CourseSpec, *, now: dt.datetime
) -> CourseView:
    """Add a course and its lessons (operators); :class:`Conflict` if the slug is taken."""
    if principal.role != "operator":
        raise Forbidden("only operators add courses")
    _check_spec(spec)
    if session.scalar(select(Course.id).where(Course.slug == spec.slug)) is not None:
        raise Conflict(f"a course with slug {spec.slug!r} exists")
    vertical = (
        vertical_ids(session, [spec.vertical], field="vertical")[0] if spec.vertical else None
    )
    course = Course(
        slug=spec.slug,
        title=spec.title.strip(),
        summary=spec.summary,
        stage=spec.stage,
        vertical_id=vertical,
        created_at=now,
    )
    session.add(course)
    session.flush()
    session.add_all(
        Lesson(
            course_id=course.id,
            position=position,
            title=lesson.title.strip(),
            body=lesson.body,
            url=lesson.url,
            minutes=lesson.minutes,
            addresses=lesson.addresses,
        )
        for position, lesson in enumerate(spec.lessons, start=1)
    )
    session.flush()
    return _courses(session, [course], None)[0]


def list_courses(
    session: Session,
    principal: Principal,
    *,
    stage: str | None = None,
    vertical: str | None = None,
) -> list[CourseView]:
    """Courses (of a stage; of a vertical or for every vertical), by stage then id."""
    check_reader(principal)
    query = select(Course)
    if stage is not None:
        if stage not in STAGES:
            raise InvalidInput(f"stage: one of {', '.join(STAGES)}")
        query = query.where(Course.stage == stage)
    if vertical is not None:
        vid = vertical_ids(session, [vertical], field="vertical")[0]
        query = query.where(or_(Course.vertical_id.is_(None), Course.vertical_id == vid))
    rows = list(session.scalars(query.order_by(Course.id)))
    rows.sort(key=lambda c: (STAGES.index(c.stage), c.id))
    return _courses(session, rows, _viewer(principal))


def get_course(session: Session, principal: Principal, course_id: int) -> CourseView:
    """One course with its lessons (a creator sees which they completed)."""
    check_reader(principal)
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"course {course_id} does not exist")
    return _courses(session, [course], _viewer(principal))[0]


def complete_lesson(
    session: Session, principal: Principal, course_id: int, lesson_id: int, *, now: dt.datetime
) -> LessonView:
    """The calling creator completed a lesson (again: no change)."""
    if principal.role != "creator" or principal.subject_id is None:
        raise Forbidden(f"creators complete lessons as themselves; not the {principal.role} role")
    lesson = session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course_id:
        raise NotFound(f"course {course_id} has no lesson {lesson_id}")
    if session.get(LessonCompletion, (lesson_id, principal.subject_id)) is None:
        session.add(
            LessonCompletion(lesson_id=lesson_id, creator_id=principal.subject_id, completed_at=now)
        )
        session.flush()
    return _lessons(session, [lesson], principal.subject_id)[0]


def growth_gaps(growth: GrowthView) -> tuple[Gap, ...]:
    """The creator's gaps, weakest first: each unmet requirement of the next tier (the share
    reached) and each quality signal on which they rank in the lower half of their vertical."""
    gaps: list[Gap] = []
    if growth.next_tier is not None:
        for requirement in growth.next_tier.requirements:
            if requirement.met or requirement.name not in RULE_LABELS:
                continue
            if requirement.name != "min_quality":
                gaps.append(
                    Gap(requirement.name, RULE_LABELS[requirement.name], requirement.progress)
                )
    for signal, rank in growth.signal_ranks.items():
        if rank < SIGNAL_GAP_RANK:
            gaps.append(Gap(signal, RULE_LABELS[signal], rank))
    return tuple(sorted(gaps, key=lambda g: (g.score, GROWTH_RULES.index(g.rule))))


def recommend_lessons(session: Session, growth: GrowthView, *, limit: int = 10) -> Recommendations:
    """Lessons for the creator of ``growth`` not completed yet, from the courses of their
    stage (their vertical's or every vertical's): those addressing their weakest gap first,
    then the next gaps, then the rest in course order. The caller checked that it may see
    the creator (``growth`` comes from :func:`guanghe.creators.creator_growth`)."""
    gaps = growth_gaps(growth)
    candidates = _open_lessons(session, growth.creator_id, stages=(growth.stage,))
    order = {g.rule: i for i, g in enumerate(gaps)}
    by_rule = {g.rule: g for g in gaps}
    candidates.sort(key=lambda lesson: order.get(lesson.addresses or "", len(order)))
    return Recommendations(
        creator_id=growth.creator_id,
        stage=growth.stage,
        gaps=gaps,
        lessons=tuple(
            Recommendation(lesson, by_rule.get(lesson.addresses or ""))
            for lesson in candidates[:limit]
        ),
    )


def lessons_toward_next_tier(
    session: Session, growth: GrowthView, *, limit: int = 5
) -> tuple[Recommendation, ...]:
    """Lessons (of any stage; the creator's vertical or every vertical) addressing what the
    next tier still needs: its unmet requirements, and the quality signals when the quality
    requirement is unmet. Weakest gap first; none at the top tier."""
    if growth.next_tier is None or not growth.next_tier.missing:
        return ()
    missing = set(growth.next_tier.missing)
    wanted = [
        g
        for g in growth_gaps(growth)
        if g.rule in missing or (g.rule in QUALITY_SIGNALS and "min_quality" in missing)
    ]
    order = {g.rule: i for i, g in enumerate(wanted)}
    candidates = [
        lesson
        for lesson in _open_lessons(session, growth.creator_id, stages=STAGES)
        if lesson.addresses in order
    ]
    candidates.sort(key=lambda lesson: order[lesson.addresses or ""])
    by_rule = {g.rule: g for g in wanted}
    return tuple(
        Recommendation(lesson, by_rule[lesson.addresses or ""]) for lesson in candidates[:limit]
    )


def _open_lessons(session: Session, creator_id: int, *, stages: Sequence[str]) -> list[LessonView]:
    """Lessons of courses for ``stages`` and the creator's vertical (or every vertical) the
    creator has not completed, by stage order, course and position."""
    vertical = session.scalar(select(Creator.vertical_id).where(Creator.id == creator_id))
    done = select(LessonCompletion.lesson_id).where(LessonCompletion.creator_id == creator_id)
    rows = session.scalars(
        select(Lesson)
        .join(Course, Course.id == Lesson.course_id)
        .where(
            Course.stage.in_(list(stages)),
            or_(Course.vertical_id.is_(None), Course.vertical_id == vertical),
            Lesson.id.not_in(done),
        )
        .order_by(Course.id, Lesson.position)
    )
    return _lessons(session, list(rows), creator_id)


def _viewer(principal: Principal) -> int | None:
    return principal.subject_id if principal.role == "creator" else None


def _check_spec(spec: CourseSpec) -> None:
    check_text(spec.title, field="title", max_chars=200)
    check_text(spec.summary, field="summary", max_chars=4_000)
    if not spec.title.strip():
        raise InvalidInput("title: must not be blank")
    if not _SLUG.fullmatch(spec.slug):
        raise InvalidInput("slug: 1 to 80 of a-z, 0-9 and -, starting with a letter or digit")
    if spec.stage not in STAGES:
        raise InvalidInput(f"stage: one of {', '.join(STAGES)}")
    if not 1 <= len(spec.lessons) <= MAX_LESSONS:
        raise InvalidInput(f"lessons: 1 to {MAX_LESSONS}")
    for i, lesson in enumerate(spec.lessons):
        check_text(lesson.title, field=f"lessons[{i}].title", max_chars=200)
        check_text(lesson.body, field=f"lessons[{i}].body", max_chars=MAX_LESSON_BODY_CHARS)
        if not lesson.title.strip():
            raise InvalidInput(f"lessons[{i}].title: must not be blank")
        if not 1 <= lesson.minutes <= 600:
            raise InvalidInput(f"lessons[{i}].minutes: 1 to 600")
        if lesson.addresses is not None and lesson.addresses not in GROWTH_RULES:
            raise InvalidInput(
                f"lessons[{i}].addresses: one of {', '.join(GROWTH_RULES)} (or none)"
            )


def _courses(session: Session, rows: Sequence[Course], creator_id: int | None) -> list[CourseView]:
    slugs = {int(i): str(slug) for i, slug in session.execute(select(Vertical.id, Vertical.slug))}
    lessons = _lessons(
        session,
        list(
            session.scalars(
                select(Lesson)
                .where(Lesson.course_id.in_([c.id for c in rows]))
                .order_by(Lesson.course_id, Lesson.position)
            )
        ),
        creator_id,
    )
    return [
        CourseView(
            id=c.id,
            slug=c.slug,
            title=c.title,
            summary=c.summary,
            stage=c.stage,
            vertical=None if c.vertical_id is None else slugs.get(c.vertical_id),
            lessons=tuple(lesson for lesson in lessons if lesson.course_id == c.id),
        )
        for c in rows
    ]


def _lessons(session: Session, rows: Sequence[Lesson], creator_id: int | None) -> list[LessonView]:
    ids = [r.id for r in rows]
    titles = {
        int(i): str(title)
        for i, title in session.execute(
            select(Course.id, Course.title).where(Course.id.in_({r.course_id for r in rows}))
        )
    }
    done: set[int] = set()
    if creator_id is not None and ids:
        done = set(
            session.scalars(
                select(LessonCompletion.lesson_id).where(
                    LessonCompletion.creator_id == creator_id, LessonCompletion.lesson_id.in_(ids)
                )
            )
        )
    return [
        LessonView(
            id=r.id,
            course_id=r.course_id,
            course=titles.get(r.course_id, ""),
            position=r.position,
            title=r.title,
            body=r.body,
            url=r.url,
            minutes=r.minutes,
            addresses=r.addresses,
            completed=r.id in done,
        )
        for r in rows
    ]
