"""Torch support per institution: the pools of the institutions with a traffic budget on a
day (members, funding in the ledger), their daily quotas that the boost service serves, and
what an institution sees of its support.

A pool's period allocation is delivered by the boost service like the platform's: each day's
quota is the creator's undelivered allocation over the period's days left (the platform's
pacing, :func:`guanghe.traffic.planning.pacing_quotas`), written as the day's directed plan
(:data:`guanghe.traffic.deliveries.DIRECTED_PLAN`); the deliveries that use it are paid from
the pool's account in the ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from guanghe.access import Principal
from guanghe.errors import Conflict
from guanghe.institutions.pools import PoolMembers, PoolRules
from guanghe.institutions.standing import check_can_see_institution
from guanghe.institutions.torch import (
    InstitutionBudget,
    approved_authors,
    budget_on,
    cash_account,
    preferences_of,
)
from guanghe.ledger import AccountKey, TransferRequest, find_account, open_accounts, post_transfers
from guanghe.snapshots import latest_date, read_snapshot
from guanghe.store import AuthorNomination, Creator, Institution, LedgerAccount, LedgerTransfer
from guanghe.traffic.deliveries import DIRECTED_CODE
from guanghe.traffic.planning import pacing_quotas

#: Impressions are issued to the programme's pools from the traffic ledger's issuance.
ISSUANCE = AccountKey("platform", 0, "traffic_issuance", "IMPRESSION")
#: The snapshot of each day's institution pool allocation.
POOLS_SNAPSHOT = "institution_pools"
#: A creator without a fitted response curve gets the median curve, or this one.
DEFAULT_CURVE = (1.0, 1_000.0)


@dataclass(frozen=True, slots=True)
class PoolPlan:
    """The pools to solve on a day: members, budgets and rules per institution."""

    members: PoolMembers
    budgets: dict[int, int]
    rules: dict[int, PoolRules]
    days: int


@dataclass(frozen=True, slots=True)
class Support:
    """An institution's Torch support on a day."""

    institution_id: int
    budget: InstitutionBudget | None
    cash_spent_fen: int
    nominations: list[dict[str, object]]
    preferences: list[dict[str, object]]


def traffic_budgets(session: Session, day: dt.date) -> list[InstitutionBudget]:
    """Every institution's budget covering ``day`` with traffic in it."""
    found = []
    for institution_id in session.scalars(select(Institution.id).order_by(Institution.id)):
        budget = budget_on(session, institution_id, day)
        if budget is not None and budget.traffic_impressions > 0:
            found.append(budget)
    return found


def pool_plan(session: Session, day: dt.date, curves: pa.Table | None) -> PoolPlan | None:
    """The pools of ``day``: each budgeted institution's creators with its preferences, the
    approved influential authors, and their response curves (None: no pool that day)."""
    budgets = traffic_budgets(session, day)
    if not budgets:
        return None
    rows = session.execute(
        select(Creator.institution_id, Creator.id, Creator.stage)
        .where(Creator.institution_id.in_([b.institution_id for b in budgets]))
        .order_by(Creator.institution_id, Creator.id)
    ).all()
    prefs = {
        (b.institution_id, p.creator_id): p
        for b in budgets
        for p in preferences_of(session, b.institution_id)
    }
    institution = np.array([r[0] for r in rows], dtype=np.int64)
    creator = np.array([r[1] for r in rows], dtype=np.int64)
    chosen = [prefs.get((int(i), int(c))) for i, c in zip(institution, creator, strict=True)]
    saturation, scale = _curves(curves, creator)
    members = PoolMembers(
        institution_id=institution,
        creator_id=creator,
        new=np.array([r[2] == "novice" for r in rows], dtype=bool),
        weight=np.array([p.weight if p else 1.0 for p in chosen], dtype=np.float64),
        guarantee=np.array(
            [float(p.guarantee_impressions) if p else 0.0 for p in chosen], dtype=np.float64
        ),
        nominee=np.isin(creator, np.array(sorted(approved_authors(session, day)), dtype=np.int64)),
        saturation=saturation,
        scale=scale,
    )
    days = max((b.ends_on - b.starts_on).days + 1 for b in budgets)
    return PoolPlan(
        members,
        {b.institution_id: b.traffic_impressions for b in budgets},
        {b.institution_id: b.rules for b in budgets},
        days,
    )


