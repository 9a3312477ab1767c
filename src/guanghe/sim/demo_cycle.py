"""The demo's daily operations on a generated platform: the cycle a week before the last day
(the growth tiers' baseline), the cycle of the last day (settling the days between, so tiers
change and earnings accrue), then that day's payout. Tier changes and payouts write their
notices in the change's transaction, so the demo's creators find them in their inboxes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from guanghe.ledger import PayoutBatch, pay_out
from guanghe.pipelines import CycleRun, business_day_end, run_cycle
from guanghe.runtime import Runtime

#: Days between the baseline cycle and the last day's.
BASELINE_DAYS: Final = 7
#: The smallest demo payout (the CLI's default).
MINIMUM_PAYOUT_FEN: Final = 1_000


@dataclass(frozen=True, slots=True)
class DemoOperations:
    runs: tuple[CycleRun, ...]
    payouts: PayoutBatch

    @property
    def tier_changes(self) -> int:
        """Creators whose tier changed, summed over the runs (the first assessment counts)."""
        return sum(
            r.counts.get("tiers_changed", 0)
            for run in self.runs
            for r in run.reports
            if r.step == "growth"
        )

    @property
    def paid_creators(self) -> list[int]:
        """The creators the payout paid (each now has a payout notice)."""
        return [p.owner_id for p in self.payouts.payouts if p.owner_kind == "creator"]


def run_demo_operations(runtime: Runtime, first: dt.date, last: dt.date) -> DemoOperations:
    """Run the cycle for a week before ``last`` (when the platform began by then) and for
    ``last``, then pay out ``last``'s available earnings."""
    baseline = last - dt.timedelta(days=BASELINE_DAYS)
    days = [baseline, last] if baseline >= first else [last]
    runs = tuple(run_cycle(runtime, day) for day in days)
    payouts = pay_out(
        runtime.engine, last, minimum_fen=MINIMUM_PAYOUT_FEN, now=business_day_end(last)
    )
    return DemoOperations(runs, payouts)
