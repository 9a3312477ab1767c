"""The ``guanghe`` command: wiring of the sub-commands and the one place errors become exits."""

from __future__ import annotations

import sys

import typer

from guanghe import errors
from guanghe.cli import (
    access,
    events,
    hotspots,
    ledger,
    notify,
    originality,
    platform,
    report,
    sim,
    tasks,
    traffic,
)

EXIT_CODES: dict[type[errors.GuangheError], int] = {
    errors.InvalidInput: 2,
    errors.NotFound: 3,
    errors.Conflict: 4,
    errors.Unauthenticated: 5,
    errors.Forbidden: 5,
    errors.TooManyRequests: 7,
    errors.Unavailable: 6,
}

app = typer.Typer(
    name="guanghe",
    help="Guanghe: creator growth and monetization engine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
platform.register(app)
events.register(app)
report.register(app)
app.add_typer(sim.app, name="sim")
app.add_typer(access.app, name="token")
app.add_typer(ledger.app, name="ledger")
app.add_typer(traffic.app, name="traffic")
app.add_typer(originality.app, name="originality")
app.add_typer(tasks.app, name="tasks")
app.add_typer(notify.app, name="notify")
app.add_typer(hotspots.app, name="hotspots")


def exit_code(exc: errors.GuangheError) -> int:
    for kind in type(exc).__mro__:
        if kind in EXIT_CODES:
            return EXIT_CODES[kind]
    return 1


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; usage errors exit 2 (Typer), Guanghe errors print one line on stderr and
    exit with the code of their kind."""
    try:
        app(args=argv, prog_name="guanghe")
    except errors.GuangheError as exc:
        print(f"guanghe: error: {exc.detail}", file=sys.stderr)
        sys.exit(exit_code(exc))
    except Exception as exc:
        from sqlalchemy.exc import OperationalError

        if not isinstance(exc, OperationalError):
            raise
        print(f"guanghe: error: the database is unreachable: {exc.orig}", file=sys.stderr)
        sys.exit(EXIT_CODES[errors.Unavailable])
