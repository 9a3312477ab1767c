"""The cycle's tasks step: lapsed acceptances expire, offers respect K and the slot limits,
each offer says why, and a re-run of the date writes the same offers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import func, select

from guanghe.pipelines import tasks_step
from guanghe.pipelines.context import CycleContext
from guanghe.runtime import Runtime
from guanghe.store import Notice, TaskClaim, TaskOffer
from guanghe.tasks import TaskView
from tests.tasks.conftest import NOW
from tests.tasks.test_claims import _accept


def _offers(runtime: Runtime) -> list[tuple[int, int, int]]:
    with runtime.sessions() as s:
        rows = s.execute(select(TaskOffer.creator_id, TaskOffer.task_id, TaskOffer.rank)).all()
    return sorted((int(c), int(t), int(r)) for c, t, r in rows)


def test_the_step_expires_offers_and_reruns_the_same(
    platform: Runtime, post_task: Callable[..., TaskView]
) -> None:
    for n in range(4):
        post_task(slots=2 + n, reward_fen=1_000 * (n + 1), kind=("shooting", "topic")[n % 2])
    _accept(platform, 1, 5)
    ctx = CycleContext.for_date(platform, (NOW + dt.timedelta(days=4)).date())
    report = tasks_step.run(ctx)
    assert report.counts["expired"] == 1
    assert report.counts["offers"] > 0
    first = _offers(platform)
    per_creator: dict[int, int] = {}
    for creator, _, _ in first:
        per_creator[creator] = per_creator.get(creator, 0) + 1
    assert max(per_creator.values()) <= 3
    assert (5, 1, 1) not in first  # a creator who held a slot of a task is not offered it again
    with platform.sessions() as s:
        told = s.execute(select(Notice.creator_id, Notice.data).where(Notice.kind == "task")).all()
    assert {c for c, _ in told} == set(per_creator)  # each creator hears of their best task
    tasks_step.run(ctx)
    assert _offers(platform) == first
    with platform.sessions() as s:
        again = s.scalar(select(func.count()).select_from(Notice).where(Notice.kind == "task"))
    assert again == len(told)  # the same best task is not announced twice
    with platform.sessions() as s:
        why = s.scalars(select(TaskOffer.why).limit(1)).one()
        assert s.scalar(select(func.count()).select_from(TaskClaim)) == 1
    assert why["model"] == "prior"
    assert "slot price" in str(why["rule"])
    assert str(why["sentence"]).startswith("Suggested because")
    assert 0 < float(str(why["p_accept"])) <= 1


def test_no_open_task_means_no_offers(platform: Runtime) -> None:
    report = tasks_step.run(CycleContext.for_date(platform, NOW.date()))
    assert report.counts["offers"] == 0
