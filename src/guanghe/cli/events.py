"""``guanghe ingest``: behaviour events into the event log; ``guanghe events``: its quarantine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from guanghe.cli.context import open_runtime
from guanghe.cli.progress import step_progress

events_app = typer.Typer(help="The behaviour-event log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.add_typer(events_app, name="events")


def ingest(
    path: Annotated[Path, typer.Argument(help="A .csv, .jsonl / .ndjson or .parquet file.")],
    report: Annotated[
        Path | None,
        typer.Option(help="Where to write the rejection report (default: under the data dir)."),
    ] = None,
) -> None:
    """Validate PATH and append its new events; a file with any bad row changes nothing.
    Progress is drawn on stderr; the summary line goes to stdout."""
    from guanghe import hotspots
    from guanghe.creators import StoreReferents
    from guanghe.events import ingest_file

    with open_runtime() as runtime:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        report_path = report or runtime.settings.reports_dir / f"{path.stem}.rejected.{stamp}.csv"
        with (
            runtime.sessions() as session,
            step_progress(f"ingest {path.name}", transient=True) as progress,
        ):
            result = ingest_file(
                runtime.event_log, path, StoreReferents(session), report_path, progress
            )
        typer.echo(
            f"{path.name}: {result.rows} rows, {result.added} added, "
            f"{result.already_logged} already in the log"
        )
        # The hotspots' incremental hook: recount the hours the batch touched, then detect
        # as of the end of its latest hour unless a later detection already ran.
        log = runtime.event_log
        counted = runtime.write(lambda s: hotspots.recount_after_ingest(s, log, result.appended))
        if counted.hours:
            found = runtime.write(lambda s: hotspots.detect_after_ingest(s, log, result.appended))
            typer.echo(
                f"hotspots: {counted.hours} hours recounted, "
                f"{found.active if found else 0} active hotspots"
            )


@events_app.command("quarantine")
def quarantine(
    event_ids: Annotated[list[str], typer.Argument(help="The logged events to take out of use.")],
    reason: Annotated[str, typer.Option(help="Why; kept with the tombstone.")],
    actor: Annotated[str, typer.Option(help="Who quarantines them.")],
    escaped: Annotated[
        bool,
        typer.Option(help=r"Read backslash escapes in EVENT_IDS (\x00, \ud800), as listed."),
    ] = False,
) -> None:
    """Quarantine logged events: the cycle no longer counts or settles them (append-only)."""
    from guanghe.events import quarantine_events

    ids = [_unescaped(e) for e in event_ids] if escaped else event_ids
    with open_runtime() as runtime:
        now = dt.datetime.now(dt.UTC)
        result = quarantine_events(runtime.event_log, ids, reason=reason, by=actor, at=now)
    for stone in result.added:
        typer.echo(f"quarantined {_shown(stone.event_id)}")
    for stone in result.already:
        typer.echo(
            f"{_shown(stone.event_id)} already quarantined "
            f"{stone.quarantined_at:%Y-%m-%dT%H:%M:%SZ} by {stone.quarantined_by}"
        )


@events_app.command("quarantined")
def quarantined() -> None:
    """List the quarantined events: id (escaped), when, by whom, why; oldest first."""
    from guanghe.events import tombstones

    with open_runtime() as runtime:
        stones = tombstones(runtime.event_log)
    for stone in stones:
        typer.echo(
            f"{_shown(stone.event_id)}\t{stone.quarantined_at:%Y-%m-%dT%H:%M:%SZ}\t"
            f"{stone.quarantined_by}\t{stone.reason}"
        )
    typer.echo(f"{len(stones)} quarantined events", err=True)


def _shown(event_id: str) -> str:
    """``event_id`` with backslash escapes for what a terminal cannot show (NUL, controls)."""
    return (
        event_id.encode("unicode_escape").decode("ascii")
        if not event_id.isprintable()
        else event_id
    )


def _unescaped(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")
