"""Reading creators and works: filtered, keyset-paginated and scoped to who is asking."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.bounds import instant_problem
from guanghe.errors import Forbidden, InvalidInput, NotFound
from guanghe.pagination import Page, after_id, check_limit, decode_cursor, page_of
from guanghe.store import Creator, Vertical, Work
from guanghe.vocabulary import STAGES


@dataclass(frozen=True, slots=True)
class CreatorView:
    id: int
    handle: str
    display_name: str
    vertical: str
    joined_on: dt.date
    follower_count: int
    stage: str
    institution_id: int | None


@dataclass(frozen=True, slots=True)
class WorkView:
    id: int
    creator_id: int
    published_at: dt.datetime
    title: str
    caption: str
    hashtags: list[str]
    vertical: str
    duration_s: int
    cover_path: str | None


@dataclass(frozen=True, slots=True)
class CreatorFilter:
    vertical: str | None = None
    stage: str | None = None
    institution_id: int | None = None
    min_followers: int | None = None
    max_followers: int | None = None


@dataclass(frozen=True, slots=True)
class WorkFilter:
    creator_id: int | None = None
    vertical: str | None = None
    published_from: dt.datetime | None = None
    published_to: dt.datetime | None = None


def creator_scope(principal: Principal) -> ColumnElement[bool]:
    """The creators ``principal`` may see, as a SQL condition on ``creators``."""
    if principal.role == "operator":
        return true()
    if principal.role == "creator":
        return Creator.id == principal.subject_id
    if principal.role == "institution":
        return Creator.institution_id == principal.subject_id
    raise Forbidden(f"the {principal.role} role has no access to creators")


def list_creators(
    session: Session,
    principal: Principal,
    filters: CreatorFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CreatorView]:
    """Creators visible to ``principal`` matching ``filters``, in id order."""
    check_limit(limit)
    query = _creator_select().where(creator_scope(principal))
    if filters.stage is not None:
        if filters.stage not in STAGES:
            raise InvalidInput(f"unknown stage {filters.stage!r}; expected one of {STAGES}")
        query = query.where(Creator.stage == filters.stage)
    if filters.vertical is not None:
        query = query.where(Creator.vertical_id == _vertical_id(session, filters.vertical))
    if filters.institution_id is not None:
        query = query.where(Creator.institution_id == filters.institution_id)
    if filters.min_followers is not None:
        query = query.where(Creator.follower_count >= filters.min_followers)
    if filters.max_followers is not None:
        query = query.where(Creator.follower_count <= filters.max_followers)
    after = after_id(cursor)
    if after is not None:
        query = query.where(Creator.id > after)
    rows = session.execute(query.order_by(Creator.id).limit(limit + 1)).all()
    return page_of([CreatorView(*row) for row in rows], limit, lambda v: [v.id])


def get_creator(session: Session, principal: Principal, creator_id: int) -> CreatorView:
    """One creator; :class:`Forbidden` for a role without access to creators or a creator not
    visible to ``principal``, :class:`NotFound` if unknown."""
    scope = creator_scope(principal)
    row = session.execute(_creator_select().where(Creator.id == creator_id)).one_or_none()
    if row is None:
        raise NotFound(f"creator {creator_id} does not exist")
    visible = session.execute(select(exists().where(Creator.id == creator_id, scope))).scalar_one()
    if not visible:
        raise Forbidden(f"creator {creator_id} is not visible to this {principal.role} token")
    return CreatorView(*row)


def list_works(
    session: Session,
    principal: Principal,
    filters: WorkFilter,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[WorkView]:
    """Works of the creators visible to ``principal``, newest first."""
    check_limit(limit)
    query = _work_select().where(creator_scope(principal))
    if filters.creator_id is not None:
        query = query.where(Work.creator_id == filters.creator_id)
    if filters.vertical is not None:
        query = query.where(Work.vertical_id == _vertical_id(session, filters.vertical))
    if filters.published_from is not None:
        query = query.where(Work.published_at >= filters.published_from)
    if filters.published_to is not None:
        query = query.where(Work.published_at < filters.published_to)
    if cursor is not None:
        at, before_id = _work_position(cursor)
        query = query.where(
            or_(Work.published_at < at, and_(Work.published_at == at, Work.id < before_id))
        )
    rows = session.execute(
        query.order_by(Work.published_at.desc(), Work.id.desc()).limit(limit + 1)
    ).all()
    return page_of(
        [WorkView(*row) for row in rows], limit, lambda v: [v.published_at.isoformat(), v.id]
    )


def _work_position(cursor: str) -> tuple[dt.datetime, int]:
    """The publication time and id a newest-first list of works resumes after."""
    at_text, before_id = decode_cursor(cursor, 2)
    try:
        at = dt.datetime.fromisoformat(str(at_text))
    except ValueError as exc:
        raise InvalidInput("cursor is malformed") from exc
    if instant_problem(at) is not None:
        raise InvalidInput("cursor is malformed: its time is outside the platform's life")
    return at, int(before_id)


def get_work(session: Session, principal: Principal, work_id: int) -> WorkView:
    """One work; :class:`Forbidden` for a role without access to creators or a work not
    visible to ``principal``, :class:`NotFound` if unknown."""
    creator_scope(principal)
    row = session.execute(_work_select().where(Work.id == work_id)).one_or_none()
    if row is None:
        raise NotFound(f"work {work_id} does not exist")
    work = WorkView(*row)
    get_creator(session, principal, work.creator_id)
    return work


def _creator_select() -> Select[*tuple[Any, ...]]:
    return select(
        Creator.id,
        Creator.handle,
        Creator.display_name,
        Vertical.slug,
        Creator.joined_on,
        Creator.follower_count,
        Creator.stage,
        Creator.institution_id,
    ).join(Vertical, Vertical.id == Creator.vertical_id)


def _work_select() -> Select[*tuple[Any, ...]]:
    return (
        select(
            Work.id,
            Work.creator_id,
            Work.published_at,
            Work.title,
            Work.caption,
            Work.hashtags,
            Vertical.slug,
            Work.duration_s,
            Work.cover_path,
        )
        .join(Vertical, Vertical.id == Work.vertical_id)
        .join(Creator, Creator.id == Work.creator_id)
    )


def _vertical_id(session: Session, slug: str) -> int:
    found = session.execute(select(Vertical.id).where(Vertical.slug == slug)).scalar_one_or_none()
    if found is None:
        raise InvalidInput(f"unknown vertical {slug!r}")
    return int(found)
