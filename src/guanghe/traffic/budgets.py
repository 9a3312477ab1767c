"""Pool budgets per period: what operators set, the programme's defaults, and their funding in
the ledger (``IMPRESSION`` units from the platform's issuance account into each pool)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.errors import Conflict, InvalidInput
from guanghe.ledger import AccountKey, TransferRequest, open_accounts, post_transfers
from guanghe.store import Creator, TrafficBudget
from guanghe.traffic.planning import Period, default_budgets
from guanghe.traffic.programs import Programs

#: Where boosted impressions come from: the platform issues them (never limited).
ISSUANCE = AccountKey("platform", 0, "traffic_issuance", "IMPRESSION")


def pool_account(programs: Programs, pool: str) -> AccountKey:
    """The ledger account holding ``pool``'s budget (owner id: the pool's 1-based position)."""
    index = programs.pool_names.index(pool) + 1
    return AccountKey("traffic_pool", index, "budget", "IMPRESSION", "debits")


def budgets_on(session: Session, day: dt.date) -> tuple[Period, dict[str, int]] | None:
    """The period covering ``day`` and each pool's budget in it, or ``None`` if none is set."""
    rows = session.scalars(
        select(TrafficBudget).where(TrafficBudget.starts_on <= day, TrafficBudget.ends_on >= day)
    ).all()
    if not rows:
        return None
    return Period(rows[0].starts_on, rows[0].ends_on), {row.pool: row.impressions for row in rows}


def set_budget(
    session: Session,
    programs: Programs,
    *,
    pool: str,
    period: Period,
    impressions: int,
    actor: str,
    now: dt.datetime,
) -> TrafficBudget:
    """Set ``pool``'s budget for ``period``.

    A period must either be exactly an existing period (another pool's budget in it, or this
    pool's, which is then replaced while the period has not started) or overlap none.
    """
    programs.pool(pool)
    if impressions < 0:
        raise InvalidInput("impressions must be >= 0")
    if period.ends_on < period.starts_on:
        raise InvalidInput("ends_on must not be before starts_on")
    overlapping = session.scalars(
        select(TrafficBudget).where(
            TrafficBudget.starts_on <= period.ends_on, TrafficBudget.ends_on >= period.starts_on
        )
    ).all()
    for row in overlapping:
        if (row.starts_on, row.ends_on) != (period.starts_on, period.ends_on):
            raise Conflict(
                f"the period {period.starts_on}..{period.ends_on} overlaps the budget period "
                f"{row.starts_on}..{row.ends_on}; use that period or one that does not overlap"
            )
    existing = next((row for row in overlapping if row.pool == pool), None)
    if existing is not None:
        if period.starts_on <= now.date():
            raise Conflict(f"the {pool!r} budget of a period that has started cannot change")
        existing.impressions, existing.created_by, existing.created_at = impressions, actor, now
        return existing
    budget = TrafficBudget(
        pool=pool,
        starts_on=period.starts_on,
        ends_on=period.ends_on,
        impressions=impressions,
        created_by=actor,
        created_at=now,
    )
    session.add(budget)
    session.flush()
    return budget


def ensure_budgets(
    session: Session,
    programs: Programs,
    day: dt.date,
    pool_members: Sequence[int],
    *,
    now: dt.datetime,
) -> tuple[Period, dict[str, int]]:
    """The budgets covering ``day``; when operators set none, the programme's defaults for a
    default-length period starting that day (never overlapping a later configured period),
    a memberless pool's share flowing on by the rule of :func:`default_budgets`
    (``pool_members``: members of each pool, in the programme's order)."""
    found = budgets_on(session, day)
    if found is not None:
        return found
    next_start = session.scalar(
        select(func.min(TrafficBudget.starts_on)).where(TrafficBudget.starts_on > day)
    )
    ends_on = day + dt.timedelta(days=programs.period.days - 1)
    if next_start is not None:
        ends_on = min(ends_on, next_start - dt.timedelta(days=1))
    period = Period(day, ends_on)
    creators = session.scalar(select(func.count()).select_from(Creator)) or 0
    budgets = default_budgets(programs, creators, period.days, pool_members)
    for pool, impressions in budgets.items():
        set_budget(
            session,
            programs,
            pool=pool,
            period=period,
            impressions=impressions,
            actor="default programme",
            now=now,
        )
    return period, budgets


def fund_pools(
    session: Session,
    programs: Programs,
    period: Period,
    budgets: dict[str, int],
    *,
    now: dt.datetime,
) -> None:
    """Move each pool's period budget from issuance into the pool's account (idempotent)."""
    keys = [ISSUANCE, *(pool_account(programs, pool) for pool in budgets)]
    accounts = open_accounts(session, keys, now=now)
    requests = [
        TransferRequest(
            key=f"traffic-budget:{pool}:{period.starts_on}",
            code="traffic_budget",
            debit_account_id=accounts[ISSUANCE],
            credit_account_id=accounts[pool_account(programs, pool)],
            amount=impressions,
            source=("traffic_budget", f"{pool}:{period.starts_on}"),
            memo=f"{pool} budget {period.starts_on}..{period.ends_on}",
        )
        for pool, impressions in sorted(budgets.items())
        if impressions > 0
    ]
    for result in post_transfers(session, requests, business_day=period.starts_on, now=now):
        if not result.ok:
            raise Conflict(f"funding {result.key} failed: {result.status}")
