"""Trust levels from tier, account age and standing; the anti-flood limits they set."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlalchemy import update

from guanghe import community
from guanghe.errors import TooManyRequests
from guanghe.runtime import Runtime
from guanghe.store import Creator, CreatorTierHistory, transaction
from tests.community.conftest import NOW, OPERATOR, TIERS, Community, creator


def _level(runtime: Runtime, creator_id: int, now: dt.datetime = NOW) -> community.MemberTrust:
    with transaction(runtime.sessions) as session:
        return community.member_trust(session, creator_id, tier_order=TIERS, now=now)


def test_levels_grow_with_the_tier_and_new_accounts_start_as_newcomers(
    runtime: Runtime, forum: Community
) -> None:
    assert _level(runtime, 2).trust.name == "member"  # never assessed: the first tier
    with transaction(runtime.sessions) as session:
        session.add(
            CreatorTierHistory(
                creator_id=2, since=dt.date(2026, 6, 1), tier="star", stage="mature", quality=70.0
            )
        )
        session.execute(update(Creator).where(Creator.id == 3).values(joined_on=NOW.date()))
        session.add(
            CreatorTierHistory(
                creator_id=3, since=dt.date(2026, 11, 1), tier="elite", stage="mature", quality=90.0
            )
        )
    assert _level(runtime, 2).trust.name == "trusted"
    newcomer = _level(runtime, 3)
    assert newcomer.trust.level == 0
    assert "less than 14 days" in newcomer.reasons[0]


def test_a_hidden_post_costs_a_level_for_ninety_days(runtime: Runtime, forum: Community) -> None:
    runtime.write(lambda s: community.hide_post(s, OPERATOR, forum.opening_post_id, "x", now=NOW))
    assert _level(runtime, 1).trust.name == "newcomer"
    assert _level(runtime, 1, NOW + dt.timedelta(days=91)).trust.name == "member"


def test_posts_over_the_hourly_limit_are_refused_with_a_retry_time(
    runtime: Runtime, forum: Community
) -> None:
    limit = community.LEVELS[1].posts_per_hour  # creator 2 is a member
    for n in range(limit):
        runtime.write(
            partial(
                community.add_post,
                principal=creator(2),
                thread_id=forum.thread_id,
                body=f"post {n}",
                tier_order=TIERS,
                now=NOW + dt.timedelta(minutes=n),
            )
        )
    at = NOW + dt.timedelta(minutes=limit)
    with pytest.raises(TooManyRequests) as refused:
        runtime.write(
            lambda s: community.add_post(
                s, creator(2), forum.thread_id, "one more", tier_order=TIERS, now=at
            )
        )
    assert refused.value.retry_after_seconds == 60 * (60 - limit)
    runtime.write(  # an hour after the first, one more fits
        lambda s: community.add_post(
            s,
            creator(2),
            forum.thread_id,
            "later",
            tier_order=TIERS,
            now=NOW + dt.timedelta(minutes=60, seconds=1),
        )
    )


def test_threads_over_the_daily_limit_are_refused(runtime: Runtime, forum: Community) -> None:
    limit = community.LEVELS[1].threads_per_day
    for n in range(limit):
        runtime.write(
            partial(
                community.open_thread,
                principal=creator(2),
                board_id=forum.board_id,
                title=f"t{n}",
                body="body",
                tier_order=TIERS,
                now=NOW,
            )
        )
    with pytest.raises(TooManyRequests, match="threads a day"):
        runtime.write(
            lambda s: community.open_thread(
                s, creator(2), forum.board_id, "again", "body", tier_order=TIERS, now=NOW
            )
        )
