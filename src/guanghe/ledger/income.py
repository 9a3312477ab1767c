"""Creator income as the ledger records it: by settled day and by source."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from guanghe.ledger.settlement import (
    CLAWBACK_CODES,
    INCOME_CODES,
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
    for codes, side, sign in (
        (INCOME_CODES, t.credit_account_id, 1),
        (CLAWBACK_CODES, t.debit_account_id, -1),
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
                account.purpose == "earnings",
            )
            .group_by(account.owner_id, t.code)
        )
        for creator_id, code, amount in rows:
            income[int(creator_id)][codes[code]] += sign * int(amount)
    return {creator: dict(sources) for creator, sources in income.items()}
