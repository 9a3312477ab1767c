"""The delivery state machine, one transaction per step (the worker owns the transactions).

::

    pending --claim--> sending --complete--> delivered
       ^                  |  \\
       |  back-off        |   `--fail (last attempt)--> dead --replay--> pending
       `----fail----------'
    sending whose lease expired (a worker died) --claim--> sending (a new lease)

Rules:

- A claim takes due deliveries with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite has one
  writer), counts an attempt, and leases them for a while under a fresh token; a worker that
  dies leaves its lease to expire and the delivery is claimed again. Nothing is lost.
- An attempt is counted when claimed, so a notice that kills its worker still reaches the
  dead-letter list after the last attempt instead of looping.
- The receiver de-duplicates on the delivery id (webhook header ``X-Guanghe-Delivery``,
  e-mail ``Message-ID``): a send repeated after a crash is the same delivery to it.
- A digest (e-mails held for one daily message) is claimed whole, all its deliveries under
  one lease, or not at all.
- Failing records a retry after ``base * 2 ** (attempts - 1)`` seconds (capped) only for the
  lease holder; after ``max_attempts`` the delivery is dead until an operator replays it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden, NotFound
from guanghe.notifications.preferences import preferences_of
from guanghe.pagination import Page, after_id, check_limit, page_of
from guanghe.store import Notice, NoticeDelivery

MAX_ERROR_CHARS: Final = 400


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How deliveries are retried and leased."""

    max_attempts: int = 8
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 3600.0
    lease_s: float = 60.0
    batch: int = 100

    def backoff(self, attempts: int) -> dt.timedelta:
        """The wait after the ``attempts``-th failed attempt."""
        return dt.timedelta(
            seconds=min(self.backoff_cap_s, self.backoff_base_s * 2 ** max(attempts - 1, 0))
        )


