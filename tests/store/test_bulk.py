"""``execute_many`` stores exactly what SQLAlchemy's executemany of the same statement stores."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from guanghe.runtime import Runtime
from guanghe.store.bulk import execute_many, execute_many_tuples
from guanghe.store.models import UtcDateTime


def _tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    def table(name: str) -> sa.Table:
        return sa.Table(
            name,
            metadata,
            sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("day", sa.Date),
            sa.Column("at", UtcDateTime),
            sa.Column("score", sa.Float),
            sa.Column("note", sa.String(20), nullable=True),
            sa.Column("flag", sa.Boolean, default=False),
        )

    return table("bulk_direct"), table("bulk_sqlalchemy")


ROWS: list[dict[str, Any]] = [
    {
        "id": i,
        "day": dt.date(2026, 11, 1) + dt.timedelta(days=i),
        "at": dt.datetime(2026, 11, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        + dt.timedelta(minutes=7 * i, microseconds=i),
        "score": i / 3,
        "note": None if i % 2 else f"n{i}",
    }
    for i in range(1, 40)
]


def _stored(connection: sa.Connection, table: sa.Table) -> list[tuple[object, ...]]:
    """The rows as the database holds them (SQLite: the text it stores, not parsed back)."""
    columns = [sa.cast(c, sa.String) if c.name in ("day", "at") else c for c in table.columns]
    return [tuple(r) for r in connection.execute(sa.select(*columns).order_by(table.c.id))]


def test_execute_many_stores_what_sqlalchemy_stores(runtime: Runtime) -> None:
    metadata = sa.MetaData()
    direct, reference = _tables(metadata)
    with runtime.engine.begin() as connection:
        metadata.create_all(connection)
        rows = [row | {"flag": row["id"] % 3 == 0} for row in ROWS]
        execute_many(connection, sa.insert(direct), rows)
        connection.execute(sa.insert(reference), rows)
        assert _stored(connection, direct) == _stored(connection, reference)

        # An update through renamed parameters, dates and NULLs among them.
        changes = [
            {"row": r["id"], "new_day": None if r["id"] % 4 else r["day"], "new_score": 1.5}
            for r in ROWS[::2]
        ]
        for table, run in ((direct, execute_many), (reference, None)):
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("row"))
                .values(day=sa.bindparam("new_day"), score=sa.bindparam("new_score"))
            )
            if run is None:
                connection.execute(statement, changes)
            else:
                run(connection, statement, changes)
        assert _stored(connection, direct) == _stored(connection, reference)
        assert _stored(connection, direct)[0][1] is None  # row 1: its day set to NULL
        metadata.drop_all(connection)


def test_execute_many_leaves_column_defaults_to_sqlalchemy(runtime: Runtime) -> None:
    """Rows without ``flag`` (a column with a Python default) are stored with the default."""
    metadata = sa.MetaData()
    direct, reference = _tables(metadata)
    with runtime.engine.begin() as connection:
        metadata.create_all(connection)
        execute_many(connection, sa.insert(direct), ROWS)
        connection.execute(sa.insert(reference), ROWS)
        stored = _stored(connection, direct)
        assert stored == _stored(connection, reference)
        assert {r[-1] for r in stored} == {False}
        execute_many(connection, sa.insert(direct), [])  # nothing to do
        assert len(_stored(connection, direct)) == len(ROWS)
        metadata.drop_all(connection)


def test_rows_sharing_dates_and_times_store_what_sqlalchemy_stores(runtime: Runtime) -> None:
    # A batch's rows often share a day and a time, converted once each; equal instants in two
    # time zones are still converted apart.
    beijing = dt.timezone(dt.timedelta(hours=8))
    noon = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    shared = [noon, noon.astimezone(beijing), noon, dt.datetime(2026, 11, 1, 4, tzinfo=dt.UTC)]
    names = ("id", "day", "at", "score", "note", "flag")
    rows = [
        (i, dt.date(2026, 11, 1 + i % 2), shared[i % 4], i / 7, None, i % 2 == 0)
        for i in range(1, 30)
    ]
    metadata = sa.MetaData()
    direct, reference = _tables(metadata)
    with runtime.engine.begin() as connection:
        metadata.create_all(connection)
        execute_many_tuples(connection, sa.insert(direct), names, rows)
        connection.execute(sa.insert(reference), [dict(zip(names, r, strict=True)) for r in rows])
        assert _stored(connection, direct) == _stored(connection, reference)
        metadata.drop_all(connection)
