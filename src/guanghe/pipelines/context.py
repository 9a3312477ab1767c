"""The one frozen context every step of a cycle is given: nothing inside a step reads the wall
clock, the environment or a global."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from guanghe.errors import InvalidInput
from guanghe.runtime import Runtime

if TYPE_CHECKING:
    from guanghe.pipelines.engines import EngineName


def business_day_end(day: dt.date) -> dt.datetime:
    """The last microsecond of ``day`` in UTC: the ``now`` of the cycle for ``day`` unless one
    is given, so that a re-run of a date stamps its writes with the same time."""
    return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class CycleContext:
    """What a cycle step runs on: the deployment's stores, the business ``date``, the batch
    engine of the feature pipeline, and the cycle's ``now`` (the time its writes carry)."""

    runtime: Runtime
    date: dt.date
    batch_engine: EngineName
    now: dt.datetime

    @classmethod
    def for_date(
        cls,
        runtime: Runtime,
        date: dt.date,
        *,
        batch_engine: str = "duckdb",
        now: dt.datetime | None = None,
    ) -> CycleContext:
        """The context of ``date``'s cycle; ``now`` defaults to :func:`business_day_end`."""
        from guanghe.pipelines.engines import ENGINES  # here: the engines import Ibis

        if batch_engine not in ENGINES:
            raise InvalidInput(
                f"unknown batch engine {batch_engine!r}; expected one of {', '.join(ENGINES)}"
            )
        if now is not None and now.tzinfo is None:
            raise InvalidInput("the cycle's now needs a time zone")
        return cls(runtime, date, batch_engine, now or business_day_end(date))

    @property
    def snapshots(self) -> Path:
        """Where the cycle's snapshots live."""
        return self.runtime.settings.snapshots_dir
