"""Which traffic period honoured an enrolment's traffic reward.

A programme's traffic reward is paid in impressions to the creator's ``incentive_traffic``
account. The first traffic period solved after the payment claims that account's impressions
into the creator's pool and makes them the creator's floor (:mod:`guanghe.traffic.floors`,
which the ledger backs); this marks the enrolments it honoured with the period's first day.
Claiming is idempotent: a period's floors are the rewards it claimed, however often asked.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from guanghe.store import IncentiveEnrolment


def claim_traffic_floors(session: Session, period_starts_on: dt.date) -> dict[int, int]:
    """Impressions each creator is owed as a floor in the traffic period starting
    ``period_starts_on``: the traffic rewards paid before that day and claimed by no earlier
    period are claimed by it."""
    e = IncentiveEnrolment
    session.execute(
        update(e)
        .where(
            e.reward_impressions > 0,
            e.paid_on < period_starts_on,
            e.floor_period_starts_on.is_(None),
        )
        .values(floor_period_starts_on=period_starts_on)
    )
    rows = session.execute(
        select(e.creator_id, func.sum(e.reward_impressions))
        .where(e.floor_period_starts_on == period_starts_on)
        .group_by(e.creator_id)
    )
    return {int(creator): int(total) for creator, total in rows}
