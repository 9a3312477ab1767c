"""Engines, sessions and schema migration for SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar, TypeVarTuple, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Engine,
    Result,
    Select,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from guanghe.errors import Unavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


#: Connections an engine may open: more than the API's worker threads (AnyIO's 40), so a request
#: waiting for a connection can never starve the threads that finish requests and return theirs.
POOL_SIZE: Final = 20
MAX_OVERFLOW: Final = 40
#: Page cache of each SQLite connection (SQLite's default is 2 MiB). Filled only as pages are
#: read, so a small store never uses it; at 6.7 million ledger transfers (100,000 creators
#: advanced 38 days) a day's 150,000 key lookups and inserts into the transfers table and its
#: six indexes took 3.4-3.8 s of CPU with it against 4.5-4.8 s with the default.
SQLITE_CACHE_MIB: Final = 64


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        pool: dict[str, Any] = {}
        if path and path != ":memory:":  # a file: a queue pool (in memory: one connection)
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            pool = {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW}
        engine = create_engine(url, connect_args={"timeout": 30}, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, see _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_MIB * 1024}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """``BEGIN IMMEDIATE`` for writers that read-then-write (``sqlite_begin="IMMEDIATE"``
    execution option), so two of them never deadlock on lock upgrade; plain BEGIN otherwise."""
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def writer_engine(engine: Engine) -> Engine:
    """``engine`` for read-modify-write transactions: ``BEGIN IMMEDIATE`` on SQLite."""
    return engine.execution_options(sqlite_begin="IMMEDIATE")


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that migrates ``engine`` with the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    try:
        command.upgrade(alembic_config(engine), "head")
    except OperationalError as exc:
        raise Unavailable(f"cannot reach the database {engine.url!r}: {exc.orig}") from exc


def schema_is_current(engine: Engine) -> bool:
    """Whether the store has been initialised (the core tables exist)."""
    try:
        return inspect(engine).has_table("alembic_version")
    except OperationalError as exc:
        raise Unavailable(f"cannot reach the database {engine.url!r}: {exc.orig}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error. Edges own this; a
    read-modify-write goes through :func:`write_transaction` instead."""
    with factory() as session, session.begin():
        yield session


#: PostgreSQL SQLSTATEs worth a retry: unique violation (a racing writer took the key first),
#: serialization failure, deadlock.
_RETRY_PGCODES: Final = frozenset({"23505", "40001", "40P01"})

T = TypeVar("T")


def write_transaction(engine: Engine, work: Callable[[Session], T], *, attempts: int = 10) -> T:
    """The one way to write: run ``work`` in a writer transaction (``BEGIN IMMEDIATE`` on
    SQLite), committed when it returns, retried from the start on unique-key races, deadlocks
    and serialization failures with a short back-off. ``work`` must not commit, and must be
    safe to run again (it sees a fresh session each attempt)."""
    sessions = session_factory(writer_engine(engine))
    for attempt in range(attempts):
        try:
            with transaction(sessions) as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == attempts - 1 or not _retryable(exc):
                raise
            time.sleep(min(0.002 * 2**attempt, 0.2))
    raise AssertionError("unreachable")


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    if code is not None:
        return code in _RETRY_PGCODES
    message = str(exc.orig)
    if isinstance(exc, IntegrityError):
        return message.startswith("UNIQUE constraint failed")
    return isinstance(exc, OperationalError) and "database is locked" in message


def sync_id_sequences(engine: Engine) -> None:
    """After rows were inserted with explicit ids (a bulk load), move each table's id
    sequence past its largest id so that the next generated id is free. A no-op on SQLite,
    whose ``INTEGER PRIMARY KEY`` always continues after the largest id."""
    if engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with engine.begin() as connection:
        sequences = connection.execute(
            text(
                "SELECT c.table_name, pg_get_serial_sequence(quote_ident(c.table_name), 'id') "
                "FROM information_schema.columns c "
                "WHERE c.table_schema = current_schema() AND c.column_name = 'id'"
            )
        ).all()
        for table, sequence in sequences:
            if sequence is None:
                continue
            connection.execute(
                text(
                    f'SELECT setval(:sequence, coalesce((SELECT max(id) FROM "{table}"), 0) + 1, '
                    "false)"
                ),
                {"sequence": sequence},
            )


_Ts = TypeVarTuple("_Ts")


def select_rows(session: Session, statement: Select[*_Ts]) -> Result[*_Ts]:
    """``session.execute(statement)`` for a select of columns (no entities), its rows built
    by the Core result rather than the ORM's loading, which cost more per row than the query
    for the hundred thousand rows a cycle step reads. Pending changes are flushed first, as
    the session's autoflush would."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement)


def member_of(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values``, the values sent as one JSON parameter (cheap to parse and to send
    at any size, where an expanding ``IN`` renders a bound parameter per value for every
    execution): on PostgreSQL ``= ANY`` of an array built from it (psycopg formats array
    parameters item by item in Python), on SQLite ``IN`` the rows of its ``json_each``."""
    parameter = bindparam(None, list(values), type_=JSON)
    if session.get_bind().dialect.name != "postgresql":
        each = func.json_each(parameter).table_valued("value")
        return cast(ColumnElement[bool], column.in_(select(each.c.value)))
    items = func.json_array_elements_text(parameter)
    array = func.array(select(items.cast(column.type)).scalar_subquery())
    return cast(ColumnElement[bool], column == any_(array))
