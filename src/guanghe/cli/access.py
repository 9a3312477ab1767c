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
        int | None,
        typer.Option(
            help="The creator / institution / advertiser / merchant id the role acts for."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Who the token is for.")] = None,
) -> None:
    """Create a user with ROLE and print its new bearer token alone on the last line."""
    from guanghe.access import create_token

    now = dt.datetime.now(dt.UTC)
    label = name or (f"{role} {subject}" if subject is not None else role)
    with open_runtime() as runtime:
        principal, token = runtime.write(
            lambda session: create_token(
                session, role=role, subject_id=subject, name=label, now=now
            )
        )
        typer.echo(f"created {principal.role} token for user {principal.user_id}", err=True)
        typer.echo(token)


@app.command("list")
def list_(
    revoked: Annotated[bool, typer.Option(help="Include revoked tokens.")] = False,
) -> None:
    """List tokens (never the tokens themselves): id, role, subject, name, created, revoked."""
    from guanghe.access import MAX_TOKEN_PAGE, list_tokens
    from guanghe.store import transaction

    with open_runtime() as runtime:
        after_id = 0
        typer.echo("id\trole\tsubject\tname\tcreated_at\trevoked_at")
        while True:
            with transaction(runtime.sessions) as session:
                page = list_tokens(session, after_id=after_id)
            for view in page:
                if view.revoked_at is None or revoked:
                    subject = "" if view.subject_id is None else str(view.subject_id)
                    revoked_at = view.revoked_at.isoformat() if view.revoked_at else ""
                    typer.echo(
                        f"{view.id}\t{view.role}\t{subject}\t{view.name}\t"
                        f"{view.created_at.isoformat()}\t{revoked_at}"
                    )
            if len(page) < MAX_TOKEN_PAGE:
                return
            after_id = page[-1].id


@app.command("revoke")
def revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `token list`).")],
) -> None:
    """Revoke token TOKEN_ID: it stops working (on running servers within seconds)."""
    from guanghe.access import revoke_token

    now = dt.datetime.now(dt.UTC)
    with open_runtime() as runtime:
        view = runtime.write(lambda session: revoke_token(session, token_id, now=now))
    assert view.revoked_at is not None
    typer.echo(
        f"token {view.id} ({view.role} {view.name}) revoked at {view.revoked_at.isoformat()}"
    )
