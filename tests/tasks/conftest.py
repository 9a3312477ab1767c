"""A small platform for the task center: 64 creators over three verticals and all stages,
each with works carrying the task's hashtag, and a funded platform task budget."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from guanghe.access import Principal
from guanghe.runtime import Runtime
from guanghe.store import Creator, Work, transaction
from guanghe.tasks import TaskSpec, TaskView, create_task, fund_platform_tasks

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
OPERATOR = Principal(user_id=0, role="operator", subject_id=None)
CREATORS = 64
STAGES = ("novice", "growing", "mature")


def work_id(creator_id: int, n: int = 0) -> int:
    """The id of the creator's ``n``-th work (0: tagged #spring, 1: untagged)."""
    return creator_id * 10 + n


@pytest.fixture
def platform(runtime: Runtime) -> Runtime:
    with transaction(runtime.sessions) as session:
        for c in range(1, CREATORS + 1):
            session.add(
                Creator(
                    id=c,
                    handle=f"c{c}",
                    display_name=f"Creator {c}",
                    vertical_id=1 + c % 3,
                    joined_on=dt.date(2025, 1, 1),
                    follower_count=1_000 * c,
                    stage=STAGES[c % 3],
                )
            )
        session.flush()
        for c in range(1, CREATORS + 1):
            for n, tags in enumerate((["#spring", "#food"], ["#food"])):
                session.add(
                    Work(
                        id=work_id(c, n),
                        creator_id=c,
                        published_at=NOW + dt.timedelta(hours=2),
                        title=f"work {c}/{n}",
                        caption="",
                        hashtags=tags,
                        vertical_id=1 + c % 3,
                        duration_s=30,
                    )
                )
    runtime.write(lambda s: fund_platform_tasks(s, key="seed", amount_fen=10_000_000, now=NOW))
    return runtime


def spec(**changes: object) -> TaskSpec:
    values: dict[str, object] = {
        "kind": "shooting",
        "title": "Spring dishes",
        "starts_at": NOW - dt.timedelta(days=2),
        "ends_at": NOW + dt.timedelta(days=10),
        "slots": 3,
        "reward_fen": 5_000,
        "hashtag": "spring",
        "min_plays": 100,
        "plays_within_days": 3,
    }
    values.update(changes)
    return TaskSpec(**values)  # type: ignore[arg-type]


@pytest.fixture
def post_task(platform: Runtime) -> Callable[..., TaskView]:
    """``post_task(**spec_changes)``: an operator's task, posted two days before ``NOW`` (its
    priority window is over by then)."""

    def post(**changes: object) -> TaskView:
        posted = NOW - dt.timedelta(days=2)
        return platform.write(lambda s: create_task(s, OPERATOR, spec(**changes), now=posted))

    return post
