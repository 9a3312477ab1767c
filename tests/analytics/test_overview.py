"""The platform overview: right counts, scoped to the caller, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.analytics import DayCount, StageCount, VerticalSummary, platform_overview
from guanghe.errors import Forbidden, InvalidInput
from guanghe.runtime import Runtime
from guanghe.store import Creator, Institution, Work, transaction
from tests.seed import SeedPlatform

FOOD, GAMING = 1, 2
OPERATOR = Principal(user_id=1, role="operator", subject_id=None)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=dt.UTC)


@pytest.fixture
def store(runtime: Runtime) -> Runtime:
    """Three institutions (one empty), four creators in two verticals, five works."""
    with transaction(runtime.sessions) as session:
        session.add_all(
            Institution(id=i, name=f"MCN {i}", founded_on=dt.date(2020, 1, 1)) for i in (10, 11, 12)
        )
        session.flush()
        creators = [  # id, handle, vertical, stage, followers, institution
            (1, "ana", FOOD, "novice", 100, 10),
            (2, "bo", FOOD, "mature", 5_000, 10),
            (3, "cy", GAMING, "growing", 300, 11),
            (4, "di", GAMING, "growing", 50, None),
        ]
        session.add_all(
            Creator(
                id=cid,
                handle=handle,
                display_name=handle.title(),
                vertical_id=vertical,
                joined_on=dt.date(2025, 1, 1),
                follower_count=followers,
                stage=stage,
                institution_id=institution,
            )
            for cid, handle, vertical, stage, followers, institution in creators
        )
        session.flush()
        works = [(1, at(1, 23, 30)), (1, at(2, 0, 30)), (2, at(2, 10)), (2, at(4, 10))]
        works.append((3, at(4, 12)))
        session.add_all(
            Work(
                creator_id=cid,
                published_at=published_at,
                title=f"work {n}",
                vertical_id=FOOD if cid < 3 else GAMING,
                duration_s=30,
            )
            for n, (cid, published_at) in enumerate(works)
        )
    return runtime


def days(*counts: tuple[int, int]) -> tuple[DayCount, ...]:
    return tuple(DayCount(dt.date(2026, 11, d), n) for d, n in counts)


def _far_from_utc(session: Session) -> None:
    """Days are UTC whatever the connection's time zone (PostgreSQL has one)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET TIME ZONE 'Asia/Shanghai'"))


def test_operator_sees_the_whole_platform(store: Runtime) -> None:
    with transaction(store.sessions) as session:
        _far_from_utc(session)
        overview = platform_overview(session, OPERATOR)
    assert (overview.creators, overview.works, overview.institutions) == (4, 5, 3)
    assert overview.followers == 5_450
    assert overview.by_vertical_stage == (
        StageCount("food", "mature", 1),
        StageCount("food", "novice", 1),
        StageCount("gaming", "growing", 2),
    )
    assert overview.by_vertical == (
        VerticalSummary("food", "Food", 2, 4, 5_100),
        VerticalSummary("gaming", "Gaming", 2, 1, 350),
    )
    assert overview.works_per_day == days((1, 1), (2, 2), (3, 0), (4, 2))
    assert [c.handle for c in overview.top_creators] == ["bo", "cy", "ana", "di"]


def test_institution_sees_only_its_creators(store: Runtime) -> None:
    with transaction(store.sessions) as session:
        overview = platform_overview(session, Principal(2, "institution", 10))
    assert (overview.creators, overview.works, overview.institutions) == (2, 4, 1)
    assert overview.followers == 5_100
    assert {c.handle for c in overview.top_creators} == {"ana", "bo"}
    assert overview.works_per_day == days((1, 1), (2, 2), (3, 0), (4, 1))
    assert [v.slug for v in overview.by_vertical] == ["food"]


def test_creator_sees_only_itself(store: Runtime) -> None:
    with transaction(store.sessions) as session:
        overview = platform_overview(session, Principal(3, "creator", 3))
        idle = platform_overview(session, Principal(4, "creator", 4))
    assert (overview.creators, overview.works, overview.institutions) == (1, 1, 1)
    assert [c.handle for c in overview.top_creators] == ["cy"]
    assert overview.by_vertical_stage == (StageCount("gaming", "growing", 1),)
    assert overview.works_per_day == days((4, 1))
    assert (idle.works, idle.institutions, idle.works_per_day) == (0, 0, ())


def test_window_keeps_the_last_days(store: Runtime) -> None:
    with transaction(store.sessions) as session:
        overview = platform_overview(session, OPERATOR, window_days=2)
        with pytest.raises(InvalidInput):
            platform_overview(session, OPERATOR, window_days=0)
    assert overview.works_per_day == days((3, 0), (4, 2))
    assert overview.works == 5


@pytest.mark.parametrize("role", ["advertiser", "merchant", "ranker"])
def test_other_roles_are_forbidden(store: Runtime, role: str) -> None:
    with transaction(store.sessions) as session, pytest.raises(Forbidden):
        platform_overview(session, Principal(9, role, None))


def test_empty_store(runtime: Runtime) -> None:
    with transaction(runtime.sessions) as session:
        overview = platform_overview(session, OPERATOR)
    assert (overview.creators, overview.works, overview.followers) == (0, 0, 0)
    assert overview.works_per_day == ()
    assert overview.by_vertical == ()
    assert overview.top_creators == ()


def test_seeded_platform_totals(runtime: Runtime, seed_platform: SeedPlatform) -> None:
    with transaction(runtime.sessions) as session:
        overview = platform_overview(session, OPERATOR)
    assert (overview.creators, overview.works, overview.institutions) == (6, 20, 2)
    assert sum(d.works for d in overview.works_per_day) == 20
    assert sum(s.creators for s in overview.by_vertical_stage) == 6
