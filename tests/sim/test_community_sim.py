"""The demo's community: boards per vertical and topic, threads with replies, official
answers, a mention in an inbox, an open report and a hidden post, all searchable."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from guanghe import community
from guanghe.access import Principal
from guanghe.runtime import Runtime
from guanghe.sim.community import seed_community
from guanghe.store import Notice, transaction
from tests.seed import SeedPlatform

NOW = dt.datetime(2026, 11, 28, 23, 59, tzinfo=dt.UTC)
OPERATOR = Principal(user_id=0, role="operator", subject_id=None)
TIERS = ("starter", "rising", "star", "elite")


def test_the_demo_community_has_boards_threads_and_moderation(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    made = runtime.write(lambda s: seed_community(s, tier_order=TIERS, now=NOW))
    again = runtime.write(lambda s: seed_community(s, tier_order=TIERS, now=NOW))
    assert again.boards == 0
    with transaction(runtime.sessions) as session:
        boards = community.list_boards(session, OPERATOR)
        assert len(boards) == made.boards
        assert {"food", "growth", "announcements"} <= {b.slug for b in boards}
        assert sum(b.threads for b in boards) == made.threads
        answered = [
            t
            for b in boards
            for t in community.list_threads(session, OPERATOR, b.id, limit=100).items
            if t.answered
        ]
        assert answered
        assert len(community.list_reports(session, OPERATOR).items) == 1
        log = community.moderation_log(session, OPERATOR).items
        assert [e.action for e in log] == ["hide_post"]
        assert community.search_posts(session, OPERATOR, "完播率").items
        assert community.search_posts(session, OPERATOR, "买粉").items == []
        mentions = session.execute(
            select(func.count()).select_from(Notice).where(Notice.kind == "community_mention")
        ).scalar_one()
    assert made.posts > made.threads
    assert mentions >= 1
