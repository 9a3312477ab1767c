"""Migrated test databases without migrating per test.

The migrations run once per backend per session. SQLite: on a template file that each test
copies. PostgreSQL: on a template schema (kept for the session) while every statement the
driver receives is recorded; a new test schema replays them (PostgreSQL has no schema
templates, and a template *database* per test forces a checkpoint at each ``DROP DATABASE``),
and is afterwards emptied back to the template's rows and sequence positions and handed to the
next test, which is about ten times cheaper than building a schema.
``tests/store/test_test_databases.py`` checks that a copy, new or recycled, equals a fresh
migration.

Under ``pytest -n`` every xdist worker is a session of its own: it migrates its own SQLite file
(under its own temporary directory) and its own template schema, and names its schemas after
the worker (``t_gw0_…``), so that workers share only the server.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from guanghe.store import make_engine, upgrade_schema


def migrated_sqlite_file(path: Path) -> Path:
    """Migrate a new SQLite file at ``path``, checkpointed so that the file alone holds it."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return path


#: The pytest-xdist worker running this session ("gw0", "gw1", ...), "main" without xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def schema_url(server_url: str, schema: str) -> str:
    """``server_url`` with ``schema`` alone on the search path, committing without waiting for
    the WAL flush (see ``PGOPTIONS`` in ``tests/conftest.py``)."""
    return f"{server_url}?options=-csynchronous_commit%3Doff%20-csearch_path%3D{schema}"


def schema_of(url: str) -> str:
    """The schema of a :func:`schema_url`."""
    return url.rpartition("search_path%3D")[2]


@dataclass(frozen=True)
class Statement:
    """One statement as the driver received it: ``many`` for ``executemany``; ``parameters``
    ``None`` when executed without any (so that ``%`` is no placeholder)."""

    sql: str
    parameters: Any
    many: bool


