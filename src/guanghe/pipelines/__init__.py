"""Batch jobs of the daily cycle that read the event log and write dated snapshots.

The names below are loaded on first use, so that importing one step (as a process settling a
day does) loads that step's dependencies only, not every step's and the batch engines'.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Each exported name and the module of this package defining it.
_MODULE_OF = {
    "CycleContext": "context",
    "business_day_end": "context",
    "CYCLE_STEPS": "cycle",
    "CycleStep": "cycle",
    "run_cycle": "cycle",
    "CycleRun": "reports",
    "Problem": "reports",
    "RunPage": "reports",
    "StepReport": "reports",
    "list_runs": "reports",
    "load_run": "reports",
    "parse_day": "reports",
}

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


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
