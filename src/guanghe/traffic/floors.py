"""Boosted impressions rewarded to creators, as floors of the next traffic period, backed by
the ledger.

Task slots that reward impressions pay them into the creator's ``task_boost`` account, and
incentive programmes' traffic rewards into ``incentive_traffic`` (both ``IMPRESSION``). When a
period is planned, whatever those accounts hold is *claimed*: one transfer per creator and
account (code :data:`CLAIM_CODE`, batch :func:`claim_batch` of the period) moves it into the
budget account of the pool the creator is planned in. The claimed impressions are then

- the creator's floor in the period's allocation (at least that many, see
  :func:`guanghe.traffic.planning.period_problem`),
- added to the pool's budget, so a reward never takes impressions from the pool's other
  members, and the pool's account pays the deliveries that honour the floor
  (:func:`guanghe.traffic.deliveries.settle_deliveries`).

Claiming is idempotent: the claim of a creator's account for a period has one key, and a
period's floors are what its batch moved, however often asked. Creators who are in no pool
that period (not assessed) keep their reward for a later period.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from guanghe.errors import Conflict
from guanghe.ledger import AccountKey, TransferRequest, open_accounts, post_transfers
from guanghe.store import LedgerAccount, LedgerTransfer
from guanghe.traffic.budgets import pool_account
from guanghe.traffic.planning import IntArray, Period
from guanghe.traffic.programs import Programs

#: Creator accounts that rewards in boosted impressions are paid into.
REWARD_PURPOSES: Final = ("task_boost", "incentive_traffic")
CLAIM_CODE: Final = "traffic_floor_claim"


def reward_account(creator_id: int, purpose: str) -> AccountKey:
    """The creator's account of boosted impressions rewarded by ``purpose``."""
    if purpose not in REWARD_PURPOSES:
        raise ValueError(f"unknown traffic reward account {purpose!r}")
    return AccountKey("creator", creator_id, purpose, "IMPRESSION")


def claim_batch(period: Period) -> str:
    """The ledger batch of the claims made for ``period``."""
    return f"traffic-floor:{period.starts_on.isoformat()}"


@dataclass(frozen=True, slots=True)
class RewardFloors:
    """What a period claimed: impressions per creator (their floor) and per pool."""

    by_creator: dict[int, int]
    by_pool: dict[str, int]


def claim_reward_floors(
    session: Session,
    programs: Programs,
    period: Period,
    creator_id: IntArray,
    pool: IntArray,
    *,
    now: dt.datetime,
) -> RewardFloors:
    """Claim the rewarded impressions of the creators planned in ``period`` (``pool``: each
    creator's pool index in ``programs``, aligned with ``creator_id``) into their pools'
    accounts, and return every claim of the period."""
    pool_by_creator = dict(zip(creator_id.tolist(), pool.tolist(), strict=True))
    a = LedgerAccount
    held = session.scalars(
        select(a).where(
            a.owner_kind == "creator",
            a.purpose.in_(REWARD_PURPOSES),
            a.unit == "IMPRESSION",
            a.credits_posted - a.debits_posted - a.debits_pending > 0,
        )
    )
    claims = [
        (row, programs.pool_names[pool_by_creator[int(row.owner_id)]])
        for row in held
        if int(row.owner_id) in pool_by_creator
    ]
    pools = open_accounts(
        session, [pool_account(programs, name) for name in {p for _, p in claims}], now=now
    )
    requests = [
        TransferRequest(
            key=f"{claim_batch(period)}:{row.owner_id}:{row.purpose}",
            code=CLAIM_CODE,
            debit_account_id=row.id,
            credit_account_id=pools[pool_account(programs, name)],
            amount=row.credits_posted - row.debits_posted - row.debits_pending,
            memo=f"{row.purpose} reward as a floor of {period.starts_on}..{period.ends_on}",
        )
        for row, name in sorted(claims, key=lambda c: c[0].id)
    ]
    results = post_transfers(
        session, requests, batch=claim_batch(period), business_day=period.starts_on, now=now
    )
    for result in results:
        if not result.ok:
            raise Conflict(f"claiming {result.key} failed: {result.status}")
    return claimed_floors(session, programs, period)


def claimed_floors(session: Session, programs: Programs, period: Period) -> RewardFloors:
    """The impressions claimed for ``period`` by creator and by pool (empty before a claim)."""
    creator, pool = aliased(LedgerAccount), aliased(LedgerAccount)
    rows = session.execute(
        select(creator.owner_id, pool.owner_id, LedgerTransfer.amount)
        .join(creator, creator.id == LedgerTransfer.debit_account_id)
        .join(pool, pool.id == LedgerTransfer.credit_account_id)
        .where(LedgerTransfer.batch == claim_batch(period), LedgerTransfer.code == CLAIM_CODE)
    ).all()
    by_creator: dict[int, int] = defaultdict(int)
    by_pool: dict[str, int] = defaultdict(int)
    for creator_id, pool_index, amount in rows:
        by_creator[int(creator_id)] += int(amount)
        by_pool[programs.pool_names[int(pool_index) - 1]] += int(amount)
    return RewardFloors(dict(by_creator), dict(by_pool))


def with_claims(budgets: dict[str, int], floors: RewardFloors) -> dict[str, int]:
    """Pool budgets with the period's claimed rewards added."""
    total = dict(budgets)
    for name, amount in floors.by_pool.items():
        total[name] = total.get(name, 0) + amount
    return total
