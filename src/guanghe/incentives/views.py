"""What the API and the dashboard show: programmes with their budgets used, completion by
vertical and stage, and a creator's targets, progress and rewards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.creators import get_creator
from guanghe.incentives.programmes import Programme
from guanghe.incentives.registry import budget_used, stored_programmes
from guanghe.pagination import Page, after_id, check_limit, page_of
from guanghe.store import IncentiveEnrolment, IncentiveProgram, Vertical


@dataclass(frozen=True, slots=True)
class ProgrammeView:
    """A programme, where it came from, and (for operators) its budget funded and paid."""

    programme: Programme
    origin: str
    revision: int
    updated_by: str
    updated_at: dt.datetime | None
    funded: dict[str, int] | None
    paid: dict[str, int] | None


@dataclass(frozen=True, slots=True)
class CompletionRow:
    """Enrolments, completions and payments of a programme's window in one vertical and
    stage."""

    programme: str
    window_starts_on: dt.date
    vertical: str
    stage: str
    enrolled: int
    completed: int
    paid: int


@dataclass(frozen=True, slots=True)
class CreatorIncentive:
    """One window of a programme for a creator: the personal target, progress, the reward."""

    id: int
    programme: str
    title: str
    window_starts_on: dt.date
    window_ends_on: dt.date
    stage: str
    baseline_plays: int
    target_plays: int
    plays: int
    target_works: int
    original_works: int
    progress: float  # 0..1: the lesser of plays and works against their targets
    progress_on: dt.date
    completed_on: dt.date | None
    paid_on: dt.date | None
    reward_fen: int
    reward_impressions: int


def list_programmes(
    session: Session, principal: Principal, file_programmes: Sequence[Programme]
) -> list[ProgrammeView]:
    """Every programme (the store's, and the file's not yet copied in by a cycle), by name;
    budgets only for operators."""
    views = {}
    operator = principal.role == "operator"
    for stored in stored_programmes(session):
        funded, paid = budget_used(session, stored.id) if operator else (None, None)
        views[stored.programme.name] = ProgrammeView(
            stored.programme,
            stored.origin,
            stored.revision,
            stored.updated_by,
            stored.updated_at,
            funded,
            paid,
        )
    for programme in file_programmes:
        if programme.name not in views:
            zero = {"CNY": 0, "IMPRESSION": 0} if operator else None
            views[programme.name] = ProgrammeView(programme, "file", 0, "", None, zero, zero)
    return [views[name] for name in sorted(views)]


def completion(session: Session) -> list[CompletionRow]:
    """Per programme, its newest window's enrolments by vertical and stage."""
    e, p = IncentiveEnrolment, IncentiveProgram
    newest = (
        select(e.program_id, func.max(e.window_starts_on).label("starts_on"))
        .group_by(e.program_id)
        .subquery()
    )
    rows = session.execute(
        select(
            p.name,
            e.window_starts_on,
            Vertical.slug,
            e.stage,
            func.count(),
            func.sum(case((e.completed_on.is_not(None), 1), else_=0)),
            func.sum(case((e.paid_on.is_not(None), 1), else_=0)),
        )
        .join(p, p.id == e.program_id)
        .join(Vertical, Vertical.id == e.vertical_id)
        .join(
            newest,
            (newest.c.program_id == e.program_id) & (newest.c.starts_on == e.window_starts_on),
        )
        .group_by(p.name, e.window_starts_on, Vertical.slug, e.stage)
        .order_by(p.name, Vertical.slug, e.stage)
    )
    return [
        CompletionRow(name, start, slug, stage, int(n), int(done or 0), int(paid or 0))
        for name, start, slug, stage, n, done, paid in rows
    ]


def creator_incentives(
    session: Session,
    principal: Principal,
    creator_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CreatorIncentive]:
    """``creator_id``'s enrolments, newest first: creators see their own, institutions their
    creators', operators everyone's (:class:`NotFound` / :class:`Forbidden` otherwise)."""
    check_limit(limit)
    get_creator(session, principal, creator_id)
    e, p = IncentiveEnrolment, IncentiveProgram
    query = (
        select(e, p.name, p.spec["title"].as_string())
        .join(p, p.id == e.program_id)
        .where(e.creator_id == creator_id)
    )
    after = after_id(cursor)
    if after is not None:
        query = query.where(e.id < after)
    rows = session.execute(query.order_by(e.id.desc()).limit(limit + 1)).all()
    return page_of([_incentive(row, name, title) for row, name, title in rows], limit, _key)


def _key(view: CreatorIncentive) -> list[int]:
    return [view.id]


def _incentive(row: IncentiveEnrolment, name: str, title: str | None) -> CreatorIncentive:
    ratios = [min(1.0, row.plays / row.target_plays) if row.target_plays else 1.0]
    ratios.append(min(1.0, row.original_works / row.target_works) if row.target_works else 1.0)
    return CreatorIncentive(
        id=row.id,
        programme=name,
        title=title or name,
        window_starts_on=row.window_starts_on,
        window_ends_on=row.window_ends_on,
        stage=row.stage,
        baseline_plays=row.baseline_plays,
        target_plays=row.target_plays,
        plays=row.plays,
        target_works=row.target_works,
        original_works=row.original_works,
        progress=round(min(ratios), 4),
        progress_on=row.progress_on,
        completed_on=row.completed_on,
        paid_on=row.paid_on,
        reward_fen=row.reward_fen,
        reward_impressions=row.reward_impressions,
    )
