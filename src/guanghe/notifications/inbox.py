"""The creator's in-app inbox: their notices, newest first, and marking one read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import NotFound
from guanghe.notifications.preferences import check_manages
from guanghe.pagination import Page, after_id, check_limit, page_of
from guanghe.store import Notice


@dataclass(frozen=True, slots=True)
class NoticeView:
    id: int
    creator_id: int
    kind: str
    subject: str
    body: str
    data: dict[str, Any]
    created_at: dt.datetime
    read_at: dt.datetime | None


def list_inbox(
    session: Session,
    principal: Principal,
    creator_id: int,
    *,
    unread_only: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[NoticeView]:
    """The creator's inbox notices, newest first (operators and the creator)."""
    check_limit(limit)
    check_manages(session, principal, creator_id)
    query = select(Notice).where(Notice.creator_id == creator_id, Notice.in_inbox.is_(True))
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    resume = after_id(cursor)
    if resume is not None:
        query = query.where(Notice.id < resume)
    rows = session.scalars(query.order_by(Notice.id.desc()).limit(limit + 1)).all()
    return page_of([_view(n) for n in rows], limit, lambda v: [v.id])


def unread_count(session: Session, principal: Principal, creator_id: int) -> int:
    """How many inbox notices the creator has not read."""

    check_manages(session, principal, creator_id)
    return int(
        session.scalar(
            select(func.count()).where(
                Notice.creator_id == creator_id,
                Notice.in_inbox.is_(True),
                Notice.read_at.is_(None),
            )
        )
        or 0
    )


def mark_read(
    session: Session, principal: Principal, creator_id: int, notice_id: int, *, now: dt.datetime
) -> NoticeView:
    """Mark the notice read (idempotent: the first read time stays)."""
    check_manages(session, principal, creator_id)
    notice = session.get(Notice, notice_id)
    if notice is None or notice.creator_id != creator_id or not notice.in_inbox:
        raise NotFound(f"notice {notice_id} is not in creator {creator_id}'s inbox")
    if notice.read_at is None:
        notice.read_at = now
        session.flush()
    return _view(notice)


def _view(notice: Notice) -> NoticeView:
    return NoticeView(
        notice.id,
        notice.creator_id,
        notice.kind,
        notice.subject,
        notice.body,
        dict(notice.data),
        notice.created_at,
        notice.read_at,
    )
