"""One statement executed over many rows, without SQLAlchemy's per-row work where it can.

SQLAlchemy's ``connection.execute(statement, rows)`` builds a parameter dictionary for every
row and converts it bind by bind; for the hundred thousand rows a daily cycle writes at once
(ledger transfers, enrolment progress, placements, estimates) that costs as much CPU as the
database's own work. :func:`execute_many` compiles the statement once and hands the driver
tuples, converting only the values whose type needs it (dates and times on SQLite).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase


def execute_many(
    connection: Connection, statement: UpdateBase, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Execute ``statement`` once per row of ``rows`` (each maps every bound parameter's
    name to its value; all rows the same names), as ``connection.execute(statement, rows)``
    does: the same SQL, the same converted values. Through the driver's ``executemany`` when
    its parameters are positional (SQLite's); else through SQLAlchemy."""
    if not rows:
        return
    names = list(rows[0])
    compiled = statement.compile(dialect=connection.dialect, column_keys=names)
    assert isinstance(compiled, SQLCompiler)
    order = compiled.positiontup
    if (
        order is None  # named parameters (PostgreSQL's driver)
        or not set(order) <= set(names)  # a parameter the rows leave to a column default
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
    ):
        connection.execute(statement, list(rows))
        return
    dialect = connection.dialect
    convert = [
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in order
    ]
    parameters = [
        tuple(row[name] if f is None else f(row[name]) for name, f in convert) for row in rows
    ]
    connection.exec_driver_sql(compiled.string, parameters)
