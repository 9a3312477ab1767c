"""``guanghe traffic``: traffic-support allocation over files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Traffic-support allocation.", no_args_is_help=True)


@app.command("solve")
def solve(
    creators: Annotated[Path, typer.Option(help="Creators Parquet file.")],
    budgets: Annotated[Path, typer.Option(help='Budgets JSON: {"pools": …, "groups": …}.')],
    out: Annotated[Path, typer.Option(help="Where to write creator_id, impressions.")],
) -> None:
    """Allocate the budgets to creators; print a JSON summary line."""
    from guanghe.traffic import TrafficAllocator
    from guanghe.traffic.files import read_problem, write_impressions

    problem = read_problem(creators, budgets)
    result = TrafficAllocator().solve(problem)
    write_impressions(out, problem.creator_id, result.impressions)
    summary = {
        "creators": problem.n_creators,
        "objective": result.objective,
        "rounded_objective": result.rounded_objective,
        "dual_objective": result.dual_objective,
        "duality_gap": result.duality_gap,
        "max_violation": result.max_violation,
        "impressions": int(result.impressions.sum()),
        "iterations": result.iterations,
        "seconds": round(result.seconds, 6),
    }
    typer.echo(json.dumps(summary))
