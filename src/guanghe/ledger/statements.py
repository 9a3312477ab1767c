"""Monthly statements of an account, and payout batches that empty earnings to the bank
(first repaying what the owner owes back: see :func:`pay_out`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, case, func, or_, select
from sqlalchemy.orm import Session

from guanghe.errors import InvalidInput
from guanghe.ledger.accounts import (
    Account,
    AccountKey,
    account_from_row,
    open_accounts,
    select_accounts,
)
from guanghe.ledger.history import TransferView, account_transfers_for_days
from guanghe.ledger.transfers import TransferRequest, TransferStatus, post_transfers
from guanghe.notifications import NoticeDraft, notify_many
from guanghe.store import Creator, LedgerAccount, LedgerTransfer, write_transaction

PAYOUTS = AccountKey("platform", 0, "payouts", "CNY")
_POSTED = ("posted", "post_pending")
PAYOUTS_PER_CHUNK = 2_000
#: The code of a transfer repaying what an owner owes (their ``clawback`` account) out of
#: earnings about to be paid out.
RECOVERY_CODE = "clawback_recovery"


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


@dataclass(frozen=True, slots=True)
class RefusedPayout:
    """A payout the ledger refused: nothing moved; ``reason`` is the ledger's status."""

    owner_kind: str
    owner_id: int
    account_id: int
    amount_fen: int
    key: str
    reason: str


@dataclass(frozen=True, slots=True)
class PayoutBatch:
    """A day's payouts (what the bank file pays), the ones the ledger refused, and what was
    kept back from earnings to repay what their owners owed (``recovered``)."""

    payouts: tuple[Payout, ...]
    refused: tuple[RefusedPayout, ...]
    recovered: tuple[Payout, ...] = ()


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


def pay_out(
    engine: Engine,
    day: dt.date,
    *,
    minimum_fen: int,
    now: dt.datetime,
    progress: Callable[[int, int], None] | None = None,
) -> PayoutBatch:
    """Move every creator's, institution's and agent's available earnings of at least
    ``minimum_fen`` to the platform's payouts account, once per account and day; returns the
    batch (the same batch again when run again for ``day``) and every payout the ledger
    refused, with why. What an owner owes back (a commission reversal their earnings could
    not cover, in their ``clawback`` account) is repaid from those earnings first, and only
    the rest is paid out.

    Lock requirement: the earnings accounts are locked (``FOR UPDATE``; SQLite's one writer)
    before their balances are read, and paid in that same transaction, so no transfer can
    move an amount between the read and the payout. ``progress(done, total)`` follows the
    posting.
    """
    if minimum_fen < 1:
        raise InvalidInput("the minimum payout is at least 1 fen")
    target = write_transaction(engine, lambda s: open_accounts(s, [PAYOUTS], now=now))[PAYOUTS]
    return write_transaction(
        engine,
        lambda s: _pay_out(s, day, target, minimum_fen=minimum_fen, now=now, progress=progress),
    )


