"""Reports, hiding, restoring, locking, suspensions and the append-only moderation log."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlalchemy import func, select

from guanghe import community
from guanghe.errors import Conflict, Forbidden, NotFound
from guanghe.runtime import Runtime
from guanghe.store import ModerationEntry, transaction
from tests.community.conftest import NOW, OPERATOR, TIERS, Community, creator


def test_a_reported_post_hidden_by_an_operator_leaves_the_page_and_closes_the_report(
    runtime: Runtime, forum: Community
) -> None:
    reply = runtime.write(
        lambda s: community.add_post(
            s, creator(2), forum.thread_id, "buy followers at x.example", tier_order=TIERS, now=NOW
        )
    )
    report = runtime.write(
        lambda s: community.report_post(s, creator(3), reply.id, "spam", now=NOW)
    )
    again = runtime.write(lambda s: community.report_post(s, creator(3), reply.id, "!", now=NOW))
    assert again.id == report.id
    assert again.reason == "spam"
    with transaction(runtime.sessions) as session:
        open_reports = community.list_reports(session, OPERATOR).items
    assert [(r.post_id, r.reporter, r.post_author) for r in open_reports] == [
        (reply.id, "@creator3", "@creator2")
    ]
    runtime.write(lambda s: community.hide_post(s, OPERATOR, reply.id, "advertising", now=NOW))
    with transaction(runtime.sessions) as session:
        seen = community.thread_page(session, creator(3), forum.thread_id).posts.items
        moderated = community.thread_page(session, OPERATOR, forum.thread_id)
        closed = community.list_reports(session, OPERATOR, open_only=False).items
        assert community.list_reports(session, OPERATOR).items == []
    assert [p.id for p in seen] == [forum.opening_post_id]
    assert [(p.id, p.hidden) for p in moderated.posts.items][-1] == (reply.id, True)
    assert moderated.thread.post_count == 1
    assert closed[0].resolution == "hidden"
    with pytest.raises(NotFound):
        runtime.write(lambda s: community.report_post(s, creator(4), reply.id, "x", now=NOW))
    with pytest.raises(Conflict):
        runtime.write(lambda s: community.hide_post(s, OPERATOR, reply.id, "again", now=NOW))


def test_hiding_the_opening_post_hides_the_thread(runtime: Runtime, forum: Community) -> None:
    runtime.write(
        lambda s: community.hide_post(s, OPERATOR, forum.opening_post_id, "abuse", now=NOW)
    )
    with transaction(runtime.sessions) as session:
        with pytest.raises(NotFound):
            community.thread_page(session, creator(2), forum.thread_id)
        assert community.list_threads(session, creator(2), forum.board_id).items == []
        assert community.thread_page(session, OPERATOR, forum.thread_id).thread.hidden
    with pytest.raises(NotFound):
        runtime.write(
            lambda s: community.add_post(
                s, creator(2), forum.thread_id, "hi", tier_order=TIERS, now=NOW
            )
        )


def test_a_locked_thread_takes_no_posts_until_unlocked(runtime: Runtime, forum: Community) -> None:
    runtime.write(lambda s: community.lock_thread(s, OPERATOR, forum.thread_id, "heated", now=NOW))
    with pytest.raises(Conflict, match="locked"):
        runtime.write(
            lambda s: community.add_post(
                s, creator(2), forum.thread_id, "hi", tier_order=TIERS, now=NOW
            )
        )
    runtime.write(
        lambda s: community.lock_thread(
            s, OPERATOR, forum.thread_id, "calm again", locked=False, now=NOW
        )
    )
    runtime.write(
        lambda s: community.add_post(
            s, creator(2), forum.thread_id, "hi", tier_order=TIERS, now=NOW
        )
    )


def test_a_suspended_creator_cannot_post_until_the_period_ends(
    runtime: Runtime, forum: Community
) -> None:
    runtime.write(lambda s: community.suspend_member(s, OPERATOR, 2, 48, "repeated spam", now=NOW))
    for moment in (NOW, NOW + dt.timedelta(hours=47)):
        with pytest.raises(Forbidden, match=r"suspended .* repeated spam"):
            runtime.write(
                partial(
                    community.add_post,
                    principal=creator(2),
                    thread_id=forum.thread_id,
                    body="hi",
                    tier_order=TIERS,
                    now=moment,
                )
            )
    later = NOW + dt.timedelta(hours=48)
    runtime.write(
        lambda s: community.add_post(
            s, creator(2), forum.thread_id, "hi", tier_order=TIERS, now=later
        )
    )
    with pytest.raises(NotFound):
        runtime.write(lambda s: community.suspend_member(s, OPERATOR, 987_654, 1, "x", now=NOW))


def test_every_action_is_logged_with_its_reason_and_only_operators_moderate(
    runtime: Runtime, forum: Community
) -> None:
    post = forum.opening_post_id
    report = runtime.write(lambda s: community.report_post(s, creator(3), post, "rude", now=NOW))
    runtime.write(lambda s: community.dismiss_report(s, OPERATOR, report.id, "fine", now=NOW))
    runtime.write(lambda s: community.hide_post(s, OPERATOR, post, "rude after all", now=NOW))
    runtime.write(lambda s: community.restore_post(s, OPERATOR, post, "appeal upheld", now=NOW))
    runtime.write(lambda s: community.suspend_member(s, OPERATOR, 1, 1, "cool off", now=NOW))
    with transaction(runtime.sessions) as session:
        log = community.moderation_log(session, OPERATOR).items
        mine = community.moderation_log(session, OPERATOR, creator_id=1).items
        rows = session.execute(select(func.count()).select_from(ModerationEntry)).scalar_one()
    assert [(e.action, e.reason) for e in log] == [
        ("suspend", "cool off"),
        ("restore_post", "appeal upheld"),
        ("hide_post", "rude after all"),
        ("dismiss_report", "fine"),
    ]
    assert rows == 4
    assert [e.action for e in mine] == ["suspend", "restore_post", "hide_post"]
    assert log[0].until == NOW + dt.timedelta(hours=1)
    assert log[0].operator_id == OPERATOR.user_id
    for act in (
        lambda s: community.hide_post(s, creator(2), post, "x", now=NOW),
        lambda s: community.lock_thread(s, creator(2), forum.thread_id, "x", now=NOW),
        lambda s: community.suspend_member(s, creator(2), 3, 1, "x", now=NOW),
        lambda s: community.moderation_log(s, creator(2)),
    ):
        with pytest.raises(Forbidden):
            runtime.write(act)
