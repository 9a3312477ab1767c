"""Reading the ledger: an account's transfers, newest first, and who may read which account."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden, InvalidInput
from guanghe.ledger.accounts import Account
from guanghe.store import LedgerTransfer

#: Roles that own ledger accounts of the same name, acting for their subject.
_OWNING_ROLES = ("creator", "institution", "advertiser", "merchant")
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class TransferView:
    """One transfer as seen from an account: ``direction`` is ``debit`` or ``credit``."""

    id: int
    key: str
    kind: str
    code: str
    direction: str
    amount: int
    unit: str
    counterparty_account_id: int
    pending_id: int | None
    reversal_of: int | None
    source_kind: str | None
    source_id: str | None
    actor: str | None
    memo: str
    business_day: dt.date  # the day the transfer is for
    created_at: dt.datetime  # when it was posted


def check_can_read(principal: Principal, account: Account) -> None:
    """Operators read every account; owners read their own (an agent, whose subject is its
    institution, the accounts of its user); anyone else is refused."""
    if principal.role == "operator":
        return
    if principal.role == "agent" and (account.owner_kind, account.owner_id) == (
        "agent",
        principal.user_id,
    ):
        return
    if principal.role in _OWNING_ROLES and (account.owner_kind, account.owner_id) == (
        principal.role,
        principal.subject_id,
    ):
        return
    raise Forbidden(f"ledger account {account.id} is not visible to this {principal.role} token")


def owner_filter(principal: Principal) -> tuple[str, int] | None:
    """The (owner kind, owner id) a principal's account listings are limited to; None: all."""
    if principal.role == "operator":
        return None
    if principal.role == "agent":
        return "agent", principal.user_id
    if principal.role in _OWNING_ROLES and principal.subject_id is not None:
        return principal.role, principal.subject_id
    raise Forbidden(f"the {principal.role} role has no ledger accounts")


def account_transfers(
    session: Session, account: Account, *, before_id: int | None = None, limit: int = 100
) -> list[TransferView]:
    """Transfers that debit or credit ``account``, newest first, ``limit`` at a time."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    t = LedgerTransfer
    query = (
        select(t)
        .where(or_(t.debit_account_id == account.id, t.credit_account_id == account.id))
        .order_by(t.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(t.id < before_id)
    return [_view(row, account.id) for row in session.scalars(query)]


def account_transfers_for_days(
    session: Session, account: Account, first: dt.date, end: dt.date
) -> list[TransferView]:
    """Transfers of ``account`` for the business days ``[first, end)``, by day, then in
    posting order."""
    t = LedgerTransfer
    query = (
        select(t)
        .where(
            or_(t.debit_account_id == account.id, t.credit_account_id == account.id),
            t.business_day >= first,
            t.business_day < end,
        )
        .order_by(t.business_day, t.id)
    )
    return [_view(row, account.id) for row in session.scalars(query)]


def _view(row: LedgerTransfer, account_id: int) -> TransferView:
    debit = row.debit_account_id == account_id
    return TransferView(
        id=row.id,
        key=row.key,
        kind=row.kind,
        code=row.code,
        direction="debit" if debit else "credit",
        amount=row.amount,
        unit=row.unit,
        counterparty_account_id=row.credit_account_id if debit else row.debit_account_id,
        pending_id=row.pending_id,
        reversal_of=row.reversal_of,
        source_kind=row.source_kind,
        source_id=row.source_id,
        actor=row.actor,
        memo=row.memo,
        business_day=row.business_day,
        created_at=row.created_at,
    )
