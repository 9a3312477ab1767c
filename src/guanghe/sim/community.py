"""The demo's creator community: a board per vertical and two topic boards, threads asked by
the platform's creators in Chinese and English with replies, mentions, reactions and official
answers, one open report and one post hidden by an operator, all written through
:mod:`guanghe.community` (so the mentions are in the creators' inboxes and the posts in the
search index)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

import numpy as np
from sqlalchemy.orm import Session

from guanghe import community, creators
from guanghe.access import Principal
from guanghe.creators import CreatorFilter

TOPIC_BOARDS: Final = (
    ("growth", "成长交流 Growth", "Questions about growing an audience, tiers and rights"),
    ("announcements", "平台公告 Announcements", "News and rules from the platform"),
)
QUESTIONS: Final = (
    ("如何提高视频完播率", "我的{v}视频完播率只有 {n}%，前三秒该怎么设计？"),
    ("封面怎么做更吸引人", "试了几种**封面**风格，点击率都不高。大家用什么配色？"),
    ("新人作者多久能涨到一千粉", "刚开始做{v}，每天更新一条，{n} 天涨了不到两百粉。"),
    ("直播带货怎么选品", "第一次做直播带货，{v}类目的商品怎么选？"),
    ("How do you plan a weekly posting schedule?", "I post {n} times a week on {v}; too much?"),
    ("Best lighting for night shoots", "Any tips for shooting {v} at night without noise?"),
    ("原创作品被搬运怎么申诉", "我的{v}作品被搬运了，申诉要准备什么材料？"),
    ("任务中心的任务多久要交稿", "接了一个{v}相关的任务，多久之内要提交作品？"),
)
REPLIES: Final = (
    "前三秒直接给结果，别铺垫。",
    "我也遇到过，坚持更新两周后数据就好了。",
    "Try natural light from a window; it works well for {v}.",
    "封面用高饱和度的颜色，再加一行大字标题。",
    "Post at the same hour every day: your fans learn when to look.",
    "@{handle} 你上次分享的方法很有用，能再详细说说吗？",
)
OFFICIAL_ANSWER: Final = (
    "**官方回复**：成长中心有针对这个问题的新手课程，完成后还可以参加新人流量扶持。"
)
_OPERATOR: Final = Principal(user_id=0, role="operator", subject_id=None)
_REACTIONS: Final = ("like", "thanks", "helpful")


@dataclass(frozen=True, slots=True)
class DemoCommunity:
    boards: int
    threads: int
    posts: int


def seed_community(
    session: Session,
    *,
    tier_order: tuple[str, ...],
    threads_per_board: int = 4,
    seed: int = 7,
    now: dt.datetime,
) -> DemoCommunity:
    """Boards, threads and replies over the week before ``now`` (nothing if the store already
    has boards)."""
    if community.list_boards(session, _OPERATOR):
        return DemoCommunity(0, 0, 0)
    rng = np.random.default_rng(seed)
    members = creators.list_creators(session, _OPERATOR, CreatorFilter(), limit=200).items
    if not members:
        return DemoCommunity(0, 0, 0)
    boards = [
        community.create_board(
            session,
            _OPERATOR,
            community.BoardSpec(v.slug, f"{v.name}", f"Creators of {v.name} talk shop", v.slug),
            now=now,
        )
        for v in creators.list_verticals(session)
    ] + [
        community.create_board(session, _OPERATOR, community.BoardSpec(*spec), now=now)
        for spec in TOPIC_BOARDS
    ]
    threads = posts = 0
    week = dt.timedelta(days=7)
    reported_one = False
    for b, board in enumerate(boards):
        for t in range(threads_per_board):
            # threads spread evenly over the week, asked by each member in turn
            at = now - dt.timedelta(days=7) + threads * week / (len(boards) * threads_per_board)
            asker = members[threads % len(members)]
            title, body = QUESTIONS[(b + t) % len(QUESTIONS)]
            words = {"v": board.vertical or board.slug, "n": int(rng.integers(5, 60))}
            thread, opening = community.open_thread(
                session,
                _creator(asker.id),
                board.id,
                title,
                body.format(**words),
                tier_order=tier_order,
                now=at,
            )
            threads, posts = threads + 1, posts + 1
            for r in range(int(rng.integers(1, 5))):
                at += dt.timedelta(minutes=int(rng.integers(10, 300)))
                replier = members[int(rng.integers(len(members)))]
                text = REPLIES[int(rng.integers(len(REPLIES)))]
                post = community.add_post(
                    session,
                    _creator(replier.id),
                    thread.id,
                    text.format(handle=asker.handle, **words),
                    reply_to_id=opening.id if r == 0 else None,
                    tier_order=tier_order,
                    now=at,
                )
                posts += 1
                fan = members[int(rng.integers(len(members)))]
                if fan.id != replier.id:
                    kind = _REACTIONS[int(rng.integers(len(_REACTIONS)))]
                    community.react(session, _creator(fan.id), post.id, kind, now=at)
                if not reported_one and fan.id != replier.id:
                    community.report_post(
                        session, _creator(fan.id), post.id, "looks like advertising", now=at
                    )
                    reported_one = True
            if t % 3 == 0:
                at += dt.timedelta(hours=2)
                community.add_post(
                    session,
                    _OPERATOR,
                    thread.id,
                    OFFICIAL_ANSWER,
                    official=True,
                    tier_order=tier_order,
                    now=at,
                )
                posts += 1
    # a spammer's post in the newest thread, hidden by an operator within the hour
    spam = community.add_post(
        session,
        _creator(members[-1].id),
        thread.id,
        "加我微信，低价买粉 buy followers cheap",
        tier_order=tier_order,
        now=now - dt.timedelta(hours=1),
    )
    community.hide_post(session, _OPERATOR, spam.id, "advertising", now=now)
    return DemoCommunity(len(boards), threads, posts + 1)


def _creator(creator_id: int) -> Principal:
    return Principal(user_id=0, role="creator", subject_id=creator_id)
