"""Trust levels: how much a creator may post, growing with their growth-rights tier and good
standing.

- A creator who joined less than :data:`NEW_ACCOUNT_DAYS` ago is a **newcomer** (level 0),
  whatever their tier.
- Otherwise the level is their tier's place in the tier order plus one (a creator never
  assessed counts as the first tier), capped at the highest level.
- Good standing: a creator with a hidden post or a suspension in the last
  :data:`STANDING_DAYS` days drops one level (not below 0).

Each level caps posts per hour and threads per day (the anti-flood limits, counted in the
store, so they hold across server processes); over a cap is :class:`TooManyRequests` with the
seconds until the oldest counted post leaves the window. A suspended creator may not post at
all (:class:`Forbidden`, naming the end and the reason).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe import creators
from guanghe.errors import Forbidden, TooManyRequests
from guanghe.store import CommunityPost, CommunitySuspension, CommunityThread

NEW_ACCOUNT_DAYS: Final = 14
STANDING_DAYS: Final = 90


@dataclass(frozen=True, slots=True)
class TrustLevel:
    level: int
    name: str
    posts_per_hour: int
    threads_per_day: int


LEVELS: Final = (
    TrustLevel(0, "newcomer", posts_per_hour=6, threads_per_day=2),
    TrustLevel(1, "member", posts_per_hour=20, threads_per_day=5),
    TrustLevel(2, "regular", posts_per_hour=40, threads_per_day=10),
    TrustLevel(3, "trusted", posts_per_hour=80, threads_per_day=20),
    TrustLevel(4, "leader", posts_per_hour=120, threads_per_day=40),
)


@dataclass(frozen=True, slots=True)
class Suspension:
    until: dt.datetime
    reason: str


@dataclass(frozen=True, slots=True)
class MemberTrust:
    """A creator's trust level, why, and the suspension in force (if any)."""

    creator_id: int
    handle: str
    tier: str | None
    trust: TrustLevel
    reasons: tuple[str, ...]
    suspension: Suspension | None


def member_trust(
    session: Session, creator_id: int, *, tier_order: Sequence[str], now: dt.datetime
) -> MemberTrust:
    """``creator_id``'s trust level as of ``now``; ``tier_order`` names the growth-rights tiers,
    lowest first (:class:`NotFound` for an unknown creator)."""
    standing = creators.standing_of(session, creator_id)
    reasons: list[str] = []
    if standing.joined_on > now.date() - dt.timedelta(days=NEW_ACCOUNT_DAYS):
        level = 0
        reasons.append(f"joined on {standing.joined_on}, less than {NEW_ACCOUNT_DAYS} days ago")
    else:
        rank = tier_order.index(standing.tier) if standing.tier in tier_order else 0
        level = min(rank + 1, len(LEVELS) - 1)
        reasons.append(f"the {standing.tier or tier_order[0]!r} growth tier")
    since = now - dt.timedelta(days=STANDING_DAYS)
    hidden = session.execute(
        select(func.count())
        .select_from(CommunityPost)
        .where(
            CommunityPost.creator_id == creator_id,
            CommunityPost.hidden.is_(True),
            CommunityPost.created_at >= since,
        )
    ).scalar_one()
    suspended = session.execute(
        select(func.count())
        .select_from(CommunitySuspension)
        .where(CommunitySuspension.creator_id == creator_id, CommunitySuspension.ends_at >= since)
    ).scalar_one()
    if hidden or suspended:
        level = max(level - 1, 0)
        reasons.append(
            f"not in good standing: {hidden} hidden posts and {suspended} suspensions in the "
            f"last {STANDING_DAYS} days"
        )
    return MemberTrust(
        creator_id,
        standing.handle,
        standing.tier,
        LEVELS[level],
        tuple(reasons),
        active_suspension(session, creator_id, now=now),
    )


def active_suspension(session: Session, creator_id: int, *, now: dt.datetime) -> Suspension | None:
    """The suspension of ``creator_id`` in force at ``now`` that ends last, if any."""
    row = session.execute(
        select(CommunitySuspension.ends_at, CommunitySuspension.reason)
        .where(
            CommunitySuspension.creator_id == creator_id,
            CommunitySuspension.starts_at <= now,
            CommunitySuspension.ends_at > now,
        )
        .order_by(CommunitySuspension.ends_at.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else Suspension(row.ends_at, row.reason)


def check_may_post(
    session: Session, member: MemberTrust, *, opens_thread: bool, now: dt.datetime
) -> None:
    """:class:`Forbidden` while ``member`` is suspended; :class:`TooManyRequests` when one
    more post (or thread) would pass their level's limits."""
    if member.suspension is not None:
        raise Forbidden(
            f"creator {member.creator_id} is suspended from the community until "
            f"{member.suspension.until:%Y-%m-%d %H:%M} UTC: {member.suspension.reason}"
        )
    hour = now - dt.timedelta(hours=1)
    posts = (
        session.execute(
            select(CommunityPost.created_at)
            .where(
                CommunityPost.creator_id == member.creator_id,
                CommunityPost.created_at > hour,
                CommunityPost.created_at <= now,
            )
            .order_by(CommunityPost.created_at)
        )
        .scalars()
        .all()
    )
    trust = member.trust
    if len(posts) >= trust.posts_per_hour:
        oldest = posts[len(posts) - trust.posts_per_hour]
        raise TooManyRequests(
            f"a {trust.name} may post {trust.posts_per_hour} times an hour; try again later",
            retry_after_seconds=_seconds_until(oldest + dt.timedelta(hours=1), now),
        )
    if not opens_thread:
        return
    day = now - dt.timedelta(days=1)
    threads = (
        session.execute(
            select(CommunityThread.created_at)
            .where(
                CommunityThread.creator_id == member.creator_id, CommunityThread.created_at > day
            )
            .order_by(CommunityThread.created_at)
        )
        .scalars()
        .all()
    )
    if len(threads) >= trust.threads_per_day:
        oldest = threads[len(threads) - trust.threads_per_day]
        raise TooManyRequests(
            f"a {trust.name} may open {trust.threads_per_day} threads a day; try again later",
            retry_after_seconds=_seconds_until(oldest + dt.timedelta(days=1), now),
        )


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))