@dataclass(frozen=True, slots=True)
class OutgoingNotice:
    id: int
    kind: str
    subject: str
    body: str
    data: dict[str, Any]
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: a delivery, or a digest of several; ``message_id`` is the stable
    id the receiver de-duplicates on."""

    delivery_ids: tuple[int, ...]
    lease_token: str
    channel: str
    creator_id: int
    message_id: str
    attempt: int
    notices: tuple[OutgoingNotice, ...]
    webhook_url: str | None
    webhook_secret: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Lease:
    """What a claim took: the delivery ids of each message, under one token."""

    token: str
    messages: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    delivery_id: int
    notice_id: int
    creator_id: int
    channel: str
    kind: str
    subject: str
    attempts: int
    last_error: str
    created_at: dt.datetime


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    d = NoticeDelivery
    return or_(
        and_(d.status == "pending", d.next_attempt_at <= now),
        and_(d.status == "sending", d.lease_until <= now),
    )


def any_due(session: Session, *, now: dt.datetime) -> bool:
    """Whether some delivery is due (a read: an idle worker polls with this, so that it takes
    no write lock while there is nothing to claim)."""
    d = NoticeDelivery
    return session.scalar(select(d.id).where(_claimable(now)).limit(1)) is not None


def claim_due(session: Session, *, now: dt.datetime, policy: DeliveryPolicy) -> Lease:
    """Lease up to ``policy.batch`` due deliveries (whole digests) to a new token."""
    d = NoticeDelivery
    rows = session.execute(
        select(d.id, d.digest_key)
        .where(_claimable(now))
        .order_by(d.next_attempt_at, d.id)
        .limit(policy.batch)
        .with_for_update(skip_locked=True)
    ).all()
    singles = [int(i) for i, key in rows if key is None]
    groups = _whole_digests(session, {str(key) for _, key in rows if key is not None}, now)
    messages = [(i,) for i in singles] + groups
    token = uuid.uuid4().hex
    ids = [i for message in messages for i in message]
    if ids:
        session.execute(
            update(d)
            .where(d.id.in_(ids))
            .values(
                status="sending",
                attempts=d.attempts + 1,
                lease_token=token,
                lease_until=now + dt.timedelta(seconds=policy.lease_s),
            )
        )
    return Lease(token, tuple(messages))


def _whole_digests(session: Session, keys: set[str], now: dt.datetime) -> list[tuple[int, ...]]:
    """The digests among ``keys`` whose every unsent delivery is claimable now."""
    d = NoticeDelivery
    if not keys:
        return []
    members: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    rows = session.execute(
        select(d.id, d.digest_key, _claimable(now))
        .where(d.digest_key.in_(sorted(keys)), d.status.in_(("pending", "sending")))
        .order_by(d.id)
        .with_for_update()
    )
    for delivery_id, key, claimable in rows:
        members[str(key)].append((int(delivery_id), bool(claimable)))
    return [
        tuple(i for i, _ in group)
        for _, group in sorted(members.items())
        if all(claimable for _, claimable in group)
    ]


def load_outgoing(session: Session, delivery_ids: tuple[int, ...], token: str) -> Outgoing | None:
    """The message for deliveries still leased to ``token`` (None: sent or re-leased since)."""
    d = NoticeDelivery
    rows = session.execute(
        select(d, Notice)
        .join(Notice, Notice.id == d.notice_id)
        .where(d.id.in_(delivery_ids), d.status == "sending", d.lease_token == token)
        .order_by(d.id)
    ).all()
    if len(rows) != len(delivery_ids):
        return None
    first: NoticeDelivery = rows[0][0]
    prefs = preferences_of(session, [first.creator_id])[first.creator_id]
    message_id = (
        f"delivery-{first.id}" if first.digest_key is None else f"digest-{first.digest_key}"
    )
    return Outgoing(
        delivery_ids=tuple(r[0].id for r in rows),
        lease_token=token,
        channel=first.channel,
        creator_id=first.creator_id,
        message_id=message_id.replace(":", "-").replace("+", "_"),
        attempt=max(r[0].attempts for r in rows),
        notices=tuple(
            OutgoingNotice(n.id, n.kind, n.subject, n.body, dict(n.data), n.created_at)
            for _, n in rows
        ),
        webhook_url=prefs.webhook_url,
        webhook_secret=prefs.webhook_secret,
        email=prefs.email,
    )


def complete(session: Session, delivery_ids: tuple[int, ...], *, now: dt.datetime) -> int:
    """Record the deliveries as delivered (whoever holds them now: the message went out)."""
    d = NoticeDelivery
    result = session.execute(
        update(d)
        .where(d.id.in_(delivery_ids), d.status != "delivered")
        .values(status="delivered", delivered_at=now, lease_token=None, lease_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def fail(
    session: Session,
    delivery_ids: tuple[int, ...],
    token: str,
    error: str,
    *,
    now: dt.datetime,
    policy: DeliveryPolicy,
    permanent: bool = False,
) -> None:
    """Record a failed attempt for the deliveries ``token`` still holds: a retry after the
    back-off, or the dead-letter list after the last attempt (at once when ``permanent``)."""
    d = NoticeDelivery
    rows = session.scalars(
        select(d)
        .where(d.id.in_(delivery_ids), d.status == "sending", d.lease_token == token)
        .with_for_update()
    ).all()
    for row in rows:
        dead = permanent or row.attempts >= policy.max_attempts
        row.status = "dead" if dead else "pending"
        row.next_attempt_at = now if dead else now + policy.backoff(row.attempts)
        row.lease_token = None
        row.lease_until = None
        row.last_error = error[:MAX_ERROR_CHARS]
    session.flush()


def list_dead_letters(
    session: Session, principal: Principal, *, cursor: str | None = None, limit: int = 50
) -> Page[DeadLetterView]:
    """Deliveries that gave up, newest first (operators)."""
    _check_operator(principal)
    check_limit(limit)
    d = NoticeDelivery
    query = (
        select(d, Notice)
        .join(Notice, Notice.id == d.notice_id)
        .where(d.status == "dead")
        .order_by(d.id.desc())
    )
    resume = after_id(cursor)
    if resume is not None:
        query = query.where(d.id < resume)
    rows = session.execute(query.limit(limit + 1)).all()
    views = [
        DeadLetterView(
            row.id,
            notice.id,
            row.creator_id,
            row.channel,
            notice.kind,
            notice.subject,
            row.attempts,
            row.last_error,
            notice.created_at,
        )
        for row, notice in rows
    ]
    return page_of(views, limit, lambda v: [v.delivery_id])


def replay_dead_letter(
    session: Session, principal: Principal, notice_id: int, *, now: dt.datetime
) -> list[int]:
    """Send the notice's dead deliveries again from a fresh count of attempts (operators);
    the ids replayed. :class:`NotFound` when the notice has none."""
    _check_operator(principal)
    d = NoticeDelivery
    rows = session.scalars(
        select(d).where(d.notice_id == notice_id, d.status == "dead").with_for_update()
    ).all()
    if not rows:
        raise NotFound(f"notice {notice_id} has no dead-letter deliveries")
    for row in rows:
        row.status = "pending"
        row.attempts = 0
        row.next_attempt_at = now
        row.digest_key = None  # alone now: its own message id, not the sent digest's
        row.last_error = f"replayed after: {row.last_error}"[:MAX_ERROR_CHARS]
    session.flush()
    return [row.id for row in rows]


def _check_operator(principal: Principal) -> None:
    if principal.role != "operator":
        raise Forbidden(f"dead letters are for operators, not the {principal.role} role")
