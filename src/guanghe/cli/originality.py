"""``guanghe originality``: original protection's batch commands."""

from __future__ import annotations

import datetime as dt

import typer

from guanghe.cli.context import open_runtime
from guanghe.cli.progress import stage_progress

app = typer.Typer(help="Original protection: the fingerprint index.", no_args_is_help=True)


@app.command("backfill")
def backfill() -> None:
    """Check and index every work with a cover that is not in the fingerprint index yet
    (resumable: a batch is committed at a time)."""
    from guanghe.pipelines.originality_step import backfill as run_backfill

    with open_runtime() as runtime, stage_progress() as progress:
        summary = run_backfill(
            runtime,
            now=dt.datetime.now(dt.UTC),
            progress=lambda done, total: progress("works indexed", done, total),
        )
    typer.echo(
        f"indexed {summary.checked} works: {summary.duplicates} duplicates, "
        f"{summary.suspects} suspects"
    )
    if summary.unreadable:
        shown = ", ".join(map(str, summary.unreadable[:20]))
        more = " …" if len(summary.unreadable) > 20 else ""
        typer.echo(
            f"{len(summary.unreadable)} works have an unreadable cover and stay unindexed: "
            f"{shown}{more}",
            err=True,
        )
        raise typer.Exit(1)
