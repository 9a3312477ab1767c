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


def test_transfers_get_the_business_day_their_batch_or_source_names(
    empty_database_url: str,
) -> None:
    """Migration 0008 dates existing transfers: a settled, charged or paid-out day from the
    batch, a boost delivery's day from its source, else the UTC day of posting."""
    from alembic import command

    from guanghe.store.engine import alembic_config

    engine = sa.create_engine(empty_database_url)
    command.upgrade(alembic_config(engine), "0007")
    posted = "2026-12-01 00:30:00+00:00"
    rows = [  # key, batch, source kind, source id, expected business day
        ("s", "settle:2026-11-30", None, None, "2026-11-30"),
        ("a", "ad-spend:2026-11-29", None, None, "2026-11-29"),
        ("p", "payout:2026-11-28", None, None, "2026-11-28"),
        ("b", None, "boost_delivery", "2026-11-27:5", "2026-11-27"),
        ("d", "settle:someday", None, None, "2026-12-01"),
    ]
    with engine.begin() as connection:
        for owner in (1, 2):
            connection.execute(
                sa.text(
                    "INSERT INTO ledger_accounts (id, owner_kind, owner_id, purpose, unit, "
                    "debits_within_credits, credits_within_debits, debits_pending, "
                    "debits_posted, credits_pending, credits_posted, created_at) VALUES "
                    "(:id, 'platform', :id, 'x', 'CNY', false, false, 0, 0, 0, 0, :at)"
                ),
                {"id": owner, "at": posted},
            )
        for n, (key, batch, kind, source, _) in enumerate(rows, start=1):
            connection.execute(
                sa.text(
                    "INSERT INTO ledger_transfers (id, key, kind, debit_account_id, "
                    "credit_account_id, amount, unit, code, batch, source_kind, source_id, "
                    "memo, created_at) VALUES (:n, :key, 'posted', 1, 2, 1, 'CNY', 'c', "
                    ":batch, :kind, :source, '', :at)"
                ),
                {"n": n, "key": key, "batch": batch, "kind": kind, "source": source, "at": posted},
            )
    upgrade_schema(engine)
    with engine.connect() as connection:
        query = sa.text("SELECT key, business_day FROM ledger_transfers")
        found = {str(k): str(v) for k, v in connection.execute(query)}
    engine.dispose()
    assert found == {key: day for key, *_, day in rows}
