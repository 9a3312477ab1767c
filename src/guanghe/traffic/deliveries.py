"""Delivered boosted impressions: recorded once per delivery id, summed for pacing, and
settled daily into the ledger (pool budget to the creator's traffic-support account).

Some of a creator's quota on a day may come from a pool someone else directs (an
institution's Torch pool, see :data:`DIRECTED_PLAN`): that share of the day's deliveries is
paid from the directed pool's account (code :data:`DIRECTED_CODE`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, aliased

from guanghe.errors import Conflict
from guanghe.ledger import (
    AccountKey,
    TransferRequest,
    TransferStatus,
    get_account,
    open_accounts,
    paid_sources,
    post_transfers,
)
from guanghe.store import BoostDelivery, LedgerAccount, LedgerTransfer, member_of, select_rows
from guanghe.store.bulk import execute_many_tuples
from guanghe.traffic.budgets import ISSUANCE, pool_account
from guanghe.traffic.planning import IntArray
from guanghe.traffic.programs import Programs

#: The snapshot of a day's quotas from directed pools (institutions' Torch pools): columns
#: ``creator_id``, ``institution_id``, ``pool_starts_on``, ``allocated``, ``delivered`` and
#: ``quota``; the boost service adds its quotas to the day's plan.
DIRECTED_PLAN = "directed_traffic_plan"
#: Deliveries paid from a directed pool's account.
DIRECTED_CODE = "directed_boost_delivery"


@dataclass(frozen=True, slots=True)
class Directed:
    """A creator's directed quota on a day: ``share`` of their deliveries is paid from
    ``account`` (as far as it holds impressions)."""

    account: AccountKey
    share: float


@dataclass(frozen=True, slots=True)
class Delivery:
    """``impressions`` boosted impressions of ``work_id`` (by ``creator_id``) on ``day``."""

    delivery_id: str
    creator_id: int
    work_id: int
    impressions: int
    day: dt.date


def record_deliveries(
    session: Session, deliveries: Sequence[Delivery], *, now: dt.datetime
) -> list[str]:
    """Store ``deliveries``; returns each one's status: ``recorded``, ``duplicate`` (the same
    delivery again) or ``conflict`` (its id was recorded with other content)."""
    if not deliveries:
        return []
    if session.get_bind().dialect.name == "postgresql":
        new = _insert_returning(session, deliveries, now)
        content = _stored(session, [d.delivery_id for d in deliveries if d.delivery_id not in new])
    else:
        # SQLite's single writer (``BEGIN IMMEDIATE``): what is stored now is all a racing
        # writer could have stored, so the absent ids are inserted with no conflict to handle.
        content = _stored(session, [d.delivery_id for d in deliveries])
        new = _insert_absent(session, deliveries, content, now)
    statuses = []
    for d in deliveries:
        if d.delivery_id in new:
            statuses.append("recorded")
            new.discard(d.delivery_id)  # a repeat inside the batch is a duplicate
            content[d.delivery_id] = (d.day, d.creator_id, d.work_id, d.impressions)
            continue
        same = content[d.delivery_id] == (d.day, d.creator_id, d.work_id, d.impressions)
        statuses.append("duplicate" if same else "conflict")
    return statuses


_COLUMNS = ("delivery_id", "day", "creator_id", "work_id", "impressions", "recorded_at")


def _row(d: Delivery, now: dt.datetime) -> tuple[str, dt.date, int, int, int, dt.datetime]:
    return d.delivery_id, d.day, d.creator_id, d.work_id, d.impressions, now


def _insert_returning(
    session: Session, deliveries: Sequence[Delivery], now: dt.datetime
) -> set[str]:
    """Insert the deliveries whose id is not stored yet (a racing writer's included); the ids
    inserted. One statement compiled once over all rows (SQLAlchemy batches them into
    multi-row INSERTs with RETURNING, "insertmanyvalues")."""
    statement = (
        postgresql.insert(BoostDelivery)
        .on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(BoostDelivery.delivery_id)
    )
    rows = [dict(zip(_COLUMNS, _row(d, now), strict=True)) for d in deliveries]
    return set(session.connection().execute(statement, rows).scalars().all())


def _insert_absent(
    session: Session,
    deliveries: Sequence[Delivery],
    stored: Mapping[str, tuple[dt.date, int, int, int]],
    now: dt.datetime,
) -> set[str]:
    """Insert the first of each id not in ``stored`` (one executemany); the ids inserted."""
    new: dict[str, Delivery] = {}
    for d in deliveries:
        if d.delivery_id not in stored:
            new.setdefault(d.delivery_id, d)
    execute_many_tuples(
        session.connection(),
        insert(BoostDelivery),
        _COLUMNS,
        [_row(d, now) for d in new.values()],
    )
    return set(new)


def _stored(session: Session, ids: Sequence[str]) -> dict[str, tuple[dt.date, int, int, int]]:
    """Each stored id's content (day, creator, work, impressions)."""
    if not ids:
        return {}
    return {
        delivery_id: (day, creator_id, work_id, impressions)
        for delivery_id, day, creator_id, work_id, impressions in select_rows(
            session,
            select(
                BoostDelivery.delivery_id,
                BoostDelivery.day,
                BoostDelivery.creator_id,
                BoostDelivery.work_id,
                BoostDelivery.impressions,
            ).where(member_of(session, BoostDelivery.delivery_id, ids)),
        )
    }


def delivered_by_creator(
    session: Session, first: dt.date, last: dt.date
) -> tuple[IntArray, IntArray]:
    """Creator ids and their delivered impressions over ``first..last`` (sorted by id)."""
    rows = select_rows(
        session,
        select(BoostDelivery.creator_id, func.sum(BoostDelivery.impressions))
        .where(BoostDelivery.day >= first, BoostDelivery.day <= last)
        .group_by(BoostDelivery.creator_id)
        .order_by(BoostDelivery.creator_id),
    ).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    amounts = np.array([int(r[1]) for r in rows], dtype=np.int64)
    return ids, amounts


def directed_by_creator(session: Session, first: dt.date, last: dt.date) -> dict[int, int]:
    """Impressions each creator was delivered from directed pools over ``first..last``."""
    creator = aliased(LedgerAccount)
    rows = session.execute(
        select(creator.owner_id, func.sum(LedgerTransfer.amount))
        .join(creator, creator.id == LedgerTransfer.credit_account_id)
        .where(
            LedgerTransfer.code == DIRECTED_CODE,
            LedgerTransfer.business_day >= first,
            LedgerTransfer.business_day <= last,
        )
        .group_by(creator.owner_id)
    )
    return {int(c): int(total) for c, total in rows}


def settle_deliveries(
    session: Session,
    programs: Programs,
    day: dt.date,
    pool_of: dict[int, str],
    *,
    directed: Mapping[int, Directed] | None = None,
    now: dt.datetime,
) -> int:
    """Post ``day``'s deliveries to the ledger, one transfer per creator and paying account
    (idempotent).

    A creator with a directed quota (``directed``) has that share of their impressions paid
    from the directed pool's account, as far as it holds impressions; the rest come from their
    pool's budget (``pool_of``, the day's plan); whatever a pool cannot cover — over-delivery
    past its budget, bounded by what was in flight when quotas ran out — comes from issuance
    under the code ``boost_overdelivery``. Creators already settled for the day are skipped.
    Returns the number of transfers created.
    """
    directed = directed or {}
    ids, amounts = delivered_by_creator(session, day, day)
    settled = paid_sources(session, "boost_delivery", id_prefix=f"{day}:")
    unsettled = np.array([f"{day}:{c}" not in settled for c in ids.tolist()], dtype=bool)
    ids, amounts = ids[unsettled], amounts[unsettled]
    last_pool = programs.pool_names[-1]  # a creator the plan does not name is paid from it
    pools = sorted({pool_of.get(int(c), last_pool) for c in ids.tolist()})
    creator_keys = {
        int(c): AccountKey("creator", int(c), "traffic_support", "IMPRESSION") for c in ids.tolist()
    }
    directed_keys = {directed[c].account for c in ids.tolist() if c in directed}
    accounts = open_accounts(
        session,
        [
            ISSUANCE,
            *(pool_account(programs, p) for p in pools),
            *creator_keys.values(),
            *directed_keys,
        ],
        now=now,
    )
    pool_ids = {p: accounts[pool_account(programs, p)] for p in pools}
    available = {p: max(get_account(session, pool_ids[p]).available, 0) for p in pools}
    directed_left = {
        key: max(get_account(session, accounts[key]).available, 0) for key in directed_keys
    }
    requests = []
    for creator, delivered in zip(ids.tolist(), amounts.tolist(), strict=True):
        pool = pool_of.get(creator, last_pool)
        credit = accounts[creator_keys[creator]]
        source_id = f"{day}:{creator}"
        amount = delivered
        if creator in directed:
            account = directed[creator].account
            share = min(int(delivered * directed[creator].share), directed_left[account])
            directed_left[account] -= share
            amount = delivered - share
            if share:
                requests.append(
                    TransferRequest(
                        key=f"boost-directed:{source_id}",
                        code=DIRECTED_CODE,
                        debit_account_id=accounts[account],
                        credit_account_id=credit,
                        amount=share,
                        source=("boost_delivery", source_id),
                    )
                )
        covered = min(amount, available[pool])
        available[pool] -= covered
        if covered:
            requests.append(
                TransferRequest(
                    key=f"boost:{source_id}",
                    code="boost_delivery",
                    debit_account_id=pool_ids[pool],
                    credit_account_id=credit,
                    amount=covered,
                    source=("boost_delivery", source_id),
                )
            )
        if amount > covered:
            requests.append(
                TransferRequest(
                    key=f"boost-over:{source_id}",
                    code="boost_overdelivery",
                    debit_account_id=accounts[ISSUANCE],
                    credit_account_id=credit,
                    amount=amount - covered,
                    source=("boost_delivery", source_id),
                )
            )
    created = 0
    for result in post_transfers(session, requests, business_day=day, now=now):
        if not result.ok:
            raise Conflict(f"settling {result.key} failed: {result.status}")
        created += result.status is TransferStatus.CREATED
    return created
