"""Read models of traffic support for the API and the dashboard: a day's plan summed by pool,
vertical or stage, and one creator's support."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.creators.catalog import get_creator
from guanghe.errors import InvalidInput, NotFound
from guanghe.snapshots import latest_date, read_snapshot, snapshot_path
from guanghe.store import BoostDelivery, Vertical
from guanghe.traffic.programs import Programs
from guanghe.traffic.why import AllocationWhy, allocation_why

PLAN: Final = "traffic_plan"
ALLOCATION: Final = "traffic_allocation"
Dimension = Literal["pool", "vertical", "stage"]


@dataclass(frozen=True, slots=True)
class PlanGroup:
    """A day's plan summed over one pool, vertical or stage."""

    key: str
    creators: int
    allocated: int
    delivered: int
    quota: int
    expected_follows: float


@dataclass(frozen=True, slots=True)
class PlanSummary:
    day: dt.date
    period_starts_on: dt.date
    period_ends_on: dt.date
    by: Dimension
    groups: tuple[PlanGroup, ...]
    objective: float | None
    duality_gap: float | None
    delivered_today: int
    #: Budget of each pool with a budget and no member: impressions no plan can spend.
    unplannable: dict[str, int]


@dataclass(frozen=True, slots=True)
class CreatorTraffic:
    """One creator's support on a plan day (``pool`` is ``None`` when not supported)."""

    creator_id: int
    day: dt.date
    pool: str | None
    allocated: int
    delivered_in_period: int
    quota: int
    delivered_today: int
    expected_follows: float
    period_starts_on: dt.date
    period_ends_on: dt.date
    #: Why this allocation (None when the creator is not supported, or for a plan solved
    #: before allocations kept their explanation).
    why: AllocationWhy | None = None


def plan_day(snapshots: Path, day: dt.date | None) -> dt.date:
    """``day`` if it has a plan, else the newest plan's day; :class:`NotFound` if none."""
    if day is not None:
        if not snapshot_path(snapshots, PLAN, day).exists():
            raise NotFound(f"there is no traffic plan for {day}")
        return day
    latest = latest_date(snapshots, PLAN)
    if latest is None:
        raise NotFound("no traffic plan yet; run `guanghe cycle --date D` first")
    return latest


def plan_summary(
    session: Session, snapshots: Path, day: dt.date | None, by: Dimension
) -> PlanSummary:
    """The plan of ``day`` (default: the newest) summed by ``by``."""
    if by not in ("pool", "vertical", "stage"):
        raise InvalidInput("by must be one of pool, vertical, stage")
    day = plan_day(snapshots, day)
    plan = read_snapshot(snapshots, PLAN, day)
    column = {"pool": "pool", "vertical": "vertical_id", "stage": "stage"}[by]
    sums = plan.group_by(column).aggregate(
        [
            ("creator_id", "count"),
            ("allocated", "sum"),
            ("delivered", "sum"),
            ("quota", "sum"),
            ("expected_follows", "sum"),
        ]
    )
    names: dict[int, str] = {}
    if by == "vertical":
        names = {row.id: row.name for row in session.execute(select(Vertical.id, Vertical.name))}
    groups = sorted(
        (
            PlanGroup(
                key=names.get(row[column], str(row[column])),
                creators=row["creator_id_count"],
                allocated=row["allocated_sum"],
                delivered=row["delivered_sum"],
                quota=row["quota_sum"],
                expected_follows=row["expected_follows_sum"],
            )
            for row in sums.to_pylist()
        ),
        key=lambda g: -g.allocated,
    )
    meta = plan.schema.metadata or {}
    starts_on = dt.date.fromisoformat(meta[b"period_starts_on"].decode())
    allocation = read_snapshot(snapshots, ALLOCATION, starts_on).schema.metadata or {}
    delivered_today = session.scalar(
        select(func.coalesce(func.sum(BoostDelivery.impressions), 0)).where(
            BoostDelivery.day == day
        )
    )
    return PlanSummary(
        day=day,
        period_starts_on=starts_on,
        period_ends_on=dt.date.fromisoformat(meta[b"period_ends_on"].decode()),
        by=by,
        groups=tuple(groups),
        objective=float(allocation[b"objective"]) if b"objective" in allocation else None,
        duality_gap=float(allocation[b"duality_gap"]) if b"duality_gap" in allocation else None,
        delivered_today=int(delivered_today or 0),
        unplannable=json.loads(allocation.get(b"unplannable", b"{}")),
    )


def creator_traffic(
    session: Session,
    principal: Principal,
    snapshots: Path,
    creator_id: int,
    day: dt.date | None,
    programs: Programs | None = None,
) -> CreatorTraffic:
    """``creator_id``'s support on ``day`` (default: the newest plan), for ``principal``, with
    why (the pools' titles from ``programs``; their names without)."""
    get_creator(session, principal, creator_id)
    day = plan_day(snapshots, day)
    plan = read_snapshot(snapshots, PLAN, day, creator_id=creator_id)
    meta = plan.schema.metadata or {}
    rows = plan.to_pylist()
    today = session.scalar(
        select(func.coalesce(func.sum(BoostDelivery.impressions), 0)).where(
            BoostDelivery.day == day, BoostDelivery.creator_id == creator_id
        )
    )
    row = rows[0] if rows else {}
    starts_on = dt.date.fromisoformat(meta[b"period_starts_on"].decode())
    ends_on = dt.date.fromisoformat(meta[b"period_ends_on"].decode())
    why = None
    if row:
        allocated = read_snapshot(snapshots, ALLOCATION, starts_on, creator_id=creator_id)
        found = allocated.to_pylist()
        if found and "pool_price" in found[0]:
            titles = {p.name: p.title for p in programs.pools} if programs else {}
            why = allocation_why(
                found[0],
                (ends_on - starts_on).days + 1,
                titles.get(str(row["pool"]), str(row["pool"])),
                operator=principal.role == "operator",
            )
    return CreatorTraffic(
        creator_id=creator_id,
        day=day,
        pool=row.get("pool"),
        allocated=int(row.get("allocated", 0)),
        delivered_in_period=int(row.get("delivered", 0)) + int(today or 0),
        quota=int(row.get("quota", 0)),
        delivered_today=int(today or 0),
        expected_follows=float(row.get("expected_follows", 0.0)),
        period_starts_on=starts_on,
        period_ends_on=ends_on,
        why=why,
    )
