"""Search over titles and bodies, Chinese included, on both stores' indexes."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from guanghe import community
from guanghe.access import Principal
from guanghe.errors import Forbidden, InvalidInput
from guanghe.runtime import Runtime
from guanghe.store import transaction
from tests.community.conftest import NOW, OPERATOR, TIERS, Community, creator


def _search(runtime: Runtime, query: str, **kwargs: object) -> list[int]:
    with transaction(runtime.sessions) as session:
        page = community.search_posts(session, creator(4), query, **kwargs)  # type: ignore[arg-type]
    return [hit.post_id for hit in page.items]


def _replies(runtime: Runtime, forum: Community, bodies: list[str]) -> list[int]:
    def write(session: Session) -> list[int]:
        return [
            community.add_post(
                session, creator(2), forum.thread_id, body, tier_order=TIERS, now=NOW
            ).id
            for body in bodies
        ]

    return runtime.write(write)


def test_chinese_words_in_titles_and_bodies_are_found(runtime: Runtime, forum: Community) -> None:
    reply, other = _replies(runtime, forum, ["封面要用高饱和度的颜色", "Cover colours matter"])
    assert _search(runtime, "完播率") == [forum.opening_post_id]  # the thread's title
    assert _search(runtime, "短视频") == [forum.opening_post_id]  # its body
    assert _search(runtime, "封面 颜色") == [reply]
    assert _search(runtime, "COVER") == [other]
    assert _search(runtime, "封面 完播率") == []  # every word must be in one post
    assert _search(runtime, "完播率", board_slug="nope") == []


def test_hidden_posts_leave_search_at_once(runtime: Runtime, forum: Community) -> None:
    (reply,) = _replies(runtime, forum, ["封面要用高饱和度的颜色"])

    def hide_and_search(session: Session) -> list[int]:
        community.hide_post(session, OPERATOR, reply, "spam", now=NOW)
        return [h.post_id for h in community.search_posts(session, creator(4), "封面").items]

    assert runtime.write(hide_and_search) == []
    runtime.write(lambda s: community.hide_post(s, OPERATOR, forum.opening_post_id, "x", now=NOW))
    assert _search(runtime, "完播率") == []
    runtime.write(lambda s: community.restore_post(s, OPERATOR, reply, "ok", now=NOW))
    assert _search(runtime, "封面") == []  # its thread is still hidden
    runtime.write(
        lambda s: community.restore_post(s, OPERATOR, forum.opening_post_id, "ok", now=NOW)
    )
    assert _search(runtime, "封面") == [reply]


def test_results_are_newest_first_in_pages(runtime: Runtime, forum: Community) -> None:
    ids = _replies(runtime, forum, [f"直播技巧 {n}" for n in range(5)])
    with transaction(runtime.sessions) as session:
        first = community.search_posts(session, creator(4), "直播", limit=3)
        assert first.next_cursor is not None
        second = community.search_posts(
            session, creator(4), "直播", limit=3, cursor=first.next_cursor
        )
    assert [h.post_id for h in first.items + second.items] == ids[::-1]
    assert second.next_cursor is None
    assert first.items[0].author == "@creator2"
    assert first.items[0].board_slug == "food"


@pytest.mark.parametrize("query", ["", "   ", "！？。", " ".join(f"词{n}" for n in range(13))])
def test_a_query_without_words_or_with_too_many_is_refused(
    runtime: Runtime, forum: Community, query: str
) -> None:
    with pytest.raises(InvalidInput):
        _search(runtime, query)


def test_segmentation_keeps_words_and_the_words_inside_them() -> None:
    tokens = community.index_tokens("中华人民共和国", "Hello, World!").split()
    assert {"中华", "人民", "共和国", "中华人民共和国", "hello", "world"} <= set(tokens)
    assert "," not in tokens


def test_advertisers_do_not_search_the_community(runtime: Runtime, forum: Community) -> None:
    with transaction(runtime.sessions) as session, pytest.raises(Forbidden):
        community.search_posts(session, Principal(1, "advertiser", 1), "完播率")
