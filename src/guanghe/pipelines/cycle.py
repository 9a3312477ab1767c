"""The daily cycle: the batch steps that turn one day's events into the day's snapshots.

Every step is given one frozen :class:`~guanghe.pipelines.context.CycleContext` (stores, date,
batch engine, the cycle's ``now``) and returns a :class:`~guanghe.pipelines.reports.StepReport`;
re-running a date gives the same result. The run's reports are logged (one record per step with
``step``, ``duration_s`` and ``counts`` as fields) and kept as the date's ``cycle_runs``
snapshot. Capabilities add their steps to :data:`CYCLE_STEPS`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from guanghe.batch_gc import batch_collection
from guanghe.pipelines import (
    ad_spend_step,
    copy_earnings_step,
    diagnosis_step,
    feature_step,
    growth_step,
    hotspots_step,
    incentives_step,
    institutions_step,
    live_reminders_step,
    matching_step,
    originality_step,
    settlement_step,
    tasks_step,
    traffic_step,
)
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.reports import CycleRun, StepReport, save_run
from guanghe.runtime import Runtime

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CycleStep:
    """One named step of the cycle."""

    name: str
    run: Callable[[CycleContext], StepReport]


#: The steps in the order the data flow needs them (features → stages → traffic → …).
CYCLE_STEPS: tuple[CycleStep, ...] = (
    CycleStep("features", feature_step.run),
    CycleStep("growth", growth_step.run),
    CycleStep("originality", originality_step.run),
    CycleStep("incentives", incentives_step.run),
    CycleStep("traffic", traffic_step.run),
    CycleStep("matching", matching_step.run),
    CycleStep("tasks", tasks_step.run),
    CycleStep("ad_spend", ad_spend_step.run),
    CycleStep("hotspots", hotspots_step.run),
    CycleStep("live_reminders", live_reminders_step.run),
    CycleStep("settlement", settlement_step.run),
    CycleStep("copy_earnings", copy_earnings_step.run),
    CycleStep("institutions", institutions_step.run),
    CycleStep("diagnosis", diagnosis_step.run),
)

#: ``progress(step, done, total)``: called before each step and once when all are done.
Progress = Callable[[str, int, int], None]


@batch_collection()
def run_cycle(
    runtime: Runtime,
    date: dt.date,
    *,
    steps: tuple[CycleStep, ...] = CYCLE_STEPS,
    progress: Progress | None = None,
    engine: str = "duckdb",
    now: dt.datetime | None = None,
) -> CycleRun:
    """Run ``steps`` for ``date`` on the batch ``engine`` (``duckdb`` or ``spark``), keep the
    run as the date's snapshot and return it. ``now`` defaults to the end of ``date``."""
    ctx = CycleContext.for_date(runtime, date, batch_engine=engine, now=now)
    runtime.init()
    reports = []
    for done, step in enumerate(steps):
        if progress is not None:
            progress(step.name, done, len(steps))
        started = time.perf_counter()
        report = step.run(ctx)
        report = dataclasses.replace(
            report, step=step.name, duration_s=round(time.perf_counter() - started, 3)
        )
        _log_step(ctx, report)
        reports.append(report)
    if progress is not None:
        progress("done", len(steps), len(steps))
    run = CycleRun(date, ctx.now, ctx.batch_engine, tuple(reports))
    save_run(ctx.snapshots, run)
    return run


def _log_step(ctx: CycleContext, report: StepReport) -> None:
    fields = {
        "cycle_date": ctx.date.isoformat(),
        "step": report.step,
        "duration_s": report.duration_s,
        "counts": dict(report.counts),
        "problems": len(report.problems),
    }
    _log.info(
        "cycle %s: step %s took %.3f s", ctx.date, report.step, report.duration_s, extra=fields
    )
    for problem in report.problems:
        _log.log(
            logging.WARNING if problem.affects_money else logging.INFO,
            "cycle %s: step %s: %s %s: %s",
            ctx.date,
            report.step,
            problem.kind,
            problem.id,
            problem.reason,
            extra=fields | {"object_kind": problem.kind, "object_id": problem.id},
        )
