"""``guanghe ledger``: reconciliation and admin adjustments."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from guanghe.cli.context import open_runtime

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)


@app.command("reconcile")
def reconcile() -> None:
    """Check every ledger invariant; print what is off and exit 1 if anything is."""
    from guanghe.ledger import reconcile as find_discrepancies

    with open_runtime() as runtime, runtime.sessions() as session:
        found = find_discrepancies(session)
    for discrepancy in found:
        typer.echo(f"{discrepancy.rule}: {discrepancy.detail}")
    if found:
        typer.echo(f"{len(found)} discrepancies", err=True)
        raise typer.Exit(1)
    typer.echo("ledger reconciles: every invariant holds")


@app.command("adjust")
def adjust(
    key: Annotated[str, typer.Option(help="Idempotency key of the adjustment.")],
    debit: Annotated[int, typer.Option(min=1, help="Account to debit.")],
    credit: Annotated[int, typer.Option(min=1, help="Account to credit.")],
    amount: Annotated[int, typer.Option(min=1, help="Fen or impressions.")],
    actor: Annotated[str, typer.Option(help="Who makes the adjustment.")],
    reason: Annotated[str, typer.Option(help="Why; kept with the transfer.")],
) -> None:
    """Post an admin adjustment between two accounts of the same unit."""
    from guanghe.ledger import post_adjustment

    with open_runtime() as runtime:
        result = post_adjustment(
            runtime.engine,
            key=key,
            debit_account_id=debit,
            credit_account_id=credit,
            amount=amount,
            actor=actor,
            reason=reason,
            now=dt.datetime.now(dt.UTC),
        )
    typer.echo(f"adjustment {result.key}: {result.status} (transfer {result.transfer_id})")
