"""Programmes in the store and their budgets in the ledger.

Each programme has a row (``incentive_programs``): the file's programmes are copied in by the
cycle (a file change is a new revision, unless an operator has put the programme through the
API since), operators' programmes are put there by the API. A programme's budget lives in two
ledger accounts with a debit limit (``program`` owner, its id; CNY and IMPRESSION), funded from
the platform's issuance accounts: every change of budget is one idempotent transfer of the
difference (a decrease returns what was not paid; a budget under what is already paid is a
:class:`~guanghe.errors.Conflict`). Rewards are transfers out of these accounts, so the limit
is what keeps a programme from ever paying more than its budget, even under concurrent
settlement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.creators import vertical_ids
from guanghe.errors import Conflict, NotFound
from guanghe.incentives.programmes import Programme, programme_from_json, programme_json
from guanghe.ledger import (
    AccountKey,
    TransferRequest,
    code_totals,
    find_accounts,
    open_accounts,
    post_transfers,
)
from guanghe.store import IncentiveProgram

FUNDING: Final = {
    "CNY": AccountKey("platform", 0, "incentive_funding", "CNY"),
    "IMPRESSION": AccountKey("platform", 0, "incentive_funding", "IMPRESSION"),
}
FUND_CODE: Final = "incentive_budget"
RETURN_CODE: Final = "incentive_budget_return"


@dataclass(frozen=True, slots=True)
class StoredProgramme:
    """A programme with its id, where it came from and its revision."""

    id: int
    programme: Programme
    origin: str
    revision: int
    updated_by: str
    updated_at: dt.datetime


def budget_account(program_id: int, unit: str) -> AccountKey:
    """The ledger account holding a programme's budget in ``unit`` (debits within credits)."""
    return AccountKey("program", program_id, "incentive_budget", unit, "debits")


def stored_programmes(session: Session) -> list[StoredProgramme]:
    """Every programme in the store, by name."""
    rows = session.scalars(select(IncentiveProgram).order_by(IncentiveProgram.name)).all()
    return [_stored(row) for row in rows]


def stored_programme(session: Session, name: str) -> StoredProgramme:
    """The programme called ``name``; :class:`NotFound` if there is none."""
    row = session.scalar(select(IncentiveProgram).where(IncentiveProgram.name == name))
    if row is None:
        raise NotFound(f"incentive programme {name!r} does not exist")
    return _stored(row)


def sync_programmes(
    session: Session, programmes: Sequence[Programme], *, now: dt.datetime
) -> list[StoredProgramme]:
    """Copy the file's ``programmes`` into the store (operators' API versions win) and fund
    every budget; returns every stored programme."""
    rows = {row.name: row for row in session.scalars(select(IncentiveProgram).with_for_update())}
    for programme in programmes:
        row = rows.get(programme.name)
        if row is not None and (row.origin == "api" or _same(row, programme)):
            continue
        _write(session, row, programme, origin="file", actor="programmes file", now=now)
    return [fund_programme(session, p, now=now) for p in stored_programmes(session)]


def put_programme(
    session: Session, programme: Programme, *, actor: str, now: dt.datetime
) -> StoredProgramme:
    """Create or replace a programme (an operator's), and fund its budget to match.

    Lock requirement: the programme's row is locked for the transaction, so concurrent puts of
    one name apply one after the other. :class:`InvalidInput` for an unknown vertical.
    """
    vertical_ids(session, programme.eligibility.verticals, field="eligibility.verticals")
    row = session.scalar(
        select(IncentiveProgram).where(IncentiveProgram.name == programme.name).with_for_update()
    )
    if row is None or not _same(row, programme) or row.origin != "api":
        row = _write(session, row, programme, origin="api", actor=actor, now=now)
    return fund_programme(session, _stored(row), now=now)


def fund_programme(
    session: Session, stored: StoredProgramme, *, now: dt.datetime
) -> StoredProgramme:
    """Bring the programme's budget accounts to its budget (one transfer per unit whose
    funding differs); :class:`Conflict` if the budget is under what was already paid."""
    budget = stored.programme.budget
    wanted = {"CNY": budget.cash_fen, "IMPRESSION": budget.impressions}
    keys = [budget_account(stored.id, unit) for unit in wanted] + list(FUNDING.values())
    ids = open_accounts(session, keys, now=now)
    requests = []
    for unit, amount in wanted.items():
        account_id = ids[budget_account(stored.id, unit)]
        funded = _funded(session, account_id)
        if amount == funded:
            continue
        tag = f"{stored.id}:r{stored.revision}:{unit}"
        up = amount > funded
        requests.append(
            TransferRequest(
                key=f"incentive-budget:{tag}",
                code=FUND_CODE if up else RETURN_CODE,
                debit_account_id=ids[FUNDING[unit]] if up else account_id,
                credit_account_id=account_id if up else ids[FUNDING[unit]],
                amount=abs(amount - funded),
                source=("incentive_budget", tag),
                memo=f"{stored.programme.name} budget revision {stored.revision}",
            )
        )
    for result in post_transfers(session, requests, linked=True, now=now):
        if not result.ok:
            raise Conflict(
                f"the budget of {stored.programme.name!r} cannot be set to "
                f"{wanted}: {result.status} (it is under what was already paid)"
            )
    return stored


def budget_used(session: Session, program_id: int) -> tuple[dict[str, int], dict[str, int]]:
    """What a programme's budget holds and what it has paid, per unit (``CNY``,
    ``IMPRESSION``)."""
    found = find_accounts(session, [budget_account(program_id, u) for u in FUNDING])
    funded, paid = dict.fromkeys(FUNDING, 0), dict.fromkeys(FUNDING, 0)
    for key, account in found.items():
        returned = code_totals(session, [RETURN_CODE], account_id=account.id, side="debit")
        funded[key.unit] = account.credits_posted - returned.get(RETURN_CODE, 0)
        paid[key.unit] = account.debits_posted - returned.get(RETURN_CODE, 0)
    return funded, paid


def _funded(session: Session, account_id: int) -> int:
    """What the budget account was funded with, net of returns."""
    credits = code_totals(session, [FUND_CODE], account_id=account_id, side="credit")
    returns = code_totals(session, [RETURN_CODE], account_id=account_id, side="debit")
    return credits.get(FUND_CODE, 0) - returns.get(RETURN_CODE, 0)


def _same(row: IncentiveProgram, programme: Programme) -> bool:
    return row.spec == programme_json(programme)


def _write(
    session: Session,
    row: IncentiveProgram | None,
    programme: Programme,
    *,
    origin: str,
    actor: str,
    now: dt.datetime,
) -> IncentiveProgram:
    if row is None:
        row = IncentiveProgram(name=programme.name, revision=0)
        session.add(row)
    row.spec, row.origin, row.revision = programme_json(programme), origin, row.revision + 1
    row.updated_by, row.updated_at = actor, now
    session.flush()
    return row


def _stored(row: IncentiveProgram) -> StoredProgramme:
    programme = programme_from_json(row.spec, f"incentive programme {row.name!r}")
    return StoredProgramme(
        row.id, programme, row.origin, row.revision, row.updated_by, row.updated_at
    )
