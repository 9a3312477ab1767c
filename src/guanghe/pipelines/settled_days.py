"""Which days the cycle settles: every day from the event log's first up to the cycle's date
that has not been settled yet, in order, and the cycle's date itself (a re-run of a date
settles it again, posting only what is missing)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from guanghe.runtime import Runtime
from guanghe.store import SettledDay


def days_to_settle(runtime: Runtime, date: dt.date) -> list[dt.date]:
    """The days the cycle of ``date`` settles, oldest first (``date`` last)."""
    logged = runtime.event_log.dates()
    first = dt.date.fromisoformat(logged[0]) if logged else date
    with runtime.sessions() as session:
        settled = set(
            session.scalars(
                select(SettledDay.day).where(SettledDay.day >= first, SettledDay.day < date)
            )
        )
    earlier = (first + dt.timedelta(days=n) for n in range(max((date - first).days, 0)))
    return [d for d in earlier if d not in settled] + [date]
