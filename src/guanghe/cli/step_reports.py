"""Printing what the cycle did: a table of its steps and a line per problem."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from guanghe.pipelines import CycleRun


def print_cycle_run(run: CycleRun) -> None:
    """The summary table (step, duration, counts, problems), every problem, and a last line
    saying how many days were settled and how many problems touch money."""
    table = Table(title=f"cycle {run.date} (now {run.now.isoformat()}, {run.batch_engine})")
    table.add_column("step")
    table.add_column("duration", justify="right")
    table.add_column("counts")
    table.add_column("problems", justify="right")
    for report in run.reports:
        counts = ", ".join(f"{name} {value}" for name, value in report.counts.items())
        money = len(report.money_problems)
        flagged = f"{len(report.problems)}" + (f" ({money} money)" if money else "")
        table.add_row(report.step, f"{report.duration_s:.2f} s", counts, flagged)
    Console(width=160).print(table)
    for report in run.reports:
        for p in report.problems:
            mark = "money " if p.affects_money else ""
            typer.echo(f"{mark}problem in {report.step}: {p.kind} {p.id}: {p.reason}")
    settled = next(
        (r.counts["days_settled"] for r in run.reports if "days_settled" in r.counts), None
    )
    days = f"; {settled} days settled" if settled is not None else ""
    typer.echo(
        f"cycle {run.date}: {len(run.reports)} steps ran in {run.duration_s:.2f} s{days}; "
        f"{len(run.problems)} problems, {len(run.money_problems)} leave money unpaid or refused"
    )
