"""The cycle's ``traffic`` step: settle the day's boost deliveries, fit response curves, and
plan the next day's traffic support.

For cycle date ``D`` and the next day ``N = D + 1``:

1. ``D``'s delivered boosted impressions are posted to the ledger;
2. every creator's response curve is fitted on the last :data:`HISTORY_DAYS` days of events
   (snapshot ``response_curves`` of ``D``);
3. the budgets of the period covering ``N`` are read (the programme's defaults are set when
   operators set none) and funded in the ledger;
4. the period's allocation is solved once, on the first cycle that plans a day of it (snapshot
   ``traffic_allocation`` dated the period's first day), with the incentive programmes'
   traffic rewards paid before the period as those creators' floors, and the policy of each
   experiment running on that day applied to its treated creators (their arms recorded);
5. ``N``'s pacing plan spreads each creator's undelivered allocation over the days left
   (snapshot ``traffic_plan`` of ``N``), which the boost service serves.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.experiments import TreatedCreators, treated_creators
from guanghe.incentives import claim_traffic_floors
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.engines import spark_session
from guanghe.pipelines.growth_step import SNAPSHOT as GROWTH
from guanghe.pipelines.reports import Problem, StepReport
from guanghe.runtime import Runtime
from guanghe.snapshots import read_snapshot, snapshot_path, write_snapshot
from guanghe.store import Creator
from guanghe.traffic import Allocation, AllocationProblem, solve_on_spark
from guanghe.traffic.budgets import ensure_budgets, fund_pools
from guanghe.traffic.deliveries import delivered_by_creator, settle_deliveries
from guanghe.traffic.planning import (
    ArmPolicy,
    Arms,
    Members,
    Period,
    allocation_table,
    assign_pools,
    pacing_quotas,
    period_problem,
    solve_period,
)
from guanghe.traffic.programs import Programs, load_programs, programs_path
from guanghe.traffic.response import ResponseCurves, daily_activity, fit_response
from guanghe.vocabulary import STAGES

CURVES: Final = "response_curves"
ALLOCATION: Final = "traffic_allocation"
PLAN: Final = "traffic_plan"
HISTORY_DAYS: Final = 56


def run(ctx: CycleContext) -> StepReport:
    """Settle the date's deliveries and plan the next day (needs the date's growth snapshot)."""
    runtime, date, now, root = ctx.runtime, ctx.date, ctx.now, ctx.snapshots
    programs = load_programs(programs_path(runtime.settings.data_dir))
    next_day = date + dt.timedelta(days=1)

    pool_of = {}
    if snapshot_path(root, PLAN, date).exists():
        plan = read_snapshot(root, PLAN, date)
        pool_of = dict(zip(plan["creator_id"].to_pylist(), plan["pool"].to_pylist(), strict=True))
    settled = runtime.write(lambda s: settle_deliveries(s, programs, date, pool_of, now=now))

    members = load_members(runtime, date)
    curves = fit_curves(runtime, members, date)
    write_snapshot(root, CURVES, date, curves.to_arrow())

    in_pools = np.bincount(assign_pools(programs, members), minlength=len(programs.pools))

    def fund(session: Session) -> tuple[Period, dict[str, int]]:
        period, budgets = ensure_budgets(session, programs, next_day, in_pools.tolist(), now=now)
        fund_pools(session, programs, period, budgets, now=now)
        return period, budgets

    period, budgets = runtime.write(fund)
    solved = not snapshot_path(root, ALLOCATION, period.starts_on).exists()
    if solved:
        floors = runtime.write(lambda s: claim_traffic_floors(s, period.starts_on))
        experiments = runtime.write(
            lambda s: treated_creators(s, members.creator_id, period.starts_on)
        )
        problem = period_problem(
            programs, members, curves, budgets, period.days, floors, traffic_arms(experiments)
        )
        allocation = solve_allocation(ctx, problem)
        write_snapshot(
            root, ALLOCATION, period.starts_on, allocation_table(problem, members, allocation)
        )
    allocated = read_snapshot(root, ALLOCATION, period.starts_on)
    with runtime.sessions() as session:
        delivered = delivered_by_creator(session, period.starts_on, date)
    plan = day_plan(programs, allocated, delivered, budgets, period, next_day)
    write_snapshot(root, PLAN, next_day, plan)
    unplannable = json.loads((allocated.schema.metadata or {}).get(b"unplannable", b"{}"))
    return StepReport(
        "traffic",
        {
            "delivery_transfers": settled,
            "curves_fitted": len(members.creator_id),
            "allocation_solved": int(solved),
            "creators_planned": plan.num_rows,
            "impressions_planned": int(pc.sum(plan["quota"]).as_py() or 0),
        },
        tuple(
            Problem("pool", pool, f"{impressions:,} budgeted impressions have no member to go to")
            for pool, impressions in sorted(unplannable.items())
        ),
    )


def traffic_arms(treated: TreatedCreators) -> Arms:
    """The running experiments' treatment arms as the allocation reads them."""
    return Arms(
        arm=treated.arm,
        policies=tuple(
            ArmPolicy(
                name=e.key,
                pool_weights=e.policy.pool_weights,
                pool_shares=e.policy.pool_shares,
                exploration_share=e.policy.exploration_share,
            )
            for e in treated.experiments
        ),
    )


