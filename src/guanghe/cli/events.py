"""``guanghe ingest``: behaviour events into the event log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from guanghe.cli.context import open_runtime


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)


def ingest(
    path: Annotated[Path, typer.Argument(help="A .csv, .jsonl / .ndjson or .parquet file.")],
    report: Annotated[
        Path | None,
        typer.Option(help="Where to write the rejection report (default: under the data dir)."),
    ] = None,
) -> None:
    """Validate PATH and append its new events; a file with any bad row changes nothing."""
    from guanghe.creators import StoreReferents
    from guanghe.events import ingest_file

    with open_runtime() as runtime:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        report_path = report or runtime.settings.reports_dir / f"{path.stem}.rejected.{stamp}.csv"
        with runtime.sessions() as session:
            result = ingest_file(runtime.event_log, path, StoreReferents(session), report_path)
        typer.echo(
            f"{path.name}: {result.rows} rows, {result.added} added, "
            f"{result.already_logged} already in the log"
        )
