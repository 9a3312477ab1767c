"""Monthly statements of an account, and payout batches that empty earnings to the bank."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import Engine, case, func, or_, select
from sqlalchemy.orm import Session

from guanghe.errors import InvalidInput
from guanghe.ledger.accounts import Account, AccountKey, list_accounts, open_accounts
from guanghe.ledger.history import TransferView, account_transfers_for_days
from guanghe.ledger.posting import post_batch
from guanghe.ledger.transfers import TransferRequest, TransferStatus
from guanghe.store import LedgerTransfer, write_transaction

PAYOUTS = AccountKey("platform", 0, "payouts", "CNY")
_POSTED = ("posted", "post_pending")


@dataclass(frozen=True, slots=True)
class Statement:
    """An account's month of business days: the balance before its first day, every posted
    line for one of its days (a day settled after the month ended included), the balance
    after its last day."""

    account: Account
    month: dt.date  # the first day of the month
    opening_balance: int
    closing_balance: int
    lines: tuple[TransferView, ...]


@dataclass(frozen=True, slots=True)
class Payout:
    owner_kind: str
    owner_id: int
    account_id: int
    amount_fen: int
    key: str
    transfer_id: int | None


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` as the first day of that month; :class:`InvalidInput` otherwise."""
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise InvalidInput(f"month must look like 2026-11, got {text!r}") from exc


def monthly_statement(session: Session, account: Account, month: dt.date) -> Statement:
    """The statement of ``account`` for the month starting ``month``: the transfers for its
    business days, whenever they were posted."""
    first, end = month.replace(day=1), _next_month(month)
    opening = _balance_before(session, account.id, first)
    lines = [
        v for v in account_transfers_for_days(session, account, first, end) if v.kind in _POSTED
    ]
    movement = sum(v.amount if v.direction == "credit" else -v.amount for v in lines)
    return Statement(account, month.replace(day=1), opening, opening + movement, tuple(lines))


def pay_out(engine: Engine, day: dt.date, *, minimum_fen: int, now: dt.datetime) -> list[Payout]:
    """Move every creator's and institution's available earnings of at least ``minimum_fen``
    to the platform's payouts account, once per account and day; returns the batch (the
    same batch again when run again for ``day``)."""
    if minimum_fen < 1:
        raise InvalidInput("the minimum payout is at least 1 fen")
    batch = f"payout:{day.isoformat()}"
    target = write_transaction(engine, lambda s: open_accounts(s, [PAYOUTS], now=now))[PAYOUTS]
    with Session(engine) as session:
        done = {
            t.debit_account_id: t
            for t in session.scalars(select(LedgerTransfer).where(LedgerTransfer.batch == batch))
        }
        accounts = [
            a
            for a in list_accounts(session)
            if a.owner_kind in ("creator", "institution")
            and a.purpose == "earnings"
            and a.unit == "CNY"
        ]
    requests = [
        TransferRequest(
            f"{batch}:{a.id}",
            "payout",
            debit_account_id=a.id,
            credit_account_id=target,
            amount=a.available,
            source=("payout", f"{day.isoformat()}:{a.id}"),
        )
        for a in accounts
        if a.id not in done and a.available >= minimum_fen
    ]
    results = post_batch(engine, requests, batch=batch, now=now) if requests else []
    by_id = {a.id: a for a in accounts}
    payouts = [
        Payout(
            by_id[t.debit_account_id].owner_kind,
            by_id[t.debit_account_id].owner_id,
            t.debit_account_id,
            t.amount,
            t.key,
            t.id,
        )
        for t in done.values()
    ]
    payouts += [
        Payout(
            by_id[r.debit_account_id or 0].owner_kind,
            by_id[r.debit_account_id or 0].owner_id,
            r.debit_account_id or 0,
            r.amount or 0,
            r.key,
            result.transfer_id,
        )
        for r, result in zip(requests, results, strict=True)
        if result.status is TransferStatus.CREATED
    ]
    return sorted(payouts, key=lambda p: p.account_id)


STATEMENT_COLUMNS = (
    "business_day",
    "posted_at",
    "transfer_id",
    "code",
    "direction",
    "amount_fen",
    "balance_fen",
    "counterparty_account_id",
    "source",
    "memo",
)


def statement_csv(statement: Statement) -> str:
    """The statement as CSV: an opening line, one line per transfer with the running balance,
    and a closing line."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(STATEMENT_COLUMNS)
    balance = statement.opening_balance
    writer.writerow(
        [statement.month.isoformat(), "", "", "opening_balance", "", "", balance, "", "", ""]
    )
    for line in statement.lines:
        balance += line.amount if line.direction == "credit" else -line.amount
        source = f"{line.source_kind}:{line.source_id}" if line.source_kind else ""
        writer.writerow(
            [
                line.business_day.isoformat(),
                line.created_at.isoformat(),
                line.id,
                line.code,
                line.direction,
                line.amount,
                balance,
                line.counterparty_account_id,
                source,
                line.memo,
            ]
        )
    writer.writerow(
        [
            _next_month(statement.month).isoformat(),
            "",
            "",
            "closing_balance",
            "",
            "",
            statement.closing_balance,
            "",
            "",
            "",
        ]
    )
    return out.getvalue()


def payouts_csv(payouts: list[Payout]) -> str:
    """A payout batch as the file the bank transfer run takes."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("owner_kind", "owner_id", "account_id", "amount_fen", "transfer_id", "key"))
    for p in payouts:
        writer.writerow(
            (p.owner_kind, p.owner_id, p.account_id, p.amount_fen, p.transfer_id, p.key)
        )
    return out.getvalue()


def _balance_before(session: Session, account_id: int, day: dt.date) -> int:
    """The account's balance from the posted transfers for business days before ``day``."""
    t = LedgerTransfer
    signed = case((t.credit_account_id == account_id, t.amount), else_=-t.amount)
    total = session.execute(
        select(func.coalesce(func.sum(signed), 0)).where(
            or_(t.debit_account_id == account_id, t.credit_account_id == account_id),
            t.kind.in_(_POSTED),
            t.business_day < day,
        )
    ).scalar_one()
    return int(total)


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
