"""The stated bounds of values from outside: days in the platform's life, 63-bit integers.

Every store holds a signed 64-bit integer and Python's calendar ends at 9999-12-31, so a day
near the ends of the calendar (a month after December 9999, an offset that pushes an instant
past it) or an integer past 2**63 - 1 fails deep inside a query. The API's models, the CLI and
ingest check values against these bounds at the edge instead, naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from guanghe.errors import InvalidInput

#: First and last day a date from outside may name (the platform's life, with room to spare).
FIRST_DAY: Final = dt.date(2000, 1, 1)
LAST_DAY: Final = dt.date(2100, 12, 31)
#: The same bounds as instants: from the first day's start to the last day's end, in UTC.
FIRST_INSTANT: Final = dt.datetime.combine(FIRST_DAY, dt.time(), tzinfo=dt.UTC)
END_INSTANT: Final = dt.datetime.combine(LAST_DAY + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
#: Largest integer (ids, amounts, counts) any store holds: a signed 64-bit column.
MAX_INT63: Final = 2**63 - 1


def day_problem(value: dt.date) -> str | None:
    """Why ``value`` is outside the platform's life, in a phrase, or ``None``."""
    if isinstance(value, dt.datetime):
        return instant_problem(value)
    if not FIRST_DAY <= value <= LAST_DAY:
        return f"is {value}; days from {FIRST_DAY} to {LAST_DAY} are accepted"
    return None


def instant_problem(value: dt.datetime) -> str | None:
    """Why ``value`` is not an instant with a time zone inside the platform's life, or ``None``.

    The year is checked before the instant is compared, so an offset that would carry the
    instant past 9999-12-31 is refused rather than overflowing."""
    if value.tzinfo is None or value.utcoffset() is None:
        return "needs a time zone"
    if not FIRST_DAY.year - 1 <= value.year <= LAST_DAY.year + 1 or not (
        FIRST_INSTANT <= value < END_INSTANT
    ):
        return (
            f"is {value.isoformat()}; instants from {FIRST_INSTANT.isoformat()} "
            f"to before {END_INSTANT.isoformat()} are accepted"
        )
    return None


def int63_problem(value: int, *, minimum: int = 0) -> str | None:
    """Why ``value`` is outside ``minimum`` .. 2**63 - 1, or ``None``."""
    if not minimum <= value <= MAX_INT63:
        return f"is {value}; integers from {minimum} to {MAX_INT63} are accepted"
    return None


def check_day(value: dt.date, *, field: str) -> dt.date:
    """``value`` unchanged, or :class:`InvalidInput` naming ``field``."""
    problem = day_problem(value)
    if problem is not None:
        raise InvalidInput(f"{field} {problem}")
    return value


def check_month(text: str, *, field: str) -> dt.date:
    """``YYYY-MM`` inside the platform's life as its first day, or :class:`InvalidInput`
    naming ``field``."""
    try:
        first = dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise InvalidInput(f"{field} must look like 2026-11, got {text!r}") from exc
    if not FIRST_DAY <= first <= LAST_DAY:
        raise InvalidInput(
            f"{field} is {text}; months from {FIRST_DAY:%Y-%m} to {LAST_DAY:%Y-%m} are accepted"
        )
    return first
