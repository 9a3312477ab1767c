"""The platform overview: totals, creators by vertical and stage, works per day, followers.

Every figure is scoped to the caller with :func:`guanghe.creators.creator_scope`: an operator
sees the whole platform, an institution its signed creators, a creator itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Date, distinct, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from guanghe.access import Principal
from guanghe.creators import creator_scope
from guanghe.errors import InvalidInput
from guanghe.store import Creator, Institution, Vertical, Work
from guanghe.vocabulary import STAGES

WINDOW_DAYS = 90
TOP_CREATORS = 10


@dataclass(frozen=True, slots=True)
class StageCount:
    """Creators of one vertical in one lifecycle stage."""

    vertical: str
    stage: str
    creators: int


@dataclass(frozen=True, slots=True)
class VerticalSummary:
    """One vertical's share of the visible platform."""

    slug: str
    name: str
    creators: int
    works: int
    followers: int


@dataclass(frozen=True, slots=True)
class DayCount:
    """Works published on one UTC day."""

    day: dt.date
    works: int


@dataclass(frozen=True, slots=True)
class CreatorRank:
    """A creator in the follower ranking."""

    id: int
    handle: str
    display_name: str
    vertical: str
    stage: str
    follower_count: int


@dataclass(frozen=True, slots=True)
class PlatformOverview:
    """What the caller may see of the platform, at a glance.

    ``institutions`` counts every institution for an operator, and otherwise the institutions
    the visible creators are signed to. ``works_per_day`` is dense (zero days included), from
    the first day with a visible work to the day of the newest one, at most ``window_days``
    days.
    """

    creators: int
    works: int
    institutions: int
    followers: int
    stages: tuple[str, ...]
    by_vertical_stage: tuple[StageCount, ...]
    by_vertical: tuple[VerticalSummary, ...]
    works_per_day: tuple[DayCount, ...]
    top_creators: tuple[CreatorRank, ...]


class utc_day(FunctionElement[dt.date]):  # noqa: N801 - a SQL function, named like one
    """The UTC calendar day of a timestamp column, on SQLite and PostgreSQL alike."""

    type = Date()
    inherit_cache = True


@compiles(utc_day)
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC timestamps as ISO text; date() takes its day part.
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamptz → UTC wall time → date, whatever the session's TimeZone.
    return f"CAST(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


def platform_overview(
    session: Session, principal: Principal, *, window_days: int = WINDOW_DAYS
) -> PlatformOverview:
    """The overview of everything ``principal`` may see.

    Raises :class:`guanghe.errors.Forbidden` for roles with no access to creators and
    :class:`guanghe.errors.InvalidInput` for a window of less than one day.
    """
    if window_days < 1:
        raise InvalidInput("window_days must be at least 1")
    scope = creator_scope(principal)
    creators, followers = session.execute(
        select(func.count(Creator.id), func.coalesce(func.sum(Creator.follower_count), 0)).where(
            scope
        )
    ).one()
    works = session.execute(
        select(func.count(Work.id)).join(Creator, Creator.id == Work.creator_id).where(scope)
    ).scalar_one()
    return PlatformOverview(
        creators=int(creators),
        works=int(works),
        institutions=_institutions(session, principal, scope),
        followers=int(followers),
        stages=STAGES,
        by_vertical_stage=_by_vertical_stage(session, scope),
        by_vertical=_by_vertical(session, scope),
        works_per_day=_works_per_day(session, scope, window_days),
        top_creators=_top_creators(session, scope),
    )


def _institutions(session: Session, principal: Principal, scope: ColumnElement[bool]) -> int:
    if principal.role == "operator":
        return int(session.execute(select(func.count(Institution.id))).scalar_one())
    query = select(func.count(distinct(Creator.institution_id))).where(scope)
    return int(session.execute(query).scalar_one())


def _by_vertical_stage(session: Session, scope: ColumnElement[bool]) -> tuple[StageCount, ...]:
    rows = session.execute(
        select(Vertical.slug, Creator.stage, func.count(Creator.id))
        .join(Vertical, Vertical.id == Creator.vertical_id)
        .where(scope)
        .group_by(Vertical.id, Vertical.slug, Creator.stage)
        .order_by(Vertical.id, Creator.stage)
    )
    return tuple(StageCount(slug, stage, int(n)) for slug, stage, n in rows)


def _by_vertical(session: Session, scope: ColumnElement[bool]) -> tuple[VerticalSummary, ...]:
    works_of = (
        select(Work.creator_id, func.count(Work.id).label("works"))
        .group_by(Work.creator_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Vertical.slug,
            Vertical.name,
            func.count(Creator.id),
            func.coalesce(func.sum(works_of.c.works), 0),
            func.coalesce(func.sum(Creator.follower_count), 0),
        )
        .join(Vertical, Vertical.id == Creator.vertical_id)
        .outerjoin(works_of, works_of.c.creator_id == Creator.id)
        .where(scope)
        .group_by(Vertical.id, Vertical.slug, Vertical.name)
        .order_by(Vertical.id)
    )
    return tuple(
        VerticalSummary(slug, name, int(n), int(w), int(f)) for slug, name, n, w, f in rows
    )


def _works_per_day(
    session: Session, scope: ColumnElement[bool], window_days: int
) -> tuple[DayCount, ...]:
    visible = (
        select(Work.published_at)
        .join(Creator, Creator.id == Work.creator_id)
        .where(scope)
        .subquery()
    )
    oldest, newest = session.execute(
        select(func.min(visible.c.published_at), func.max(visible.c.published_at))
    ).one()
    if newest is None:
        return ()
    last = newest.astimezone(dt.UTC).date()
    first = max(last - dt.timedelta(days=window_days - 1), oldest.astimezone(dt.UTC).date())
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    day = utc_day(visible.c.published_at)
    rows = session.execute(
        select(day, func.count()).where(visible.c.published_at >= start).group_by(day).order_by(day)
    )
    counts: dict[dt.date, int] = {d: int(n) for d, n in rows}
    days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return tuple(DayCount(d, counts.get(d, 0)) for d in days)


def _top_creators(session: Session, scope: ColumnElement[bool]) -> tuple[CreatorRank, ...]:
    rows = session.execute(
        select(
            Creator.id,
            Creator.handle,
            Creator.display_name,
            Vertical.slug,
            Creator.stage,
            Creator.follower_count,
        )
        .join(Vertical, Vertical.id == Creator.vertical_id)
        .where(scope)
        .order_by(Creator.follower_count.desc(), Creator.id)
        .limit(TOP_CREATORS)
    )
    return tuple(CreatorRank(*row) for row in rows)
