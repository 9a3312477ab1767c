"""``guanghe report``: the ecosystem report as a table, JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from guanghe.cli.context import open_runtime

if TYPE_CHECKING:
    from guanghe.analytics import EcosystemReport, Figure


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    app.command("report")(report)


def report(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD.")],
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """The ecosystem report for a period against the same period a year earlier."""
    from guanghe.analytics import ecosystem_report, parse_period

    period = parse_period(start, end)
    with open_runtime() as runtime, runtime.sessions() as session:
        result = ecosystem_report(session, runtime.event_log, period)
    if output is Format.json:
        typer.echo(json.dumps(_as_dict(result), indent=2))
    elif output is Format.csv:
        _write_csv(result)
    else:
        _print_table(result)


def _as_dict(result: EcosystemReport) -> dict[str, object]:
    def figure(f: Figure) -> dict[str, object]:
        return {"value": f.value, "unavailable": f.unavailable}

    return {
        "period": {"start": str(result.period.start), "end": str(result.period.end)},
        "previous": {"start": str(result.previous.start), "end": str(result.previous.end)},
        "metrics": [
            {
                "key": m.key,
                "label": m.label,
                "current": figure(m.current),
                "previous": figure(m.previous),
                "change": m.change,
            }
            for m in result.metrics
        ],
    }


def _write_csv(result: EcosystemReport) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["metric", "current", "previous", "change", "unavailable"])
    for m in result.metrics:
        reason = m.current.unavailable or m.previous.unavailable or ""
        change = "" if m.change is None else f"{m.change:.4f}"
        writer.writerow([m.key, _cell(m.current, ""), _cell(m.previous, ""), change, reason])


def _print_table(result: EcosystemReport) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Ecosystem {result.period.start} → {result.period.end} "
        f"(vs {result.previous.start} → {result.previous.end})"
    )
    for name in ("Metric", "Current", "Year earlier", "Change"):
        table.add_column(name, justify="left" if name == "Metric" else "right")
    notes = []
    for m in result.metrics:
        change = "–" if m.change is None else f"{m.change:+.1%}"
        table.add_row(m.label, _cell(m.current), _cell(m.previous), change)
        reason = m.current.unavailable or m.previous.unavailable
        if reason:
            notes.append(f"{m.label}: {reason}")
    console = Console(width=120)
    console.print(table)
    for note in dict.fromkeys(notes):
        console.print(f"[dim]n/a — {note}[/dim]")


def _cell(figure: Figure, missing: str = "n/a") -> str:
    return (
        missing if figure.value is None else f"{figure.value:,}" if missing else str(figure.value)
    )
