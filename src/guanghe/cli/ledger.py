"""``guanghe ledger``: reconciliation and admin adjustments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from guanghe.cli.context import open_runtime
from guanghe.cli.progress import step_progress

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


@app.command("statement")
def statement(
    account: Annotated[int, typer.Option(min=1, help="Ledger account id.")],
    month: Annotated[str, typer.Option(help="Month, YYYY-MM.")],
    out: Annotated[Path | None, typer.Option(help="Write the CSV here (default: stdout).")] = None,
) -> None:
    """An account's monthly statement as CSV."""
    from guanghe.ledger import get_account, monthly_statement, parse_month, statement_csv

    with open_runtime() as runtime, runtime.sessions() as session:
        found = monthly_statement(session, get_account(session, account), parse_month(month))
    text = statement_csv(found)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        typer.echo(
            f"statement of account {account} for {month}: {len(found.lines)} lines, "
            f"closing balance {found.closing_balance} fen -> {out}"
        )


@app.command("payout")
def payout(
    date: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Payout day.")],
    out: Annotated[Path, typer.Option(help="Where to write the payout batch (CSV).")],
    minimum_fen: Annotated[int, typer.Option(min=1, help="Smallest payout.")] = 1_000,
) -> None:
    """Pay out available earnings of creators and institutions; writes the batch file.
    What an owner owes back is repaid from their earnings first. Running it again for the
    same day writes the same batch and pays nothing twice. Payouts the ledger refused are
    listed with why, and the exit is 1."""
    from guanghe.ledger import pay_out, payouts_csv

    with open_runtime() as runtime, step_progress("payout") as progress:
        batch = pay_out(
            runtime.engine,
            date.date(),
            minimum_fen=minimum_fen,
            now=dt.datetime.now(dt.UTC),
            progress=lambda done, total: progress("posting", done, total),
        )
    out.write_text(payouts_csv(batch.payouts))
    total = sum(p.amount_fen for p in batch.payouts)
    typer.echo(f"payout {date.date()}: {len(batch.payouts)} payees, {total} fen -> {out}")
    if batch.recovered:
        kept = sum(r.amount_fen for r in batch.recovered)
        typer.echo(
            f"kept back {kept} fen from {len(batch.recovered)} accounts to repay what their "
            "owners owed (commission reversals their earnings could not cover)"
        )
    for r in batch.refused:
        typer.echo(
            f"not paid: {r.owner_kind} {r.owner_id} (account {r.account_id}), {r.amount_fen} fen: "
            f"refused by the ledger: {r.reason.replace('_', ' ')}",
            err=True,
        )
    if batch.refused:
        typer.echo(f"{len(batch.refused)} payouts not paid", err=True)
        raise typer.Exit(1)
