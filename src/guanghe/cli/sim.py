"""``guanghe sim``: the synthetic platform."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from guanghe.cli.context import open_runtime
from guanghe.cli.progress import stage_progress

app = typer.Typer(help="Synthetic platform for demos, tests and benchmarks.", no_args_is_help=True)


@app.command("generate")
def generate(
    creators: Annotated[int, typer.Option(min=1, help="Number of creators.")] = 2_000,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days of events.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same platform.")] = 7,
    end_date: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last simulated day.")
    ] = None,
) -> None:
    """Write a synthetic platform into an empty store and event log."""
    from guanghe.sim import generate_platform

    with open_runtime() as runtime:
        with stage_progress() as progress:
            summary = generate_platform(
                runtime,
                creators=creators,
                days=days,
                seed=seed,
                end_date=end_date.date() if end_date else None,
                progress=progress,
            )
        typer.echo(
            f"generated {summary.creators} creators, {summary.institutions} institutions, "
            f"{summary.works} works and {summary.events} events "
            f"from {summary.first_date} to {summary.last_date}"
        )
