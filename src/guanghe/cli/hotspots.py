"""``guanghe hotspots``: the active hotspots, a detection run, and the event calendar as
iCalendar files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from guanghe.cli.context import open_runtime

if TYPE_CHECKING:
    from guanghe.access import Principal

app = typer.Typer(help="Hotspots and the event calendar.", no_args_is_help=True)
calendar = typer.Typer(help="The event calendar as iCalendar (.ics) files.", no_args_is_help=True)
app.add_typer(calendar, name="calendar")

#: The whole calendar: every day the platform's dates may take.
ALL_DAYS = (dt.date(2000, 1, 1), dt.date(2100, 12, 31))


@app.command("list")
def list_(
    vertical: Annotated[
        str | None, typer.Option(help="Only this vertical's hotspots (its name, e.g. food).")
    ] = None,
    ended: Annotated[
        bool, typer.Option("--ended", help="The hotspots that ended, most recent first.")
    ] = False,
) -> None:
    """The active hotspots, highest score first (``--ended``: those that ended, most recent
    first): one tab-separated line each."""
    from guanghe.hotspots import list_hotspots
    from guanghe.store import transaction

    with open_runtime() as runtime, transaction(runtime.sessions) as session:
        found = list_hotspots(session, _machine_operator(), vertical=vertical, ended=ended)
    for h in found:
        aliases = f" ({', '.join(h.aliases)})" if h.aliases else ""
        typer.echo(
            f"{h.id}\t{h.vertical}\t#{h.topic}{aliases}\t{h.state}\tscore {h.score:.1f}\t"
            f"lift {h.lift:.1f}\t{h.recent_works} works\tsince {h.onset_at:%Y-%m-%d %H:%M}"
        )
    if not found:
        typer.echo("no ended hotspots" if ended else "no active hotspots", err=True)


@app.command("detect")
def detect(
    date: Annotated[
        dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Business day to count and detect.")
    ],
) -> None:
    """Count the day's hourly topics and detect hotspots as of the day's end, as the cycle's
    hotspots step does (new hotspots notify their vertical's creators); print its counts."""
    from guanghe.pipelines import hotspots_step
    from guanghe.pipelines.context import CycleContext

    with open_runtime() as runtime:
        report = hotspots_step.run(CycleContext.for_date(runtime, date.date()))
    typer.echo(" ".join(f"{name}={value}" for name, value in report.counts.items()))


@calendar.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="An iCalendar (.ics) file of events.")],
) -> None:
    """Add or update (by UID) every event of an .ics file, or none if any is bad."""
    from guanghe.errors import InvalidInput
    from guanghe.hotspots import ImportRejected, import_ics

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from exc
    with open_runtime() as runtime:
        try:
            events = runtime.write(
                lambda s: import_ics(s, _machine_operator(), data, now=_utc_now())
            )
        except ImportRejected as exc:
            first = exc.problems[0]
            raise InvalidInput(
                f"{exc.detail} (VEVENT {first.vevent}"
                f"{f' {first.uid!r}' if first.uid else ''}: {first.error})"
            ) from exc
    typer.echo(f"imported {len(events)} events from {file}")


@calendar.command("export")
def export(
    out: Annotated[
        Path | None, typer.Option(help="Write the .ics here (default: standard output).")
    ] = None,
    vertical: Annotated[
        str | None, typer.Option(help="Only events for this vertical (and for all).")
    ] = None,
) -> None:
    """The calendar as an iCalendar document."""
    from guanghe.errors import InvalidInput
    from guanghe.hotspots import events_for_vertical, to_ics
    from guanghe.store import transaction

    with open_runtime() as runtime, transaction(runtime.sessions) as session:
        events = events_for_vertical(session, vertical, *ALL_DAYS)
    body = to_ics(events, name="Guanghe events", now=_utc_now())
    if out is None:
        typer.echo(body.decode("utf-8"), nl=False)
        return
    try:
        out.write_bytes(body)
    except OSError as exc:
        raise InvalidInput(f"cannot write {out}: {exc.strerror}") from exc
    typer.echo(f"wrote {len(events)} events to {out}", err=True)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _machine_operator() -> Principal:
    """Whoever runs the CLI on the deployment's machine acts as an operator."""
    from guanghe.access import Principal

    return Principal(user_id=0, role="operator", subject_id=None)
