"""One statement executed over many rows, without SQLAlchemy's per-row work where it can.

SQLAlchemy's ``connection.execute(statement, rows)`` builds a parameter dictionary for every
row and converts it bind by bind; for the hundred thousand rows a daily cycle writes at once
(ledger transfers, enrolment progress, placements, estimates) that costs as much CPU as the
database's own work. :func:`execute_many` compiles the statement once and hands the driver
tuples, converting only the values whose type needs it (dates and times on SQLite).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
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
    execute_many_tuples(
        connection, statement, names, [tuple(row[n] for n in names) for row in rows]
    )


def execute_many_tuples(
    connection: Connection,
    statement: UpdateBase,
    names: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """:func:`execute_many` with each row the tuple of the values of ``names``, in that order
    (no dictionary per row). A date or time the driver cannot take as it is (SQLite's) is
    converted once per distinct value, as a batch's rows often share them."""
    if not rows:
        return
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(names))
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
        connection.execute(statement, [dict(zip(names, row, strict=True)) for row in rows])
        return
    dialect = connection.dialect
    position = {name: i for i, name in enumerate(names)}
    convert = [
        (position[name], compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in order
    ]
    if all(f is None for _, f in convert) and [i for i, _ in convert] == list(range(len(names))):
        parameters: Sequence[tuple[Any, ...]] = rows
    else:
        steps = [(i, None if f is None else _once_per_value(f)) for i, f in convert]
        parameters = [tuple(row[i] if f is None else f(row[i]) for i, f in steps) for row in rows]
    connection.exec_driver_sql(compiled.string, parameters)


def _once_per_value(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, computed once per distinct date or time (of one type and time zone: equal
    instants in two zones are converted apart); other values every time."""
    done: dict[tuple[type, Any, Any], Any] = {}

    def converted(value: Any) -> Any:
        if not isinstance(value, dt.date | dt.time):
            return convert(value)
        key = (type(value), value, getattr(value, "tzinfo", None))
        if key not in done:
            done[key] = convert(value)
        return done[key]

    return converted
