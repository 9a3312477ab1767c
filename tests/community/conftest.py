"""A community on the seed platform: a board and a thread opened by creator 1."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from guanghe import community
from guanghe.access import Principal
from guanghe.runtime import Runtime
from tests.seed import SeedPlatform

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
TIERS = ("starter", "rising", "star", "elite")
OPERATOR = Principal(user_id=7, role="operator", subject_id=None)


def creator(creator_id: int) -> Principal:
    return Principal(user_id=100 + creator_id, role="creator", subject_id=creator_id)


@dataclass(frozen=True)
class Community:
    board_id: int
    thread_id: int
    opening_post_id: int


@pytest.fixture
def forum(runtime: Runtime, seed_platform: SeedPlatform) -> Community:
    def make(session: Session) -> Community:
        board = community.create_board(
            session,
            OPERATOR,
            community.BoardSpec("food", "Food creators", "Recipes and growth", "food"),
            now=NOW,
        )
        thread, post = community.open_thread(
            session,
            creator(1),
            board.id,
            "如何提高视频完播率",
            "我的**短视频**完播率很低，大家有什么办法？",
            tier_order=TIERS,
            now=NOW,
        )
        return Community(board.id, thread.id, post.id)

    return runtime.write(make)
