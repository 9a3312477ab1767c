"""``guanghe token``: API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from guanghe.cli.context import open_runtime
from guanghe.vocabulary import ROLES

app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


@app.command("create")
def create(
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    subject: Annotated[
        int | None, typer.Option(help="The creator / institution / … id the role acts for.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Who the token is for.")] = None,
) -> None:
    """Create a user with ROLE and print its new bearer token alone on the last line."""
    from guanghe.access import create_token
    from guanghe.store import transaction

    with open_runtime() as runtime:
        with transaction(runtime.sessions) as session:
            principal, token = create_token(
                session,
                role=role,
                subject_id=subject,
                name=name or (f"{role} {subject}" if subject is not None else role),
                now=dt.datetime.now(dt.UTC),
            )
        typer.echo(f"created {principal.role} token for user {principal.user_id}", err=True)
        typer.echo(token)
