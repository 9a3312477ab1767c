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
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Threads of the passes over the creators, from 2**18 of them on "
            "(default: the CPUs this process may run on); the result does not depend on it.",
        ),
    ] = None,
) -> None:
    """Allocate the budgets to creators; print a JSON summary line.

    ``phases`` in the summary are the seconds of each step: ``load_kernels`` (the compiled
    solver into this process, once), ``read`` (the files), ``validate`` (every value of the
    problem), ``solve`` (the solver alone, also ``seconds``) and ``write`` (the result).
    """
    import time

    from guanghe.traffic import AllocationProblem, TrafficAllocator
    from guanghe.traffic.allocation import load_kernels
    from guanghe.traffic.files import read_columns, write_impressions
    from guanghe.traffic.problem import unplannable_budgets

    clock = [time.perf_counter()]

    def lap() -> float:
        clock.append(time.perf_counter())
        return round(clock[-1] - clock[-2], 3)

    load_kernels()
    phases = {"load_kernels": lap()}
    columns = read_columns(creators, budgets)
    phases["read"] = lap()
    problem = AllocationProblem(**columns)
    phases["validate"] = lap()
    result = TrafficAllocator(threads=threads).solve(problem)
    phases["solve"] = lap()
    write_impressions(out, problem.creator_id, result.impressions)
    phases["write"] = lap()
    summary = {
        "creators": problem.n_creators,
        "objective": result.objective,
        "rounded_objective": result.rounded_objective,
        "dual_objective": result.dual_objective,
        "duality_gap": result.duality_gap,
        "max_violation": result.max_violation,
        "impressions": int(result.impressions.sum()),
        "unplannable": unplannable_budgets(problem),
        "iterations": result.iterations,
        "seconds": round(result.seconds, 6),
        "phases": phases,
    }
    typer.echo(json.dumps(summary))
