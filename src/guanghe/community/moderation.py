"""Moderation: members report posts; operators hide and restore posts, lock and unlock
threads, suspend creators for a period and dismiss reports.

Every operator action writes one row of the moderation log with its reason; the log is
append-only (nothing here updates or deletes a row of it). Hiding a thread's opening post hides
the thread; hidden content leaves pages and search in the same transaction, and the post's
open reports are closed as ``hidden``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from guanghe import creators
from guanghe.access import Principal
from guanghe.community.members import check_member, check_operator
from guanghe.community.posts import visible_post
from guanghe.community.threads import author_name
from guanghe.community.trust import Suspension
from guanghe.errors import Conflict, InvalidInput, NotFound
from guanghe.pagination import Page, after_id, check_limit, page_of
from guanghe.store import (
    CommunityPost,
    CommunityReport,
    CommunitySuspension,
    CommunityThread,
    ModerationEntry,
)
from guanghe.text import check_text

MAX_REASON_CHARS: Final = 1_000
#: Longest suspension, in hours (a year).
MAX_SUSPENSION_HOURS: Final = 24 * 365


@dataclass(frozen=True, slots=True)
class ReportView:
    id: int
    post_id: int
    thread_id: int
    thread_title: str
    post_author: str
    post_excerpt: str
    reporter: str
    reason: str
    created_at: dt.datetime
    resolution: str | None
    resolved_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ModerationView:
    id: int
    action: str
    operator_id: int
    reason: str
    post_id: int | None
    thread_id: int | None
    creator_id: int | None
    until: dt.datetime | None
    created_at: dt.datetime


def report_post(
    session: Session, principal: Principal, post_id: int, reason: str, *, now: dt.datetime
) -> ReportView:
    """A creator reports a visible post; reporting it again returns the first report."""
    creator_id = check_member(principal)
    reason = _reason(reason)
    visible_post(session, post_id)
    report = session.execute(
        select(CommunityReport).where(
            CommunityReport.post_id == post_id, CommunityReport.creator_id == creator_id
        )
    ).scalar_one_or_none()
    if report is None:
        report = CommunityReport(
            post_id=post_id, creator_id=creator_id, reason=reason, created_at=now
        )
        session.add(report)
        session.flush()
    return _report_views(session, [report.id])[0]


def list_reports(
    session: Session,
    principal: Principal,
    *,
    open_only: bool = True,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ReportView]:
    """Reports, oldest first (open ones only unless ``open_only`` is false)."""
    check_operator(principal)
    check_limit(limit)
    query = select(CommunityReport.id)
    if open_only:
        query = query.where(CommunityReport.resolved_at.is_(None))
    after = after_id(cursor)
    if after is not None:
        query = query.where(CommunityReport.id > after)
    ids = session.execute(query.order_by(CommunityReport.id).limit(limit + 1)).scalars().all()
    return page_of(_report_views(session, list(ids)), limit, lambda r: [r.id])


def hide_post(
    session: Session, principal: Principal, post_id: int, reason: str, *, now: dt.datetime
) -> ModerationView:
    """Hide a post (and its thread, if it opens it); close its open reports as hidden."""
    check_operator(principal)
    reason = _reason(reason)
    post, thread = _post_and_thread(session, post_id)
    if post.hidden:
        raise Conflict(f"post {post_id} is already hidden")
    post.hidden = True
    thread.post_count = max(thread.post_count - 1, 0)
    if _opens(session, post):
        thread.hidden = True
    session.execute(
        update(CommunityReport)
        .where(CommunityReport.post_id == post_id, CommunityReport.resolved_at.is_(None))
        .values(resolved_at=now, resolution="hidden")
    )
    return _log(
        session,
        principal,
        "hide_post",
        reason,
        now,
        post=post_id,
        thread=thread.id,
        creator=post.creator_id,
    )


def restore_post(
    session: Session, principal: Principal, post_id: int, reason: str, *, now: dt.datetime
) -> ModerationView:
    """Show a hidden post again (and its thread, if it opens it)."""
    check_operator(principal)
    reason = _reason(reason)
    post, thread = _post_and_thread(session, post_id)
    if not post.hidden:
        raise Conflict(f"post {post_id} is not hidden")
    post.hidden = False
    thread.post_count += 1
    if _opens(session, post):
        thread.hidden = False
    return _log(
        session,
        principal,
        "restore_post",
        reason,
        now,
        post=post_id,
        thread=thread.id,
        creator=post.creator_id,
    )


def lock_thread(
    session: Session,
    principal: Principal,
    thread_id: int,
    reason: str,
    *,
    locked: bool = True,
    now: dt.datetime,
) -> ModerationView:
    """Lock a thread (no more posts), or unlock it with ``locked=False``."""
    check_operator(principal)
    reason = _reason(reason)
    thread = session.get(CommunityThread, thread_id)
    if thread is None:
        raise NotFound(f"thread {thread_id} does not exist")
    if thread.locked == locked:
        raise Conflict(f"thread {thread_id} is already {'locked' if locked else 'unlocked'}")
    thread.locked = locked
    action = "lock_thread" if locked else "unlock_thread"
    return _log(session, principal, action, reason, now, thread=thread_id)


def suspend_member(
    session: Session,
    principal: Principal,
    creator_id: int,
    hours: int,
    reason: str,
    *,
    now: dt.datetime,
) -> Suspension:
    """Suspend ``creator_id`` from posting for ``hours`` from ``now``."""
    check_operator(principal)
    reason = _reason(reason)
    if not 1 <= hours <= MAX_SUSPENSION_HOURS:
        raise InvalidInput(f"hours must be between 1 and {MAX_SUSPENSION_HOURS}")
    creators.standing_of(session, creator_id)
    until = now + dt.timedelta(hours=hours)
    session.add(
        CommunitySuspension(
            creator_id=creator_id,
            operator_id=principal.user_id,
            reason=reason,
            starts_at=now,
            ends_at=until,
        )
    )
    _log(session, principal, "suspend", reason, now, creator=creator_id, until=until)
    return Suspension(until, reason)


def dismiss_report(
    session: Session, principal: Principal, report_id: int, reason: str, *, now: dt.datetime
) -> ModerationView:
    """Close an open report without acting on its post."""
    check_operator(principal)
    reason = _reason(reason)
    report = session.get(CommunityReport, report_id)
    if report is None:
        raise NotFound(f"report {report_id} does not exist")
    if report.resolved_at is not None:
        raise Conflict(f"report {report_id} was closed as {report.resolution}")
    report.resolved_at, report.resolution = now, "dismissed"
    return _log(session, principal, "dismiss_report", reason, now, post=report.post_id)


def moderation_log(
    session: Session,
    principal: Principal,
    *,
    creator_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ModerationView]:
    """The moderation log, newest first (of one creator's posts and account if given)."""
    check_operator(principal)
    check_limit(limit)
    query = select(ModerationEntry)
    if creator_id is not None:
        query = query.where(ModerationEntry.creator_id == creator_id)
    after = after_id(cursor)
    if after is not None:
        query = query.where(ModerationEntry.id < after)
    rows = session.execute(query.order_by(ModerationEntry.id.desc()).limit(limit + 1)).scalars()
    return page_of([_entry(e) for e in rows], limit, lambda e: [e.id])


def _reason(reason: str) -> str:
    reason = check_text(reason.strip(), field="reason", max_chars=MAX_REASON_CHARS)
    if not reason:
        raise InvalidInput("reason must not be blank")
    return reason


def _post_and_thread(session: Session, post_id: int) -> tuple[CommunityPost, CommunityThread]:
    post = session.get(CommunityPost, post_id)
    if post is None:
        raise NotFound(f"post {post_id} does not exist")
    thread = session.get(CommunityThread, post.thread_id)
    assert thread is not None  # a foreign key
    return post, thread


def _opens(session: Session, post: CommunityPost) -> bool:
    first = session.execute(
        select(func.min(CommunityPost.id)).where(CommunityPost.thread_id == post.thread_id)
    ).scalar_one()
    return bool(first == post.id)


def _log(
    session: Session,
    principal: Principal,
    action: str,
    reason: str,
    now: dt.datetime,
    *,
    post: int | None = None,
    thread: int | None = None,
    creator: int | None = None,
    until: dt.datetime | None = None,
) -> ModerationView:
    entry = ModerationEntry(
        action=action,
        operator_id=principal.user_id,
        reason=reason,
        post_id=post,
        thread_id=thread,
        creator_id=creator,
        until=until,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return _entry(entry)


def _entry(entry: ModerationEntry) -> ModerationView:
    return ModerationView(
        entry.id,
        entry.action,
        entry.operator_id,
        entry.reason,
        entry.post_id,
        entry.thread_id,
        entry.creator_id,
        entry.until,
        entry.created_at,
    )


def _report_views(session: Session, report_ids: list[int]) -> list[ReportView]:
    if not report_ids:
        return []
    rows = session.execute(
        select(CommunityReport, CommunityPost, CommunityThread.title)
        .join(CommunityPost, CommunityPost.id == CommunityReport.post_id)
        .join(CommunityThread, CommunityThread.id == CommunityPost.thread_id)
        .where(CommunityReport.id.in_(report_ids))
        .order_by(CommunityReport.id)
    ).all()
    people = {r.creator_id for r, _, _ in rows} | {p.creator_id for _, p, _ in rows if p.creator_id}
    handles = creators.handles_of(session, people)
    return [
        ReportView(
            id=r.id,
            post_id=p.id,
            thread_id=p.thread_id,
            thread_title=title,
            post_author=author_name(handles, p.creator_id),
            post_excerpt=" ".join(p.body_markdown.split())[:200],
            reporter=author_name(handles, r.creator_id),
            reason=r.reason,
            created_at=r.created_at,
            resolution=r.resolution,
            resolved_at=r.resolved_at,
        )
        for r, p, title in rows
    ]
