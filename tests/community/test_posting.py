"""Threads, posts, replies, reactions, official answers, safe Markdown and mentions."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe import community
from guanghe.access import Principal
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.runtime import Runtime
from guanghe.store import Notice, transaction
from tests.community.conftest import NOW, OPERATOR, TIERS, Community, creator


def test_a_thread_page_shows_posts_oldest_first_with_replies_and_an_official_answer(
    runtime: Runtime, forum: Community
) -> None:
    def reply(session: Session) -> None:
        community.add_post(
            session,
            creator(2),
            forum.thread_id,
            "前三秒要抓人",
            reply_to_id=forum.opening_post_id,
            tier_order=TIERS,
            now=NOW,
        )
        community.add_post(
            session,
            OPERATOR,
            forum.thread_id,
            "官方建议：开头直接给结果。",
            official=True,
            tier_order=TIERS,
            now=NOW,
        )

    runtime.write(reply)
    with transaction(runtime.sessions) as session:
        page = community.thread_page(session, creator(3), forum.thread_id)
        listed = community.list_threads(session, creator(3), forum.board_id)
    posts = page.posts.items
    assert [p.author for p in posts] == ["@creator1", "@creator2", "Guanghe operations"]
    assert posts[1].reply_to_id == forum.opening_post_id
    assert [p.official for p in posts] == [False, False, True]
    assert page.thread.answered
    assert page.thread.post_count == 3
    assert "<strong>短视频</strong>" in posts[0].body_html
    assert [t.id for t in listed.items] == [forum.thread_id]


def test_a_script_in_a_post_is_stored_inert(runtime: Runtime, forum: Community) -> None:
    body = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
        "[click](javascript:alert(3)) [ok](https://example.com)"
    )
    post = runtime.write(
        lambda s: community.add_post(
            s, creator(2), forum.thread_id, body, tier_order=TIERS, now=NOW
        )
    )
    assert "<script" not in post.body_html
    assert "<img" not in post.body_html
    assert "&lt;script&gt;" in post.body_html
    assert 'href="javascript' not in post.body_html
    assert '<a href="https://example.com" rel="nofollow noopener">ok</a>' in post.body_html


def test_a_mention_notifies_the_creator_in_the_same_transaction(
    runtime: Runtime, forum: Community
) -> None:
    body = "@creator3 你怎么看？ @creator1 @nobody"
    post = runtime.write(
        lambda s: community.add_post(
            s, creator(1), forum.thread_id, body, tier_order=TIERS, now=NOW
        )
    )
    with transaction(runtime.sessions) as session:
        notices = session.execute(
            select(Notice).where(Notice.kind == "community_mention")
        ).scalars()
        got = [(n.creator_id, n.data["post_id"], n.subject) for n in notices]
    assert got == [(3, post.id, "@creator1 mentioned you in “如何提高视频完播率”")]


def test_a_failed_post_leaves_no_mention_behind(runtime: Runtime, forum: Community) -> None:
    def post_then_fail(session: Session) -> None:
        community.add_post(
            session,
            creator(1),
            forum.thread_id,
            "@creator3 hi",
            tier_order=TIERS,
            now=NOW,
        )
        raise Conflict("rolled back")

    with pytest.raises(Conflict):
        runtime.write(post_then_fail)
    with transaction(runtime.sessions) as session:
        assert session.execute(select(Notice).where(Notice.kind == "community_mention")).all() == []
        assert community.thread_page(session, OPERATOR, forum.thread_id).thread.post_count == 1


def test_reactions_count_once_per_creator_and_kind(runtime: Runtime, forum: Community) -> None:
    for who in (2, 3, 2):
        counts = runtime.write(
            partial(
                community.react,
                principal=creator(who),
                post_id=forum.opening_post_id,
                kind="like",
                now=NOW,
            )
        )
    assert counts == {"like": 2}
    with pytest.raises(InvalidInput):
        runtime.write(
            lambda s: community.react(s, creator(2), forum.opening_post_id, "boo", now=NOW)
        )


@pytest.mark.parametrize(
    ("body", "reply_to", "error"),
    [
        ("   ", None, InvalidInput),
        ("x" * 10_001, None, InvalidInput),
        ("nul \x00", None, InvalidInput),
        ("ok", 987_654, InvalidInput),
    ],
)
def test_bad_posts_are_refused(
    runtime: Runtime, forum: Community, body: str, reply_to: int | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        runtime.write(
            lambda s: community.add_post(
                s,
                creator(2),
                forum.thread_id,
                body,
                reply_to_id=reply_to,
                tier_order=TIERS,
                now=NOW,
            )
        )


def test_who_may_write(runtime: Runtime, forum: Community) -> None:
    for role in ("institution", "advertiser", "merchant", "ranker", "agent"):
        someone = Principal(user_id=50, role=role, subject_id=1)
        with pytest.raises(Forbidden):
            runtime.write(
                partial(
                    community.add_post,
                    principal=someone,
                    thread_id=forum.thread_id,
                    body="hi",
                    tier_order=TIERS,
                    now=NOW,
                )
            )
    with pytest.raises(Forbidden, match="official"):
        runtime.write(
            lambda s: community.add_post(
                s, creator(2), forum.thread_id, "hi", official=True, tier_order=TIERS, now=NOW
            )
        )
    with pytest.raises(NotFound):
        runtime.write(
            lambda s: community.add_post(s, creator(2), 987_654, "hi", tier_order=TIERS, now=NOW)
        )