def solve_allocation(ctx: CycleContext, problem: AllocationProblem) -> Allocation:
    """The period's allocation: in process, or with ``--engine spark`` on the Spark cluster of
    ``GUANGHE_SPARK_MASTER`` (the creators travel as Parquet under the scratch directory)."""
    if ctx.batch_engine != "spark":
        return solve_period(problem)
    settings = ctx.runtime.settings
    session = spark_session(settings.spark_master)
    try:
        return solve_on_spark(problem, session, settings.scratch_dir)
    finally:
        session.stop()


def load_members(runtime: Runtime, date: dt.date) -> Members:
    """The creators assessed on ``date`` with what places them in pools and groups."""
    growth = read_snapshot(runtime.settings.snapshots_dir, GROWTH, date)
    creator_id = growth["creator_id"].to_numpy().astype(np.int64)
    with runtime.sessions() as session:
        signed_ids = np.array(
            session.scalars(select(Creator.id).where(Creator.institution_id.is_not(None))).all(),
            dtype=np.int64,
        )
    return Members(
        creator_id=creator_id,
        vertical_id=growth["vertical_id"].to_numpy().astype(np.int64),
        stage=np.asarray(growth["stage"].to_pylist(), dtype=np.str_),
        high_quality=growth["in_pool"].to_numpy(zero_copy_only=False).astype(bool),
        signed=np.isin(creator_id, signed_ids),
        quality=growth["quality"].to_numpy(zero_copy_only=False).astype(np.float64),
    )


def fit_curves(runtime: Runtime, members: Members, date: dt.date) -> ResponseCurves:
    """Response curves of ``members`` from the last :data:`HISTORY_DAYS` days up to ``date``."""
    first = date - dt.timedelta(days=HISTORY_DAYS - 1)
    activity = daily_activity(runtime.event_log, first, date)
    stage_code = np.array([STAGES.index(s) for s in members.stage.tolist()], dtype=np.int64)
    cell = members.vertical_id * len(STAGES) + stage_code
    return fit_response(activity, members.creator_id, cell, covariates=members.quality[:, None])


def day_plan(
    programs: Programs,
    allocated: pa.Table,
    delivered: tuple[np.ndarray, np.ndarray],
    budgets: dict[str, int],
    period: Period,
    day: dt.date,
) -> pa.Table:
    """The pacing plan of ``day``: the allocation's rows with delivered-so-far and quota."""
    creator_id = allocated["creator_id"].to_numpy().astype(np.int64)
    names = programs.pool_names
    pool = np.array([names.index(p) for p in allocated["pool"].to_pylist()], dtype=np.int64)
    ids, amounts = delivered
    so_far = np.zeros(creator_id.shape[0], np.int64)
    if ids.shape[0]:
        at = np.minimum(np.searchsorted(ids, creator_id), ids.shape[0] - 1)
        hit = ids[at] == creator_id
        so_far[hit] = amounts[at[hit]]
    impressions = allocated["impressions"].to_numpy().astype(np.int64)
    quota = pacing_quotas(
        impressions,
        so_far,
        pool,
        np.array([budgets.get(name, 0) for name in names], dtype=np.int64),
        period.days_left(day),
    )
    return pa.table(
        {
            "creator_id": creator_id,
            "pool": allocated["pool"],
            "vertical_id": allocated["vertical_id"],
            "stage": allocated["stage"],
            "allocated": impressions,
            "delivered": so_far,
            "quota": quota,
            "expected_follows": allocated["expected_follows"],
        }
    ).replace_schema_metadata(
        {
            "period_starts_on": period.starts_on.isoformat(),
            "period_ends_on": period.ends_on.isoformat(),
            "unplannable": (allocated.schema.metadata or {}).get(b"unplannable", b"{}"),
        }
    )
