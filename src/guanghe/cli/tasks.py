"""``guanghe tasks``: the task center's assignment, run alone."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

from guanghe.cli.context import open_runtime

app = typer.Typer(help="The task center.", no_args_is_help=True)


@app.command("recommend")
def recommend(
    date: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Day to offer for.")],
) -> None:
    """Solve the day's task assignment under the slot limits and write its offers and the
    ``task_offers`` snapshot (as the cycle's tasks step does, without settling claims);
    print a JSON summary line."""
    import numpy as np

    from guanghe.pipelines.context import business_day_end
    from guanghe.pipelines.tasks_step import recommend_offers

    with open_runtime() as runtime:
        offers, model = recommend_offers(runtime, date.date(), business_day_end(date.date()))
    summary = {
        "date": date.date().isoformat(),
        "offers": len(offers),
        "creators": int(np.unique(offers.creator_id).shape[0]),
        "tasks": int(np.unique(offers.task_id).shape[0]),
        "value_fen": round(float(offers.value_fen.sum()), 2),
        "model": model,
    }
    typer.echo(json.dumps(summary))
