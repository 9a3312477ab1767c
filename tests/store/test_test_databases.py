"""The per-test databases (``tests/databases.py``) equal a database migrated from nothing:
the copied SQLite file, a PostgreSQL schema replaying the recorded migration, and one
recycled after a test wrote to it; a copy of the cycled platform (``cycled_platform``) equals
the store it was copied from, and what a test writes to it stays in it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from guanghe.access import create_token
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import make_engine, transaction, upgrade_schema
from tests.conftest import POSTGRES_URL, CycledStore, insert_seed_platform
from tests.databases import PostgresSchemas, schema_of, schema_url
from tests.seed import SeedPlatform


def state(url: str) -> dict[str, Any]:
    """Every table's shape and rows, and on PostgreSQL every sequence's position."""
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        shape: dict[str, Any] = {}
        with engine.connect() as connection:
            for table in sorted(inspector.get_table_names()):
                shape[table] = {
                    "columns": [
                        (c["name"], str(c["type"]), c["nullable"], c["default"])
                        for c in inspector.get_columns(table)
                    ],
                    "primary key": inspector.get_pk_constraint(table),
                    # by name: a migration that rebuilds a SQLite table (batch mode) writes its
                    # constraints in an order that varies from run to run
                    "foreign keys": sorted(
                        inspector.get_foreign_keys(table), key=lambda k: str(k["name"])
                    ),
                    "indexes": [
                        # a partial index's WHERE comes back as a clause object, which
                        # compares by identity: compare its SQL
                        {
                            **i,
                            "dialect_options": {
                                k: str(v) for k, v in i.get("dialect_options", {}).items()
                            },
                        }
                        for i in sorted(inspector.get_indexes(table), key=lambda k: str(k["name"]))
                    ],
                    "unique": sorted(
                        inspector.get_unique_constraints(table), key=lambda k: str(k["name"])
                    ),
                    "checks": sorted(
                        inspector.get_check_constraints(table), key=lambda k: str(k["name"])
                    ),
                    "rows": sorted(
                        map(repr, connection.execute(sa.text(f'SELECT * FROM "{table}"')))
                    ),
                }
            if engine.dialect.name == "postgresql":
                for name in inspector.get_sequence_names():
                    position = sa.text(f'SELECT last_value, is_called FROM "{name}"')
                    shape[f"sequence {name}"] = tuple(connection.execute(position).one())
        return shape
    finally:
        engine.dispose()


def migrated_from_nothing(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()
    return state(url)


def test_a_test_database_equals_a_fresh_migration(
    database_url: str, empty_database_url: str
) -> None:
    assert state(empty_database_url) == {}
    fresh = migrated_from_nothing(empty_database_url)
    assert "verticals" in fresh
    assert state(database_url) == fresh


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_recycled_postgres_schema_equals_a_fresh_migration(
    postgres_schemas: PostgresSchemas, empty_database_url: str, tmp_path: Path
) -> None:
    schema = postgres_schemas.take()
    url = schema_url(POSTGRES_URL, schema)
    with Runtime(Settings(data_dir=tmp_path, database_url=url)) as runtime:
        insert_seed_platform(runtime)
        with transaction(runtime.sessions) as session:
            create_token(
                session, role="operator", subject_id=None, name="t", now=dt.datetime.now(dt.UTC)
            )
    written = state(url)
    postgres_schemas.give_back(schema)
    assert postgres_schemas.take() == schema
    try:
        fresh = migrated_from_nothing(empty_database_url)
        assert written != fresh
        assert state(url) == fresh
    finally:
        postgres_schemas.give_back(schema)


def files(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by its relative path, with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_cycled_copy_equals_the_cycled_store_and_keeps_its_writes_to_itself(
    cycled_platform: SeedPlatform, runtime: Runtime, cycled_stores: dict[str, CycledStore]
) -> None:
    url = runtime.settings.database_url
    store = cycled_stores["sqlite" if url.startswith("sqlite") else "postgresql"]
    store_url = (
        f"sqlite:///{store.database}"
        if url.startswith("sqlite")
        else schema_url(POSTGRES_URL, store.database)
    )
    built = state(store_url)
    assert files(store.data_dir / "snapshots")  # the cycle ran
    assert state(url) == built
    assert files(runtime.settings.data_dir) == files(store.data_dir)
    with transaction(runtime.sessions) as session:
        create_token(
            session, role="operator", subject_id=None, name="t", now=dt.datetime.now(dt.UTC)
        )
    runtime.close()
    assert state(url) != built
    assert state(store_url) == built


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgres_test_connections_commit_without_waiting_for_the_wal_flush(
    runtime: Runtime, postgres_server: sa.Engine
) -> None:
    with runtime.engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
        assert connection.exec_driver_sql("SELECT current_schema()").scalar() == schema_of(
            runtime.settings.database_url
        )
    with postgres_server.connect() as connection:
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
