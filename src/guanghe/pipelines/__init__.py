"""Batch jobs of the daily cycle that read the event log and write dated snapshots."""

from guanghe.pipelines.context import CycleContext, business_day_end
from guanghe.pipelines.cycle import CYCLE_STEPS, CycleStep, run_cycle
from guanghe.pipelines.reports import (
    CycleRun,
    Problem,
    RunPage,
    StepReport,
    list_runs,
    load_run,
    parse_day,
)

__all__ = [
    "CYCLE_STEPS",
    "CycleContext",
    "CycleRun",
    "CycleStep",
    "Problem",
    "RunPage",
    "StepReport",
    "business_day_end",
    "list_runs",
    "load_run",
    "parse_day",
    "run_cycle",
]
