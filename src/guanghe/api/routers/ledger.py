"""``/v1/ledger``: accounts, their transfers, admin adjustments and reconciliation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from guanghe import ledger
from guanghe.access import Principal
from guanghe.api.fields import MAX_INT63, BodyId, IdPath, StorableText, StrictInt
from guanghe.bounds import FIRST_DAY, LAST_DAY, check_month
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime, require_role
from guanghe.runtime import Runtime

router = APIRouter(prefix="/v1/ledger", tags=["ledger"])

AccountId = IdPath
Operator = Annotated[Principal, require_role("operator")]


class AccountOut(BaseModel):
    id: int
    owner_kind: str
    owner_id: int
    purpose: str
    unit: str = Field(description="CNY (amounts in fen) or IMPRESSION")
    limit: str
    balance: int
    available: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


class TransferOut(BaseModel):
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
    business_day: dt.date = Field(description="The day the transfer is for")
    created_at: dt.datetime = Field(description="When the transfer was posted")


class AdjustmentIn(BaseModel):
    key: StorableText = Field(min_length=1, max_length=160, description="Idempotency key")
    debit_account_id: BodyId
    credit_account_id: BodyId
    amount: StrictInt = Field(gt=0, le=2**62, description="Fen or impressions")
    reason: StorableText = Field(min_length=3, max_length=1000)


class PostingOut(BaseModel):
    key: str
    status: str
    transfer_id: int | None


class DiscrepancyOut(BaseModel):
    rule: str
    detail: str


def _account_out(account: ledger.Account) -> AccountOut:
    return AccountOut(
        **{
            f: getattr(account, f)
            for f in AccountOut.model_fields
            if f not in ("balance", "available")
        },
        balance=account.balance,
        available=account.available,
    )


@router.get("/accounts")
def list_accounts(session: SessionDep, principal: PrincipalDep) -> list[AccountOut]:
    """Accounts the caller may read: an owner's own, or every account for operators."""
    owner = ledger.owner_filter(principal)
    accounts = ledger.list_accounts(
        session, owner_kind=owner[0] if owner else None, owner_id=owner[1] if owner else None
    )
    return [_account_out(a) for a in accounts]


@router.get("/accounts/{account_id}")
def get_account(session: SessionDep, principal: PrincipalDep, account_id: AccountId) -> AccountOut:
    """One account and its balances."""
    ledger.owner_filter(principal)  # a role without accounts: 403 before any look-up
    account = ledger.get_account(session, account_id)
    ledger.check_can_read(principal, account)
    return _account_out(account)


@router.get("/accounts/{account_id}/transfers")
def account_transfers(
    session: SessionDep,
    principal: PrincipalDep,
    account_id: AccountId,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_INT63)] = None,
    limit: Annotated[int, Query(ge=1, le=ledger.history.MAX_PAGE)] = 100,
) -> list[TransferOut]:
    """The account's transfers, newest first; page with ``before_id`` = the last id seen."""
    ledger.owner_filter(principal)  # a role without accounts: 403 before any look-up
    account = ledger.get_account(session, account_id)
    ledger.check_can_read(principal, account)
    views = ledger.account_transfers(session, account, before_id=before_id, limit=limit)
    return [TransferOut.model_validate(v, from_attributes=True) for v in views]


class StatementOut(BaseModel):
    account: AccountOut
    month: str = Field(description="YYYY-MM")
    opening_balance: int
    closing_balance: int
    lines: list[TransferOut]


@router.get("/accounts/{account_id}/statements/{month}", response_model=None)
def monthly_statement(
    session: SessionDep,
    principal: PrincipalDep,
    account_id: AccountId,
    month: Annotated[
        str,
        Path(
            pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
            description=f"YYYY-MM, from {FIRST_DAY:%Y-%m} to {LAST_DAY:%Y-%m}",
        ),
    ],
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> StatementOut | Response:
    """The account's statement for a month: opening and closing balance and every posted line.
    ``format=csv`` returns the lines as CSV."""
    ledger.owner_filter(principal)  # a role without accounts: 403 before any look-up
    account = ledger.get_account(session, account_id)
    ledger.check_can_read(principal, account)
    first_day = check_month(month, field="month")
    statement = ledger.monthly_statement(session, account, first_day)
    if format == "csv":
        return Response(
            ledger.statement_csv(statement),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="statement-{account_id}-{month}.csv"'
            },
        )
    return StatementOut(
        account=_account_out(statement.account),
        month=month,
        opening_balance=statement.opening_balance,
        closing_balance=statement.closing_balance,
        lines=[TransferOut.model_validate(v, from_attributes=True) for v in statement.lines],
    )


@router.post("/adjustments", status_code=201)
def post_adjustment(
    body: AdjustmentIn,
    principal: Operator,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    response: Response,
) -> PostingOut:
    """Move an amount between two accounts by hand; the caller and reason are recorded."""
    result = ledger.post_adjustment(
        runtime.engine,
        key=body.key,
        debit_account_id=body.debit_account_id,
        credit_account_id=body.credit_account_id,
        amount=body.amount,
        actor=f"user:{principal.user_id}",
        reason=body.reason,
        now=dt.datetime.now(dt.UTC),
    )
    if result.status is ledger.TransferStatus.EXISTS:
        response.status_code = 200
    return PostingOut(key=result.key, status=result.status, transfer_id=result.transfer_id)


@router.get("/reconciliation")
def reconciliation(session: SessionDep, principal: Operator) -> list[DiscrepancyOut]:
    """Every broken ledger invariant; an empty list when the books are right."""
    return [DiscrepancyOut(rule=d.rule, detail=d.detail) for d in ledger.reconcile(session)]
