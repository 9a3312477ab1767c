"""The migrations build the same schema on SQLite and PostgreSQL, idempotently."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from guanghe.runtime import Runtime
from guanghe.store import Base, Creator, Vertical, Work, transaction, upgrade_schema


def test_upgrade_creates_every_table_and_is_idempotent(runtime: Runtime) -> None:
    upgrade_schema(runtime.engine)
    tables = set(sa.inspect(runtime.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_vertical_taxonomy_is_seeded(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        slugs = set(session.scalars(sa.select(Vertical.slug)))
    assert len(slugs) >= 12
    assert {"food", "gaming", "comedy", "education", "beauty", "rural-life", "sports"} <= slugs
    assert {"music", "tech", "parenting", "travel", "virtual-3d"} <= slugs


def test_round_trip_keeps_utc_timestamps_and_hashtags(runtime: Runtime) -> None:
    published = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with transaction(runtime.sessions) as session:
        session.add(
            Creator(
                id=7,
                handle="h7",
                display_name="H",
                vertical_id=1,
                joined_on=dt.date(2025, 1, 1),
                follower_count=10,
                stage="novice",
            )
        )
        session.flush()
        session.add(
            Work(
                id=9,
                creator_id=7,
                published_at=published,
                title="t",
                caption="c",
                hashtags=["#a", "#b"],
                vertical_id=1,
                duration_s=15,
            )
        )
    with runtime.sessions() as session:
        work = session.get_one(Work, 9)
        assert work.published_at == published
        assert work.published_at.tzinfo is not None
        assert work.hashtags == ["#a", "#b"]


@pytest.mark.parametrize(
    ("field", "value"), [("follower_count", -1), ("stage", "legend"), ("vertical_id", 999)]
)
def test_constraints_reject_bad_creators(runtime: Runtime, field: str, value: object) -> None:
    values = {
        "id": 1,
        "handle": "x",
        "display_name": "X",
        "vertical_id": 1,
        "joined_on": dt.date(2025, 1, 1),
        "follower_count": 0,
        "stage": "novice",
    }
    values[field] = value
    with pytest.raises(IntegrityError), transaction(runtime.sessions) as session:
        session.add(Creator(**values))
    with runtime.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Creator)) == 0