def _curves(curves: pa.Table | None, creator: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if curves is None or curves.num_rows == 0:
        return np.full(creator.size, DEFAULT_CURVE[0]), np.full(creator.size, DEFAULT_CURVE[1])
    ids = curves["creator_id"].to_numpy().astype(np.int64)
    sat = curves["saturation"].to_numpy().astype(np.float64)
    sca = curves["scale"].to_numpy().astype(np.float64)
    order = np.argsort(ids)
    position = np.searchsorted(ids[order], creator).clip(0, ids.size - 1)
    row = order[position]
    hit = ids[row] == creator
    return (
        np.where(hit, sat[row], float(np.median(sat))),
        np.where(hit, sca[row], float(np.median(sca))),
    )


def fund_traffic_pools(
    session: Session, budgets: dict[int, int], starts: dict[int, dt.date], *, now: dt.datetime
) -> None:
    """Move each institution pool's impressions from issuance into its pool account, once per
    institution, period and amount."""
    keys = {i: pool_account(i, starts[i]) for i in budgets}
    accounts = open_accounts(session, [ISSUANCE, *keys.values()], now=now)
    requests = []
    for institution_id, impressions in sorted(budgets.items()):
        account = find_account(session, keys[institution_id])
        missing = impressions - (account.credits_posted if account else 0)
        if missing > 0:
            tag = f"{institution_id}:{starts[institution_id]}:{impressions}"
            requests.append(
                TransferRequest(
                    f"torch-traffic:{tag}",
                    "torch_traffic_budget",
                    debit_account_id=accounts[ISSUANCE],
                    credit_account_id=accounts[keys[institution_id]],
                    amount=missing,
                    source=("torch_budget", tag),
                )
            )
    for result in post_transfers(session, requests, business_day=now.date(), now=now):
        if not result.ok:
            raise Conflict(f"funding {result.key} failed: {result.status}")


def pool_account(institution_id: int, starts_on: dt.date) -> AccountKey:
    """The institution's Torch traffic pool of the period starting ``starts_on``."""
    return AccountKey("institution", institution_id, f"torch_traffic:{starts_on}", "IMPRESSION")


def pool_deliveries(session: Session, budgets: list[InstitutionBudget]) -> dict[int, int]:
    """Impressions each creator was delivered from the pools of ``budgets`` so far."""
    pools = [pool_account(b.institution_id, b.starts_on) for b in budgets]
    if not pools:
        return {}
    pool, creator = aliased(LedgerAccount), aliased(LedgerAccount)
    rows = session.execute(
        select(creator.owner_id, func.sum(LedgerTransfer.amount))
        .join(pool, pool.id == LedgerTransfer.debit_account_id)
        .join(creator, creator.id == LedgerTransfer.credit_account_id)
        .where(
            LedgerTransfer.code == DIRECTED_CODE,
            pool.owner_kind == "institution",
            pool.owner_id.in_([b.institution_id for b in budgets]),
            pool.purpose.in_([key.purpose for key in pools]),
        )
        .group_by(creator.owner_id)
    )
    return {int(c): int(total) for c, total in rows}


def directed_plan(
    allocation: pa.Table, budgets: list[InstitutionBudget], delivered: dict[int, int], day: dt.date
) -> pa.Table:
    """The quotas of ``day`` from the pools' allocation (:func:`pool_table`'s rows): per
    institution whose period covers ``day``, each creator's undelivered allocation paced over
    the days left, never past what is left of the pool."""
    covering = {b.institution_id: b for b in budgets if b.starts_on <= day <= b.ends_on}
    institution = allocation["institution_id"].to_numpy().astype(np.int64)
    creator = allocation["creator_id"].to_numpy().astype(np.int64)
    allocated = allocation["impressions"].to_numpy().astype(np.int64)
    so_far = np.array([delivered.get(int(c), 0) for c in creator.tolist()], dtype=np.int64)
    quota = np.zeros(creator.shape[0], dtype=np.int64)
    for k, budget in covering.items():
        mask = institution == k
        quota[mask] = pacing_quotas(
            allocated[mask],
            so_far[mask],
            np.zeros(int(mask.sum()), dtype=np.int64),
            np.array([budget.traffic_impressions], dtype=np.int64),
            (budget.ends_on - day).days + 1,
        )
    keep = np.isin(institution, np.array(sorted(covering), dtype=np.int64))
    starts = [covering[int(i)].starts_on for i in institution[keep].tolist()]
    return pa.table(
        {
            "creator_id": pa.array(creator[keep], pa.int64()),
            "institution_id": pa.array(institution[keep], pa.int64()),
            "pool_starts_on": pa.array(starts, pa.date32()),
            "allocated": pa.array(allocated[keep], pa.int64()),
            "delivered": pa.array(so_far[keep], pa.int64()),
            "quota": pa.array(quota[keep], pa.int64()),
        }
    )


def support_of(
    session: Session, principal: Principal, institution_id: int, day: dt.date
) -> Support:
    """The institution's budget on ``day``, its cash spent, nominations and preferences."""
    check_can_see_institution(session, principal, institution_id)
    budget = budget_on(session, institution_id, day)
    spent = 0
    if budget is not None:
        account = find_account(session, cash_account(institution_id, budget.starts_on))
        spent = account.debits_posted if account else 0
    nominations = session.scalars(
        select(AuthorNomination)
        .where(AuthorNomination.institution_id == institution_id)
        .order_by(AuthorNomination.id.desc())
        .limit(100)
    )
    return Support(
        institution_id,
        budget,
        spent,
        [
            {"id": n.id, "creator_id": n.creator_id, "starts_on": n.starts_on, "status": n.status}
            for n in nominations
        ],
        [
            {
                "creator_id": p.creator_id,
                "weight": p.weight,
                "guarantee_impressions": p.guarantee_impressions,
            }
            for p in preferences_of(session, institution_id)
        ],
    )


def pool_allocation(
    snapshots: Path, institution_id: int, day: dt.date
) -> tuple[dt.date | None, list[dict[str, Any]]]:
    """How the institution's pool was allocated in the latest solve on or before ``day``."""
    solved = latest_date(snapshots, POOLS_SNAPSHOT, day)
    if solved is None:
        return None, []
    table = read_snapshot(snapshots, POOLS_SNAPSHOT, solved)
    rows = [r for r in table.to_pylist() if r["institution_id"] == institution_id]
    return solved, rows
