"""Figures other capabilities read from the ledger: sums of transfers by code, totals of
accounts by purpose, which source events are paid and which keys are taken.

Other capabilities read the ledger's tables only through these functions and those of
:mod:`guanghe.ledger.accounts`; sums are of posted amounts as transfers record them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from guanghe.store import LedgerAccount, LedgerTransfer, member_of

Side = Literal["debit", "credit"]


@dataclass(frozen=True, slots=True)
class PurposeTotals:
    """The summed totals of every account of one owner kind and purpose."""

    accounts: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


def _side(side: Side) -> InstrumentedAttribute[int]:
    t = LedgerTransfer
    return t.debit_account_id if side == "debit" else t.credit_account_id


def code_totals(
    session: Session,
    codes: Collection[str],
    *,
    account_id: int | None = None,
    side: Side = "credit",
    days: tuple[dt.date, dt.date] | None = None,
) -> dict[str, int]:
    """The amount moved under each of ``codes`` (codes never used are absent): over the whole
    ledger, or only the transfers on ``side`` of ``account_id``; with ``days``, only the
    transfers for business days from the first to the second (inclusive)."""
    t = LedgerTransfer
    query = select(t.code, func.sum(t.amount)).where(t.code.in_(sorted(codes))).group_by(t.code)
    if days is not None:
        query = query.where(t.business_day.between(*days))
    if account_id is not None:
        query = query.where(_side(side) == account_id)
    return {str(code): int(amount) for code, amount in session.execute(query)}


def code_totals_by_account(
    session: Session, code: str, account_ids: Sequence[int], *, side: Side
) -> dict[int, int]:
    """The amount moved under ``code`` on ``side`` of each of ``account_ids`` (absent: none)."""
    if not account_ids:
        return {}
    column = _side(side)
    t = LedgerTransfer
    rows = session.execute(
        select(column, func.sum(t.amount))
        .where(t.code == code, column.in_(sorted(set(account_ids))))
        .group_by(column)
    )
    return {int(account): int(amount) for account, amount in rows}


def purpose_totals(session: Session, *, owner_kind: str, purpose: str) -> PurposeTotals:
    """The totals of every ``owner_kind`` account of ``purpose``, summed."""
    a = LedgerAccount
    count, dp, dq, cp, cq = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(a.debits_pending), 0),
            func.coalesce(func.sum(a.debits_posted), 0),
            func.coalesce(func.sum(a.credits_pending), 0),
            func.coalesce(func.sum(a.credits_posted), 0),
        ).where(a.owner_kind == owner_kind, a.purpose == purpose)
    ).one()
    return PurposeTotals(int(count), int(dp), int(dq), int(cp), int(cq))


def top_owner(
    session: Session, owner_kind: str, codes: Collection[str], *, side: Side
) -> int | None:
    """The ``owner_kind`` whose accounts moved most under ``codes`` on ``side`` (the lowest id
    among equals), or None if none did."""
    t, a = LedgerTransfer, LedgerAccount
    return session.execute(
        select(a.owner_id)
        .join(t, _side(side) == a.id)
        .where(a.owner_kind == owner_kind, t.code.in_(sorted(codes)))
        .group_by(a.owner_id)
        .order_by(func.sum(t.amount).desc(), a.owner_id)
        .limit(1)
    ).scalar_one_or_none()


def paid_sources(
    session: Session, source_kind: str, *, code: str | None = None, id_prefix: str = ""
) -> set[str]:
    """Ids of the ``source_kind`` source events some transfer (of ``code``, if given) pays,
    limited to ids starting with ``id_prefix``."""
    t = LedgerTransfer
    query = select(t.source_id).where(t.source_kind == source_kind)
    if code is not None:
        query = query.where(t.code == code)
    if id_prefix:
        escaped = id_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(t.source_id.like(f"{escaped}%", escape="\\"))
        if session.get_bind().dialect.name == "sqlite" and id_prefix[-1] < chr(0x10FFFF):
            # SQLite's LIKE never reads an index; under its binary order the ids starting
            # with the prefix are exactly those in this range, which the source's index reads.
            # (Elsewhere the collation's order need not be the code points'.)
            after = id_prefix[:-1] + chr(ord(id_prefix[-1]) + 1)
            query = query.where(t.source_id >= id_prefix, t.source_id < after)
    return {str(s) for s in session.scalars(query) if s is not None}


def taken_keys(session: Session, keys: Collection[str]) -> set[str]:
    """Those of ``keys`` that name a transfer already in the ledger."""
    if not keys:
        return set()
    t = LedgerTransfer
    return set(session.scalars(select(t.key).where(member_of(session, t.key, sorted(keys)))))
