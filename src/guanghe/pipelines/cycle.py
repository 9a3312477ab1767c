"""The daily cycle: the batch steps that turn one day's events into the day's snapshots.

Steps run in order; each is a pure function of its inputs plus a write of its snapshot, so
re-running a date gives the same result. Capabilities add their steps to :data:`CYCLE_STEPS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from guanghe.errors import InvalidInput
from guanghe.pipelines import (
    ad_spend_step,
    diagnosis_step,
    feature_step,
    growth_step,
    matching_step,
    originality_step,
    settlement_step,
    traffic_step,
)
from guanghe.pipelines.engines import ENGINES
from guanghe.runtime import Runtime


@dataclass(frozen=True, slots=True)
class CycleStep:
    """One named step of the cycle."""

    name: str
    run: Callable[[Runtime, dt.date], None]


#: The steps in the order the data flow needs them (features → stages → traffic → …).
CYCLE_STEPS: tuple[CycleStep, ...] = (
    CycleStep("features", feature_step.run),
    CycleStep("growth", growth_step.run),
    CycleStep("originality", originality_step.run),
    CycleStep("traffic", traffic_step.run),
    CycleStep("matching", matching_step.run),
    CycleStep("ad_spend", ad_spend_step.run),
    CycleStep("settlement", settlement_step.run),
    CycleStep("diagnosis", diagnosis_step.run),
)


@dataclass(frozen=True, slots=True)
class CycleResult:
    date: dt.date
    steps: tuple[str, ...]


def run_cycle(
    runtime: Runtime,
    date: dt.date,
    *,
    steps: tuple[CycleStep, ...] = CYCLE_STEPS,
    progress: Callable[[str], None] | None = None,
    engine: str = "duckdb",
) -> CycleResult:
    """Run ``steps`` for ``date`` on the batch ``engine`` (``duckdb`` or ``spark``) and return
    what ran."""
    if engine not in ENGINES:
        raise InvalidInput(f"unknown batch engine {engine!r}; expected one of {', '.join(ENGINES)}")
    runtime.init()
    token = feature_step.BATCH_ENGINE.set(engine)
    try:
        for step in steps:
            if progress is not None:
                progress(step.name)
            step.run(runtime, date)
    finally:
        feature_step.BATCH_ENGINE.reset(token)
    return CycleResult(date=date, steps=tuple(step.name for step in steps))
