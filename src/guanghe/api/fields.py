"""The value types the API accepts, bounded once here and stated in the OpenAPI schema.

Text is storable text (:mod:`guanghe.text`); days and instants lie in the platform's life and
integers in 63 bits (:mod:`guanghe.bounds`); integers and booleans in JSON bodies are strict
(``"10"`` is not an amount and ``0`` is not ``false``). A value outside is a 422 problem
naming the field, before any handler runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, Field, Strict

from guanghe.bounds import (
    END_INSTANT,
    FIRST_DAY,
    FIRST_INSTANT,
    LAST_DAY,
    MAX_INT63,
    day_problem,
    instant_problem,
)
from guanghe.text import StorableText

__all__ = [
    "MAX_INT63",
    "BodyId",
    "Cursor",
    "Day",
    "IdPath",
    "IdQuery",
    "Instant",
    "StorableText",
    "StrictBool",
    "StrictInt",
]

#: The cursor of a paginated list: opaque, as the previous page's ``next_cursor`` gave it.
CURSOR_PATTERN: Final = "^[A-Za-z0-9_-]{1,200}$"


def _day(value: dt.date) -> dt.date:
    problem = day_problem(value)
    if problem is not None:
        raise ValueError(f"the day {problem}")
    return value


def _instant(value: dt.datetime) -> dt.datetime:
    problem = instant_problem(value)
    if problem is not None:
        raise ValueError(f"the instant {problem}")
    return value


#: A day in the platform's life (:data:`guanghe.bounds.FIRST_DAY` .. ``LAST_DAY``).
Day = Annotated[
    dt.date,
    AfterValidator(_day),
    Field(
        description=f"A day from {FIRST_DAY} to {LAST_DAY}",
        json_schema_extra={"formatMinimum": str(FIRST_DAY), "formatMaximum": str(LAST_DAY)},
    ),
]

#: An RFC 3339 instant with a time zone, in the platform's life.
Instant = Annotated[
    AwareDatetime,
    AfterValidator(_instant),
    Field(
        description=(
            f"RFC 3339 with a time zone, from {FIRST_INSTANT.isoformat()} "
            f"to before {END_INSTANT.isoformat()}"
        ),
        json_schema_extra={
            "formatMinimum": FIRST_INSTANT.isoformat(),
            "formatExclusiveMaximum": END_INSTANT.isoformat(),
        },
    ),
]

#: A JSON integer (never a string or a boolean).
StrictInt = Annotated[int, Strict()]
#: A JSON ``true`` or ``false`` (never ``0``, ``1`` or a string).
StrictBool = Annotated[bool, Strict()]
#: An entity id in a JSON body.
BodyId = Annotated[int, Strict(), Field(ge=1, le=MAX_INT63)]
#: An entity id in the path.
IdPath = Annotated[int, Path(ge=1, le=MAX_INT63)]
#: An optional entity id filter in the query.
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_INT63)]
#: The ``cursor`` of a paginated list.
Cursor = Annotated[
    str | None,
    Query(
        pattern=CURSOR_PATTERN,
        description="The `next_cursor` of the previous page; omit it for the first page",
    ),
]