def _pay_out(
    session: Session,
    day: dt.date,
    target: int,
    *,
    minimum_fen: int,
    now: dt.datetime,
    progress: Callable[[int, int], None] | None,
) -> PayoutBatch:
    batch = f"payout:{day.isoformat()}"
    accounts, owed = _lock_earnings(session, target)
    done = session.scalars(select(LedgerTransfer).where(LedgerTransfer.batch == batch)).all()
    paid = {t.debit_account_id for t in done if t.code == "payout"}
    repaid = {t.debit_account_id for t in done if t.code == RECOVERY_CODE}
    requests = []
    for a in accounts.values():
        if a.id in paid:
            continue
        source = ("payout", f"{day.isoformat()}:{a.id}")
        clawback_id, due = owed.get(a.id, (0, 0))
        repay = 0 if a.id in repaid else min(a.available, due)
        if repay > 0:
            requests.append(
                TransferRequest(
                    f"{batch}:{a.id}:recovery",
                    RECOVERY_CODE,
                    debit_account_id=a.id,
                    credit_account_id=clawback_id,
                    amount=repay,
                    source=source,
                )
            )
        if a.available - repay >= minimum_fen:
            requests.append(
                TransferRequest(
                    f"{batch}:{a.id}",
                    "payout",
                    debit_account_id=a.id,
                    credit_account_id=target,
                    amount=a.available - repay,
                    source=source,
                )
            )

    def line(t: LedgerTransfer) -> Payout:
        owner = accounts[t.debit_account_id]
        return Payout(owner.owner_kind, owner.owner_id, owner.id, t.amount, t.key, t.id)

    payouts = [line(t) for t in done if t.code == "payout"]
    recovered = [line(t) for t in done if t.code == RECOVERY_CODE]
    done_keys = {t.key for t in done}
    refused = []
    for start in range(0, len(requests), PAYOUTS_PER_CHUNK):
        if progress is not None:
            progress(start, len(requests))
        chunk = requests[start : start + PAYOUTS_PER_CHUNK]
        for request, result in zip(
            chunk,
            post_transfers(session, chunk, batch=batch, business_day=day, now=now),
            strict=True,
        ):
            account = accounts[request.debit_account_id or 0]
            amount = request.amount or 0
            if result.status is TransferStatus.CREATED:
                (recovered if request.code == RECOVERY_CODE else payouts).append(
                    Payout(
                        account.owner_kind,
                        account.owner_id,
                        account.id,
                        amount,
                        request.key,
                        result.transfer_id,
                    )
                )
            else:
                refused.append(
                    RefusedPayout(
                        account.owner_kind,
                        account.owner_id,
                        account.id,
                        amount,
                        request.key,
                        result.status,
                    )
                )
    if progress is not None:
        progress(len(requests), len(requests))
    _notify_paid(session, day, [p for p in payouts if p.key not in done_keys], now=now)
    return PayoutBatch(
        tuple(sorted(payouts, key=lambda p: p.account_id)),
        tuple(sorted(refused, key=lambda p: p.account_id)),
        tuple(sorted(recovered, key=lambda p: p.account_id)),
    )


def _notify_paid(
    session: Session, day: dt.date, payouts: list[Payout], *, now: dt.datetime
) -> None:
    """Tell each creator paid now, in the payout's transaction (institutions and agents have
    no inbox; an earnings account whose creator is not registered has nobody to tell)."""
    paid_creators = [p.owner_id for p in payouts if p.owner_kind == "creator"]
    registered = set(
        session.scalars(select(Creator.id).where(Creator.id.in_(paid_creators)))
        if paid_creators
        else ()
    )
    notify_many(
        session,
        [
            NoticeDraft(
                p.owner_id,
                "payout",
                f"Payout of {p.amount_fen / 100:.2f} CNY for {day.isoformat()}",
                f"{p.amount_fen / 100:.2f} CNY of your earnings were paid out "
                f"(transfer {p.transfer_id}).",
                dedupe_key=p.key,
                data={
                    "amount_fen": p.amount_fen,
                    "day": day.isoformat(),
                    "transfer_id": p.transfer_id,
                },
            )
            for p in payouts
            if p.owner_kind == "creator" and p.owner_id in registered
        ],
        now=now,
    )


def _lock_earnings(
    session: Session, target: int
) -> tuple[dict[int, Account], dict[int, tuple[int, int]]]:
    """The creators', institutions' and agents' CNY earnings accounts by id, and what the
    owner of each owes (its ``clawback`` account's id and the amount still to repay), all
    locked with the payouts account ``target`` in id order (the order transfers lock
    accounts in)."""
    a = LedgerAccount
    owners = a.owner_kind.in_(("creator", "institution", "agent")) & (a.unit == "CNY")
    rows = session.execute(
        select_accounts()
        .where((owners & a.purpose.in_(("earnings", "clawback"))) | (a.id == target))
        .order_by(a.id)
        .with_for_update()
    )
    locked = [account for row in rows if (account := account_from_row(row)).id != target]
    earnings = {x.id: x for x in locked if x.purpose == "earnings"}
    owing = {
        (x.owner_kind, x.owner_id): (x.id, x.debits_posted - x.credits_posted - x.credits_pending)
        for x in locked
        if x.purpose == "clawback"
    }
    owed = {
        x.id: owing[x.owner_kind, x.owner_id]
        for x in earnings.values()
        if owing.get((x.owner_kind, x.owner_id), (0, 0))[1] > 0
    }
    return earnings, owed


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


def payouts_csv(payouts: Sequence[Payout]) -> str:
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