@dataclass
class PostgresSchemas:
    """Schemas at the newest migration for one test each, recycled between tests.

    ``template`` is a schema migrated once; a new schema replays ``statements``, what the
    driver executed then. :meth:`give_back` empties a schema back to the template's rows and
    sequence positions, deleting with triggers and foreign keys off (which needs a superuser,
    as the test server's ``postgres`` is), and keeps it for the next :meth:`take`.
    """

    engine: sa.Engine
    template: str
    statements: tuple[Statement, ...]
    tables: tuple[str, ...]
    seeded: tuple[str, ...]
    sequences: tuple[str, ...]
    free: list[str] = field(default_factory=list)
    made: list[str] = field(default_factory=list)

    @classmethod
    def record(cls, server_url: str) -> PostgresSchemas:
        """Migrate a template schema, recording what the driver executed."""
        engine = sa.create_engine(server_url)
        template = f"template_{WORKER}_{uuid.uuid4().hex[:16]}"
        with engine.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{template}"')
        migrating = make_engine(schema_url(server_url, template))
        try:
            with migrating.connect():  # the dialect's first-connect queries are not migrations
                pass
            statements = _recorded_upgrade(migrating)
        finally:
            migrating.dispose()
        schemas = cls(engine, template, statements, (), (), ())
        schemas.made.append(template)
        with schemas._on(template) as connection:
            tables = tuple(
                _names(connection, "tables", "table_name", "AND table_type = 'BASE TABLE'")
            )
            seeded = tuple(
                table
                for table in tables
                if connection.exec_driver_sql(f'SELECT EXISTS (SELECT FROM "{table}")').scalar()
            )
            sequences = tuple(_names(connection, "sequences", "sequence_name"))
        schemas.tables, schemas.seeded, schemas.sequences = tables, seeded, sequences
        return schemas

    def take(self) -> str:
        """A schema at the newest migration that no test is using."""
        if self.free:
            return self.free.pop()
        schema = f"t_{WORKER}_{uuid.uuid4().hex[:16]}"
        self.made.append(schema)
        with self._on(schema, create=True) as connection:
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            for statement in self.statements:
                if statement.many:
                    cursor.executemany(statement.sql, statement.parameters)
                elif statement.parameters is None:
                    cursor.execute(statement.sql)
                else:
                    cursor.execute(statement.sql, statement.parameters)
            cursor.close()
        return schema

    def give_back(self, schema: str) -> None:
        """Empty ``schema`` back to the template's state and keep it for the next test (unless
        a test changed its tables: then it is only dropped at the end)."""
        with self._on(schema) as connection:
            if (
                tuple(_names(connection, "tables", "table_name", "AND table_type = 'BASE TABLE'"))
                != self.tables
            ):
                return
            self._refill(connection, self.template, self.seeded)
        self.free.append(schema)

    def copy_rows(self, schema: str, source: str) -> None:
        """Make the rows and sequence positions of ``schema`` (one of :meth:`take`'s) those of
        ``source``, another schema of this pool that a fixture filled once per session: how a
        test starts from a store built for many (see ``cycled_platform`` in
        ``tests/conftest.py``). :meth:`give_back` empties it as usual afterwards."""
        with self._on(schema) as connection:
            self._refill(connection, source, self.tables)

    def _refill(self, connection: sa.Connection, source: str, tables: tuple[str, ...]) -> None:
        """Empty every table of the current schema, then copy ``tables`` and every sequence's
        position from ``source`` (triggers and foreign keys off, as the rows are consistent)."""
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
        for table in self.tables:
            connection.exec_driver_sql(f'DELETE FROM "{table}"')
        for table in tables:
            connection.exec_driver_sql(f'INSERT INTO "{table}" SELECT * FROM "{source}"."{table}"')
        for name in self.sequences:
            connection.exec_driver_sql(
                f'SELECT setval(\'"{name}"\', last_value, is_called) FROM "{source}"."{name}"'
            )

    def drop_all(self) -> None:
        """Drop every schema made, the template too, and release the engine."""
        with self.engine.begin() as connection:
            for schema in self.made:
                connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        self.engine.dispose()

    @contextmanager
    def _on(self, schema: str, *, create: bool = False) -> Iterator[sa.Connection]:
        """A transaction with ``schema`` (created first if ``create``) alone on its path."""
        with self.engine.begin() as connection:
            if create:
                connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}"')
            assert connection.exec_driver_sql("SELECT current_schema()").scalar() == schema
            yield connection


def _names(connection: sa.Connection, view: str, column: str, condition: str = "") -> list[str]:
    """Sorted names from ``information_schema.<view>`` in the current schema."""
    schema_column = "sequence_schema" if view == "sequences" else "table_schema"
    return sorted(
        connection.exec_driver_sql(
            f"SELECT {column} FROM information_schema.{view} "
            f"WHERE {schema_column} = current_schema() {condition}"
        ).scalars()
    )


def _recorded_upgrade(engine: sa.Engine) -> tuple[Statement, ...]:
    """Upgrade ``engine``'s schema to the newest migration; return the statements it ran."""
    recorded: list[Statement] = []

    def one(cursor: Any, sql: str, parameters: Any, context: Any) -> None:
        recorded.append(Statement(sql, parameters, many=False))

    def no_parameters(cursor: Any, sql: str, context: Any) -> None:
        recorded.append(Statement(sql, None, many=False))

    def many(cursor: Any, sql: str, parameters: Any, context: Any) -> None:
        recorded.append(Statement(sql, parameters, many=True))

    listeners: dict[str, Callable[..., None]] = {
        "do_execute": one,
        "do_execute_no_params": no_parameters,
        "do_executemany": many,
    }
    for name, listener in listeners.items():
        sa.event.listen(engine, name, listener)
    try:
        upgrade_schema(engine)
    finally:
        for name, listener in listeners.items():
            sa.event.remove(engine, name, listener)
    return tuple(recorded)
