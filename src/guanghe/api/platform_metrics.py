"""What the platform's batch side did, as Prometheus gauges read at scrape time: the last
cycle run's steps (duration, problems), the period's allocation (solver figures, unplannable
budget) and the ledger's earnings totals.

The server does not run the cycle; it reads what the cycle kept (its run report and
snapshots) and the ledger through the ledger's read functions, so every server process scraped
reports the same figures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from guanghe.ledger import purpose_totals
from guanghe.pipelines.reports import list_runs
from guanghe.runtime import Runtime
from guanghe.snapshots import latest_date, snapshot_metadata

ALLOCATION = "traffic_allocation"
_SOLVER_FIGURES = ("objective", "duality_gap", "max_violation")


class PlatformCollector(Collector):
    """Gauges of the last cycle run, the current allocation and the ledger (see module)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._cycle()
        yield from self._allocation()
        yield from self._ledger()

    def _cycle(self) -> Iterator[GaugeMetricFamily]:
        runs = list_runs(self.runtime.settings.snapshots_dir, limit=1).items
        if not runs:
            return
        run = runs[0]
        day = GaugeMetricFamily(
            "guanghe_cycle_last_run_date_seconds",
            "The business day of the last cycle run, as a Unix time (midnight UTC).",
        )
        day.add_metric([], float(run.date.toordinal() - 719_163) * 86_400)
        yield day
        duration = GaugeMetricFamily(
            "guanghe_cycle_step_duration_seconds",
            "How long each step of the last cycle run took.",
            labels=["step"],
        )
        problems = GaugeMetricFamily(
            "guanghe_cycle_step_problems",
            "Problems each step of the last cycle run reported (money: left unpaid or refused).",
            labels=["step", "money"],
        )
        for report in run.reports:
            duration.add_metric([report.step], report.duration_s)
            money = len(report.money_problems)
            problems.add_metric([report.step, "true"], money)
            problems.add_metric([report.step, "false"], len(report.problems) - money)
        yield duration
        yield problems

    def _allocation(self) -> Iterator[GaugeMetricFamily]:
        root = self.runtime.settings.snapshots_dir
        day = latest_date(root, ALLOCATION)
        if day is None:
            return
        metadata = snapshot_metadata(root, ALLOCATION, day)
        solver = GaugeMetricFamily(
            "guanghe_traffic_allocation",
            "Figures of the current period's allocation solve (relaxed optimum).",
            labels=["figure"],
        )
        for figure in _SOLVER_FIGURES:
            if figure in metadata:
                solver.add_metric([figure], float(metadata[figure]))
        yield solver
        unplannable = GaugeMetricFamily(
            "guanghe_traffic_unplannable_impressions",
            "Budgeted impressions of pools with no member in the current period.",
            labels=["pool"],
        )
        for pool, impressions in json.loads(metadata.get("unplannable", "{}")).items():
            unplannable.add_metric([pool], float(impressions))
        yield unplannable

    def _ledger(self) -> Iterator[GaugeMetricFamily]:
        earned = GaugeMetricFamily(
            "guanghe_ledger_earnings_fen",
            "Earnings accounts' posted totals in fen: credited (earned) and debited (paid out).",
            labels=["owner_kind", "side"],
        )
        with self.runtime.sessions() as session:
            for owner_kind in ("creator", "institution"):
                totals = purpose_totals(session, owner_kind=owner_kind, purpose="earnings")
                earned.add_metric([owner_kind, "credited"], float(totals.credits_posted))
                earned.add_metric([owner_kind, "debited"], float(totals.debits_posted))
        yield earned
