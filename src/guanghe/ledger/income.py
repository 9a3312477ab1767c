"""Creator income as the ledger records it: by settled day and by source."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from guanghe.ledger.settlement import (
    CLAWBACK_CODES,
    INCOME_CODES,
    OWED_CODE,
    REWARD_INCOME_CODES,
    batch_name,
)
from guanghe.store import LedgerAccount, LedgerTransfer, SettledDay


def settled_days(session: Session, start: dt.date, end: dt.date) -> set[dt.date]:
    """The days from ``start`` to ``end`` (inclusive) whose settlement completed."""
    rows = session.scalars(select(SettledDay.day).where(SettledDay.day.between(start, end)))
    return set(rows)


def creator_income(session: Session, days: set[dt.date]) -> dict[int, dict[str, int]]:
    """Net income (fen) per creator and source on ``days``: what the settlements of those days
    paid (:data:`~guanghe.ledger.settlement.SETTLEMENT_INCOME_CODES`, less clawbacks) and the
    rewards whose business day is one of them (tasks, incentives, Torch:
    :data:`~guanghe.ledger.settlement.REWARD_INCOME_CODES`; only CNY paid into earnings, so
    boosted impressions are not income)."""
    if not days:
        return {}
    t, account = LedgerTransfer, aliased(LedgerAccount)
    income: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    batches = [batch_name(day) for day in sorted(days)]
    for codes, side, purposes, sign in (
        (INCOME_CODES, t.credit_account_id, ("earnings",), 1),
        # taken back from earnings, or recorded as owed when they could not cover it
        (CLAWBACK_CODES, t.debit_account_id, ("earnings", "clawback"), -1),
    ):
        rows = session.execute(
            select(account.owner_id, t.code, func.sum(t.amount))
            .join(account, account.id == side)
            .where(
                or_(
                    t.batch.in_(batches),
                    and_(t.code.in_(list(REWARD_INCOME_CODES)), t.business_day.in_(sorted(days))),
                ),
                t.code.in_(list(codes)),
                account.owner_kind == "creator",
                account.purpose.in_(purposes),
            )
            .group_by(account.owner_id, t.code)
        )
        for creator_id, code, amount in rows:
            income[int(creator_id)][codes[code]] += sign * int(amount)
    return {creator: dict(sources) for creator, sources in income.items()}


#: Income credited to a creator's CNY earnings that can be traced to one work, by code:
#: the creator's share of an ad event, a posted order commission, a task reward.
TRACEABLE_INCOME_CODES: Final = ("ad_revenue_share", "commission_post", "task_reward")
#: Institution splits taken out of that income (same source as the income they split).
SPLIT_CODES: Final = ("ad_institution_split", "commission_institution_split")


@dataclass(frozen=True, slots=True)
class IncomeLine:
    """One income transfer to a creator's CNY earnings, with what the creator kept of it
    (after the institution's split of the same source) and the business event it pays for
    (``("event", id)`` or ``("task_claim", "<claim id>:CNY")``). ``reversed`` when it was
    taken back (a commission refunded after the return window: reversed, or recorded as
    owed when the earnings could not cover the reversal)."""

    transfer_id: int
    code: str
    creator_id: int
    amount: int
    kept: int
    source_kind: str
    source_id: str
    created_at: dt.datetime
    reversed: bool
    business_day: dt.date | None = None


def income_lines(
    session: Session,
    creator_ids: Collection[int],
    codes: Collection[str] = TRACEABLE_INCOME_CODES,
) -> list[IncomeLine]:
    """Every income transfer of ``creator_ids`` with one of ``codes`` (by default the
    traceable ones), oldest first. A line of a code outside :data:`TRACEABLE_INCOME_CODES`
    without a source has ``source_kind == source_id == ""``."""
    if not creator_ids:
        return []
    t, account = LedgerTransfer, aliased(LedgerAccount)
    pending, reversal, owed = (aliased(LedgerTransfer) for _ in range(3))
    source_kind = func.coalesce(t.source_kind, pending.source_kind)
    source_id = func.coalesce(t.source_id, pending.source_id)
    rows = session.execute(
        select(
            t.id,
            t.code,
            account.owner_id,
            t.amount,
            source_kind,
            source_id,
            t.created_at,
            func.coalesce(reversal.id, owed.id),
            t.business_day,
        )
        .join(account, account.id == t.credit_account_id)
        .outerjoin(pending, pending.id == t.pending_id)
        .outerjoin(reversal, reversal.reversal_of == t.id)
        .outerjoin(
            owed,
            (owed.code == OWED_CODE)
            & (t.code == "commission_post")
            & (owed.source_kind == source_kind)
            & (owed.source_id == source_id),
        )
        .where(
            t.code.in_(sorted(set(codes))),
            account.owner_kind == "creator",
            account.owner_id.in_(sorted(set(creator_ids))),
            account.purpose == "earnings",
            account.unit == "CNY",
        )
        .order_by(t.id)
    ).all()
    splits = _splits_taken(session, {(str(r[4]), str(r[5])) for r in rows if r[4] is not None})
    return [
        IncomeLine(
            transfer_id=int(tid),
            code=str(code),
            creator_id=int(owner),
            amount=int(amount),
            kept=int(amount) - splits.get((str(kind), str(source)), 0),
            source_kind="" if kind is None else str(kind),
            source_id="" if source is None else str(source),
            created_at=created_at,
            reversed=reversed_by is not None,
            business_day=business_day,
        )
        for tid, code, owner, amount, kind, source, created_at, reversed_by, business_day in rows
        if kind is not None or code not in TRACEABLE_INCOME_CODES
    ]


def _splits_taken(session: Session, sources: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The institution splits paid out of the income of each ``(kind, id)`` source (only
    event income is split)."""
    if not sources:
        return {}
    t = LedgerTransfer
    ids = sorted({source_id for kind, source_id in sources if kind == "event"})
    taken: dict[tuple[str, str], int] = defaultdict(int)
    for at in range(0, len(ids), 5_000):
        rows = session.execute(
            select(t.source_kind, t.source_id, func.sum(t.amount))
            .where(
                t.source_kind == "event",
                t.source_id.in_(ids[at : at + 5_000]),
                t.code.in_(SPLIT_CODES),
            )
            .group_by(t.source_kind, t.source_id)
        )
        for kind, source, amount in rows:
            taken[(str(kind), str(source))] += int(amount)
    return dict(taken)


def source_amounts(session: Session, source_kind: str, code: str) -> dict[str, int]:
    """The amount of each ``code`` transfer paying a ``source_kind`` source, by source id."""
    t = LedgerTransfer
    rows = session.execute(
        select(t.source_id, t.amount).where(t.source_kind == source_kind, t.code == code)
    )
    return {str(source): int(amount) for source, amount in rows}


def reversed_transfers(session: Session, transfer_ids: Collection[int]) -> set[int]:
    """Those of ``transfer_ids`` taken back: by a reversal, or (a posted commission) recorded
    as owed because the earnings could not cover its reversal."""
    if not transfer_ids:
        return set()
    t, pending, owed = LedgerTransfer, aliased(LedgerTransfer), aliased(LedgerTransfer)
    ids = sorted(transfer_ids)
    rows = session.scalars(select(t.reversal_of).where(t.reversal_of.in_(ids)))
    owed_rows = session.scalars(
        select(t.id)
        .join(pending, pending.id == t.pending_id)
        .join(
            owed,
            (owed.code == OWED_CODE)
            & (owed.source_kind == pending.source_kind)
            & (owed.source_id == pending.source_id),
        )
        .where(t.id.in_(ids), t.code == "commission_post")
    )
    return {int(r) for r in rows if r is not None} | {int(r) for r in owed_rows}
