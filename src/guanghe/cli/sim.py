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


@app.command("advance")
def advance(
    days: Annotated[int, typer.Option(help="Days to play forward (1..366).")] = 7,
    seed: Annotated[
        int, typer.Option(help="Random seed; same seed and decisions, same events.")
    ] = 7,
) -> None:
    """Play the generated platform forward day by day, answering Guanghe's decisions (boosts
    delivered through the boost path; follows, plays and churn from the hidden truth), with
    the cycle run after each day."""
    from rich.console import Console
    from rich.table import Table

    from guanghe.sim.forward import advance as advance_platform
    from guanghe.sim.forward import check_arguments

    check_arguments(days, seed)
    with open_runtime() as runtime, stage_progress() as progress:
        result = advance_platform(runtime, days, seed=seed, progress=progress)
    table = Table(title=f"advanced {len(result.days)} days")
    for column in (
        "day",
        "boost calls",
        "boosted creators",
        "boosted impr.",
        "follows",
        "unfollows",
        "new works",
        "orders",
        "ad impr.",
        "ad fen",
        "tasks acc./sub./paid",
        "events",
    ):
        table.add_column(column, justify="left" if column == "day" else "right")
    for d in result.days:
        table.add_row(
            d.day.isoformat(),
            f"{d.boost_calls:,}",
            f"{d.boosted_creators:,}",
            f"{d.boosted_impressions:,}",
            f"{d.follows:,}",
            f"{d.unfollows:,}",
            f"{d.works_published:,}",
            f"{d.orders:,}",
            f"{d.ad_impressions:,}",
            f"{d.ad_charged_fen:,}",
            f"{d.tasks_accepted:,}/{d.tasks_submitted:,}/{d.tasks_approved:,}",
            f"{d.events:,}",
        )
    Console().print(table)
    typer.echo(
        f"advanced {result.first_day} to {result.last_day}: "
        f"{sum(d.boosted_impressions for d in result.days):,} boosted impressions, "
        f"{sum(d.follows for d in result.days):,} follows, "
        f"{sum(d.events for d in result.days):,} events"
    )
