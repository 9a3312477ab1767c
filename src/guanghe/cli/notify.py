"""``guanghe notify``: the notification delivery worker and the dead-letter list."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from guanghe.cli.context import open_runtime

if TYPE_CHECKING:
    from guanghe.access import Principal

app = typer.Typer(
    help="Notifications: deliver the outbox, inspect dead letters.", no_args_is_help=True
)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@app.command("run")
def run(
    relay: Annotated[
        bool, typer.Option(help="With a broker: claim due deliveries and publish them.")
    ] = True,
    consume: Annotated[
        bool, typer.Option(help="With a broker: consume published deliveries and send them.")
    ] = True,
) -> None:
    """Deliver notices until interrupted (SIGINT / SIGTERM): in process, or through RabbitMQ
    when GUANGHE_BROKER_URL is set (any number of these processes may run)."""
    from guanghe.errors import InvalidInput
    from guanghe.notifications import run_delivery, worker_setup

    if not (relay or consume):
        raise InvalidInput("--no-relay and --no-consume together leave nothing to do")
    with open_runtime() as runtime:
        setup = worker_setup(runtime.settings, runtime.engine, utc_now)
        mode = "in process" if setup.broker_url is None else "through the broker"

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            typer.echo(f"delivering notices {mode}", err=True)
            await run_delivery(setup, stop, relay=relay, consume=consume)

        asyncio.run(main())


@app.command("dead-letters")
def dead_letters(
    limit: Annotated[int, typer.Option(min=1, max=200, help="Most rows to show.")] = 50,
) -> None:
    """List deliveries that gave up, newest first."""
    from guanghe.notifications import list_dead_letters
    from guanghe.store import transaction

    with open_runtime() as runtime, transaction(runtime.sessions) as session:
        page = list_dead_letters(session, _machine_operator(), limit=limit)
    for d in page.items:
        typer.echo(
            f"notice {d.notice_id}\tdelivery {d.delivery_id}\tcreator {d.creator_id}\t"
            f"{d.channel}\t{d.attempts} attempts\t{d.last_error}"
        )


@app.command("replay")
def replay(notice_id: Annotated[int, typer.Argument(min=1, help="The dead notice's id.")]) -> None:
    """Send a dead notice's deliveries again from a fresh count of attempts."""
    from guanghe.notifications import replay_dead_letter

    with open_runtime() as runtime:
        ids = runtime.write(
            lambda s: replay_dead_letter(s, _machine_operator(), notice_id, now=utc_now())
        )
    typer.echo(f"replaying deliveries {', '.join(map(str, ids))} of notice {notice_id}")


def _machine_operator() -> Principal:
    """Whoever runs the CLI on the deployment's machine acts as an operator."""
    from guanghe.access import Principal

    return Principal(user_id=0, role="operator", subject_id=None)
