"""The cycle's ``institutions`` step: creators' affiliations from the contracts in force,
each institution's monthly level, and the Torch institution pools of the day.

Levels are judged on the 28 days up to the cycle's date, on the last day of each month (and
on the first cycle of a month no level was judged in yet, so a new deployment has levels at
once); a re-run of a date replaces that month's levels. The pools of the institutions with a
Torch traffic budget covering the date are funded in the ledger and solved by the traffic
solver, one pool at a time, on the date's response curves (snapshot ``institution_pools``
of the date), and the next day's quotas from them paced over the days left (snapshot
``directed_traffic_plan`` of the next day), which the boost service adds to the platform's.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from guanghe.institutions.levels import (
    assign_levels,
    institution_metrics,
    level_rules_path,
    load_level_rules,
)
from guanghe.institutions.pools import pool_table, solve_pools
from guanghe.institutions.standing import (
    contracted_on,
    duplicates_by_creator,
    has_levels,
    record_levels,
    sync_affiliations,
)
from guanghe.institutions.support import (
    POOLS_SNAPSHOT,
    directed_plan,
    fund_traffic_pools,
    pool_deliveries,
    pool_plan,
    traffic_budgets,
)
from guanghe.ledger import creator_income, settled_days
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.feature_step import SNAPSHOT as FEATURES
from guanghe.pipelines.growth_step import SNAPSHOT as GROWTH
from guanghe.pipelines.reports import StepReport
from guanghe.runtime import Runtime
from guanghe.snapshots import read_snapshot, snapshot_path, write_snapshot
from guanghe.traffic.deliveries import DIRECTED_PLAN

WINDOW_DAYS: Final = 28
CURVES: Final = "response_curves"


def run(ctx: CycleContext) -> StepReport:
    """Sync affiliations on the date; judge levels at the month's end (or if none yet)."""
    changed = ctx.runtime.write(lambda s: sync_affiliations(s, ctx.date))
    month = ctx.date.replace(day=1)
    month_end = (ctx.date + dt.timedelta(days=1)).month != ctx.date.month
    with ctx.runtime.sessions() as session:
        judged_before = has_levels(session, month)
    judged = 0
    if month_end or not judged_before:
        rules = load_level_rules(level_rules_path(ctx.runtime.settings.data_dir))
        levels = assign_levels(rules, institution_metrics(level_facts(ctx.runtime, ctx.date)))
        judged = ctx.runtime.write(lambda s: record_levels(s, month, levels, now=ctx.now))
    pools = allocate_pools(ctx)
    quotas = None if pools is None else plan_pool_delivery(ctx, pools)
    next_day_quota = 0 if quotas is None else int(pc.sum(quotas["quota"]).as_py() or 0)
    return StepReport(
        "institutions",
        {
            "affiliations_changed": changed,
            "institutions_judged": judged,
            "pools_solved": 0 if pools is None else len(set(pools["institution_id"].to_pylist())),
            "pool_impressions": 0 if pools is None else int(pc.sum(pools["impressions"]).as_py()),
            "pool_quota_next_day": next_day_quota,
        },
    )


def allocate_pools(ctx: CycleContext) -> pa.Table | None:
    """Fund and solve the day's institution pools; the allocation (also kept as a snapshot),
    None when no institution has a traffic budget on the date."""
    root = ctx.snapshots
    fitted = snapshot_path(root, CURVES, ctx.date).exists()
    curves = read_snapshot(root, CURVES, ctx.date) if fitted else None
    with ctx.runtime.sessions() as session:
        plan = pool_plan(session, ctx.date, curves)
        starts = {b.institution_id: b.starts_on for b in traffic_budgets(session, ctx.date)}
    if plan is None:
        return None
    ctx.runtime.write(lambda s: fund_traffic_pools(s, plan.budgets, starts, now=ctx.now))
    impressions = solve_pools(plan.members, plan.budgets, plan.rules, plan.days)
    table = pool_table(plan.members, impressions)
    write_snapshot(root, POOLS_SNAPSHOT, ctx.date, table)
    return table


def plan_pool_delivery(ctx: CycleContext, pools: pa.Table) -> pa.Table:
    """The next day's quotas from the pools' allocation, paced on what was delivered from
    them so far (kept as the next day's directed plan for the boost service)."""
    next_day = ctx.date + dt.timedelta(days=1)
    with ctx.runtime.sessions() as session:
        budgets = traffic_budgets(session, ctx.date)
        delivered = pool_deliveries(session, budgets)
    plan = directed_plan(pools, budgets, delivered, next_day)
    write_snapshot(ctx.snapshots, DIRECTED_PLAN, next_day, plan)
    return plan


def level_facts(runtime: Runtime, date: dt.date) -> pa.Table:
    """One row per (institution, creator) contracted at the window's start or end, with what
    levels are judged on (see :mod:`guanghe.institutions.levels`)."""
    first = date - dt.timedelta(days=WINDOW_DAYS - 1)
    window_end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    window_start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    with runtime.sessions() as session:
        at_end = contracted_on(session, date)
        at_start = contracted_on(session, first)
        duplicates = duplicates_by_creator(session, window_start, window_end)
        days = settled_days(session, first, date)
        income = {c: sum(by.values()) for c, by in creator_income(session, days).items()}
    pairs = sorted(set(at_end.items()) | set(at_start.items()), key=lambda p: (p[1], p[0]))
    creator = np.array([c for c, _ in pairs], dtype=np.int64)
    root = runtime.settings.snapshots_dir
    features = _by_creator(
        read_snapshot(root, FEATURES, date),
        creator,
        ("works_28d", "follows_28d", "unfollows_28d", "follower_count"),
    )
    growth = _by_creator(read_snapshot(root, GROWTH, date), creator, ("quality",))
    return pa.table(
        {
            "institution_id": pa.array([i for _, i in pairs], pa.int64()),
            "creator_id": pa.array(creator, pa.int64()),
            "contracted_at_start": pa.array([at_start.get(c) == i for c, i in pairs]),
            "contracted_at_end": pa.array([at_end.get(c) == i for c, i in pairs]),
            "works": pa.array(features["works_28d"], pa.int64()),
            "duplicates": pa.array([duplicates.get(c, 0) for c, _ in pairs], pa.int64()),
            "net_follows": pa.array(
                features["follows_28d"] - features["unfollows_28d"], pa.int64()
            ),
            "followers": pa.array(features["follower_count"], pa.int64()),
            "quality": pa.array(growth["quality"], pa.float64()),
            "earnings_fen": pa.array([income.get(c, 0) for c, _ in pairs], pa.int64()),
        }
    )


def _by_creator(
    table: pa.Table, creator: np.ndarray, columns: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """``columns`` of ``table`` as floats aligned with ``creator`` (0 where it lacks one)."""
    ids = table["creator_id"].to_numpy().astype(np.int64)
    if ids.size == 0:
        return {name: np.zeros(creator.size) for name in columns}
    order = np.argsort(ids)
    position = np.searchsorted(ids[order], creator).clip(0, ids.size - 1)
    row = order[position]
    hit = ids[row] == creator
    return {
        name: np.where(
            hit, np.nan_to_num(table[name].to_numpy(zero_copy_only=False).astype(float))[row], 0.0
        )
        for name in columns
    }
