"""Batch jobs of the daily cycle that read the event log and write dated snapshots."""

from guanghe.pipelines.cycle import CYCLE_STEPS, CycleResult, CycleStep, run_cycle

__all__ = ["CYCLE_STEPS", "CycleResult", "CycleStep", "run_cycle"]
