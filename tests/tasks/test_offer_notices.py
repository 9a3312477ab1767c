"""Task-offer notices stay sane: one per creator per few days, only for a new best task that
is new or materially better, never twice for one task, and a re-run writes nothing more."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest
from sqlalchemy import select

from guanghe.errors import InvalidInput
from guanghe.runtime import Runtime
from guanghe.store import Notice
from guanghe.tasks import TaskNoticePolicy, TaskView
from guanghe.tasks.offers import replace_offers
from guanghe.tasks.recommend import Offers
from tests.tasks.conftest import NOW

DAY = dt.timedelta(days=1)
POLICY = TaskNoticePolicy(every=dt.timedelta(days=3), min_gain=0.25)


def _offers(creator: int, ranked: list[tuple[int, float]]) -> Offers:
    """``creator``'s offers: ``(task_id, value_fen)`` best first."""
    n = len(ranked)
    return Offers(
        creator_id=np.full(n, creator, dtype=np.int64),
        task_id=np.array([t for t, _ in ranked], dtype=np.int64),
        rank=np.arange(1, n + 1, dtype=np.int64),
        p_accept=np.full(n, 0.5),
        p_complete=np.full(n, 0.5),
        value_fen=np.array([v for _, v in ranked], dtype=np.float64),
        why=[{"sentence": "test"} for _ in range(n)],
    )


def _publish(runtime: Runtime, day: int, offers: Offers) -> None:
    now = NOW + day * DAY
    runtime.write(lambda s: replace_offers(s, now.date(), offers, now=now, notices=POLICY))


def _told(runtime: Runtime, creator: int) -> list[int]:
    with runtime.sessions() as s:
        rows = s.scalars(
            select(Notice.data)
            .where(Notice.kind == "task", Notice.creator_id == creator)
            .order_by(Notice.id)
        ).all()
    return [int(d["task_id"]) for d in rows]


def test_one_notice_per_few_days_and_only_when_new_or_materially_better(
    platform: Runtime, post_task: Callable[..., TaskView]
) -> None:
    a, b, c, d = (post_task(title=f"Task {n}").id for n in range(4))
    _publish(platform, 0, _offers(7, [(a, 1_000.0), (b, 900.0)]))
    assert _told(platform, 7) == [a]
    _publish(platform, 0, _offers(7, [(a, 1_000.0), (b, 900.0)]))  # a re-run of the day
    assert _told(platform, 7) == [a]
    # Next day a much better task: too soon after the last notice.
    _publish(platform, 1, _offers(7, [(b, 5_000.0), (a, 1_000.0)]))
    assert _told(platform, 7) == [a]
    # Four days on, b is best but only 10 % better than a, still offered: not material.
    _publish(platform, 4, _offers(7, [(b, 1_100.0), (a, 1_000.0)]))
    assert _told(platform, 7) == [a]
    # c is 30 % better than a: materially better, announced.
    _publish(platform, 5, _offers(7, [(c, 1_300.0), (a, 1_000.0)]))
    assert _told(platform, 7) == [a, c]
    # c is gone; d is new (the last announced task is no longer offered), but too soon.
    _publish(platform, 6, _offers(7, [(d, 500.0), (a, 400.0)]))
    assert _told(platform, 7) == [a, c]
    _publish(platform, 9, _offers(7, [(d, 500.0), (a, 400.0)]))
    assert _told(platform, 7) == [a, c, d]
    # a was announced before: never again, however long it has been.
    _publish(platform, 20, _offers(7, [(a, 9_000.0)]))
    assert _told(platform, 7) == [a, c, d]


def test_a_bad_policy_is_refused() -> None:
    with pytest.raises(InvalidInput):
        TaskNoticePolicy(every=-DAY)
    with pytest.raises(InvalidInput):
        TaskNoticePolicy(min_gain=-0.1)
