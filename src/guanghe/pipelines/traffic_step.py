"""The cycle's ``traffic`` step: settle the day's boost deliveries, fit response curves, and
plan the next day's traffic support.

For cycle date ``D`` and the next day ``N = D + 1``:

1. ``D``'s delivered boosted impressions are posted to the ledger (the share of a creator's
   quota that came from an institution's Torch pool, the directed plan of ``D``, from that
   pool's account);
2. every creator's response curve is fitted on the last :data:`HISTORY_DAYS` days of events
   (snapshot ``response_curves`` of ``D``), the fit starting from where the previous day's
   ended (snapshot ``response_fit_start`` of ``D - 1``, when there is one; see
   :func:`guanghe.traffic.response.refit_response`), and where it ended kept for ``D + 1``;
3. the budgets of the period covering ``N`` are read (the programme's defaults are set when
   operators set none) and funded in the ledger;
4. the period's allocation is solved once, on the first cycle that plans a day of it (snapshot
   ``traffic_allocation`` dated the period's first day), with the boosted impressions that
   tasks and incentive programmes rewarded creators with before the period claimed from the
   creators' reward accounts into their pools' accounts and made those creators' floors
   (:mod:`guanghe.traffic.floors`; the pools' budgets grow by the claims), and the programme's
   ``exploration_share`` of every pool spent on a Thompson draw of the curves
   (:mod:`guanghe.traffic.exploration`; the draw is seeded with the period's first day), and
   the policy of each experiment running on that day applied to its treated creators (their
   arms recorded);
5. ``N``'s pacing plan spreads each creator's undelivered allocation over the days left
   (snapshot ``traffic_plan`` of ``N``; what directed pools delivered does not count against
   the platform's allocation), which the boost service serves with the directed quotas the
   ``institutions`` step adds.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.experiments import TreatedCreators, treated_creators
from guanghe.incentives import claim_traffic_floors
from guanghe.institutions.support import pool_account
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.engines import spark_session
from guanghe.pipelines.feature_step import kept_events_by_day
from guanghe.pipelines.growth_step import SNAPSHOT as GROWTH
from guanghe.pipelines.reports import Problem, StepReport
from guanghe.runtime import Runtime
from guanghe.snapshots import read_snapshot, snapshot_path, write_snapshot
from guanghe.store import Creator, Work, WorkOriginality
from guanghe.traffic import Allocation, AllocationProblem, solve_on_spark
from guanghe.traffic.budgets import ensure_budgets, fund_pools
from guanghe.traffic.deliveries import (
    DIRECTED_PLAN,
    Directed,
    delivered_by_creator,
    directed_by_creator,
    settle_deliveries,
)
from guanghe.traffic.exploration import ExploredAllocation, explore_and_exploit
from guanghe.traffic.floors import RewardFloors, claim_reward_floors, claimed_floors, with_claims
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
from guanghe.traffic.response import DailyActivity, FitStart, ResponseCurves, refit_response
from guanghe.vocabulary import STAGES

CURVES: Final = "response_curves"
ALLOCATION: Final = "traffic_allocation"
PLAN: Final = "traffic_plan"
FIT_START: Final = "response_fit_start"
HISTORY_DAYS: Final = 56


def run(ctx: CycleContext) -> StepReport:
    """Settle the date's deliveries and plan the next day (needs the date's growth snapshot)."""
    runtime, date, now, root = ctx.runtime, ctx.date, ctx.now, ctx.snapshots
    programs = load_programs(programs_path(runtime.settings.data_dir))
    next_day = date + dt.timedelta(days=1)

    pool_of, quota_of = {}, {}
    if snapshot_path(root, PLAN, date).exists():
        plan = read_snapshot(root, PLAN, date)
        pool_of = dict(zip(plan["creator_id"].to_pylist(), plan["pool"].to_pylist(), strict=True))
        quota_of = dict(zip(plan["creator_id"].to_pylist(), plan["quota"].to_pylist(), strict=True))
    directed = directed_shares(root, date, quota_of)
    settled = runtime.write(
        lambda s: settle_deliveries(s, programs, date, pool_of, directed=directed, now=now)
    )

    members = load_members(runtime, date)
    curves, start = fit_curves(runtime, members, date)
    write_snapshot(root, CURVES, date, curves.to_arrow())
    write_snapshot(root, FIT_START, date, start.to_arrow())

    member_pools = assign_pools(programs, members)
    boostable = members.boostable_mask()
    in_pools = np.bincount(member_pools[boostable], minlength=len(programs.pools))

    def fund(session: Session) -> tuple[Period, dict[str, int]]:
        period, budgets = ensure_budgets(session, programs, next_day, in_pools.tolist(), now=now)
        fund_pools(session, programs, period, budgets, now=now)
        return period, budgets

    period, budgets = runtime.write(fund)
    solved = not snapshot_path(root, ALLOCATION, period.starts_on).exists()
    if solved:

        def claim(session: Session) -> RewardFloors:
            claim_traffic_floors(session, period.starts_on)  # marks the enrolments honoured
            return claim_reward_floors(
                session, programs, period, members.creator_id, member_pools, now=now
            )

        floors = runtime.write(claim)
        experiments = runtime.write(
            lambda s: treated_creators(s, members.creator_id, period.starts_on)
        )
        problem = period_problem(
            programs,
            members,
            curves,
            with_claims(budgets, floors),
            period.days,
            floors.by_creator,
            traffic_arms(experiments),
        )
        solved_period = solve_allocation(ctx, problem, curves, programs, period)
        write_snapshot(
            root,
            ALLOCATION,
            period.starts_on,
            allocation_table(problem, members, solved_period.allocation, solved_period.explored),
        )
    allocated = read_snapshot(root, ALLOCATION, period.starts_on)
    with runtime.sessions() as session:
        delivered = platform_delivered(
            delivered_by_creator(session, period.starts_on, date),
            directed_by_creator(session, period.starts_on, date),
        )
        funded = with_claims(budgets, claimed_floors(session, programs, period))
    plan = day_plan(programs, allocated, delivered, funded, period, next_day)
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
            "creators_without_boostable_work": int((~boostable).sum()),
        },
        tuple(
            Problem("pool", pool, f"{impressions:,} budgeted impressions have no member to go to")
            for pool, impressions in sorted(unplannable.items())
        )
        + unboostable_problems(members),
    )


def unboostable_problems(members: Members) -> tuple[Problem, ...]:
    """One line for the creators planned no boost because they have no boostable work."""
    without = members.creator_id[~members.boostable_mask()]
    if without.shape[0] == 0:
        return ()
    shown = ", ".join(str(c) for c in without[:5].tolist())
    more = f" and {without.shape[0] - 5:,} more" if without.shape[0] > 5 else ""
    return (
        Problem(
            "creators",
            f"{without.shape[0]:,}",
            f"no quota: no boostable work (none published, or all judged duplicates): "
            f"creators {shown}{more}",
        ),
    )


def directed_shares(root: Path, day: dt.date, quota_of: dict[int, int]) -> dict[int, Directed]:
    """The share of each creator's deliveries on ``day`` that the institution pools directed
    (their quota in the day's directed plan over their whole quota that day)."""
    if not snapshot_path(root, DIRECTED_PLAN, day).exists():
        return {}
    shares = {}
    for row in read_snapshot(root, DIRECTED_PLAN, day).to_pylist():
        creator, quota = int(row["creator_id"]), int(row["quota"])
        if quota > 0 and creator in quota_of:
            shares[creator] = Directed(
                pool_account(int(row["institution_id"]), row["pool_starts_on"]),
                quota / (quota + quota_of[creator]),
            )
    return shares


def platform_delivered(
    delivered: tuple[np.ndarray, np.ndarray], directed: dict[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """``delivered`` (creator ids, impressions) less what directed pools paid for."""
    ids, amounts = delivered
    less = np.array([directed.get(int(c), 0) for c in ids.tolist()], dtype=np.int64)
    return ids, np.maximum(amounts - less, 0)


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


def solve_allocation(
    ctx: CycleContext,
    problem: AllocationProblem,
    curves: ResponseCurves,
    programs: Programs,
    period: Period,
) -> ExploredAllocation:
    """The period's allocation with the programme's ``exploration_share`` spent on a Thompson
    draw of the curves (seeded with the period's first day), and the explored part: each solve
    in process, or with ``--engine spark`` on the Spark cluster of ``GUANGHE_SPARK_MASTER``
    (the creators travel as Parquet under the scratch directory)."""
    share = programs.period.exploration_share
    rng = np.random.default_rng(period.starts_on.toordinal())
    settings = ctx.runtime.settings
    session = spark_session(settings.spark_master) if ctx.batch_engine == "spark" else None

    def solve(part: AllocationProblem) -> Allocation:
        if session is None:
            return solve_period(part)
        return solve_on_spark(part, session, settings.scratch_dir)

    try:
        if share == 0.0:
            return ExploredAllocation.unexplored(solve(problem))
        return explore_and_exploit(problem, curves, share, rng, days=period.days, solve=solve)
    finally:
        if session is not None:
            session.stop()


def load_members(runtime: Runtime, date: dt.date) -> Members:
    """The creators assessed on ``date`` with what places them in pools and groups, and whether
    each has a boostable work (:func:`boostable_creators`)."""
    growth = read_snapshot(runtime.settings.snapshots_dir, GROWTH, date)
    creator_id = growth["creator_id"].to_numpy().astype(np.int64)
    with runtime.sessions() as session:
        signed_ids = np.array(
            session.scalars(select(Creator.id).where(Creator.institution_id.is_not(None))).all(),
            dtype=np.int64,
        )
        boostable = boostable_creators(session)
    return Members(
        creator_id=creator_id,
        vertical_id=growth["vertical_id"].to_numpy().astype(np.int64),
        stage=np.asarray(growth["stage"].to_pylist(), dtype=np.str_),
        high_quality=growth["in_pool"].to_numpy(zero_copy_only=False).astype(bool),
        signed=np.isin(creator_id, signed_ids),
        quality=growth["quality"].to_numpy(zero_copy_only=False).astype(np.float64),
        boostable=np.isin(creator_id, boostable),
    )


def boostable_creators(session: Session) -> np.ndarray:
    """Ids of the creators with a work the feed can boost: one that is not judged a duplicate
    (:func:`guanghe.originality.duplicate_work_ids`). The boost service weighs a creator's
    works, so a creator with none gets no delivery whatever their quota."""
    duplicates = select(WorkOriginality.work_id).where(WorkOriginality.verdict == "duplicate")
    ids = session.scalars(select(Work.creator_id).where(Work.id.not_in(duplicates)).distinct())
    return np.array(sorted(ids.all()), dtype=np.int64)


def fit_curves(
    runtime: Runtime, members: Members, date: dt.date
) -> tuple[ResponseCurves, FitStart]:
    """Response curves of ``members`` from the last :data:`HISTORY_DAYS` days up to ``date``,
    started from the previous day's fit when it was kept, and where the next day's starts."""
    first = date - dt.timedelta(days=HISTORY_DAYS - 1)
    activity = recent_activity(runtime, first, date)
    stage_code = np.array([STAGES.index(s) for s in members.stage.tolist()], dtype=np.int64)
    cell = members.vertical_id * len(STAGES) + stage_code
    root, before = runtime.settings.snapshots_dir, date - dt.timedelta(days=1)
    kept = snapshot_path(root, FIT_START, before).exists()
    start = FitStart.from_arrow(read_snapshot(root, FIT_START, before)) if kept else None
    return refit_response(
        activity, members.creator_id, cell, covariates=members.quality[:, None], start=start
    )


def recent_activity(runtime: Runtime, first: dt.date, last: dt.date) -> DailyActivity:
    """:func:`~guanghe.traffic.response.daily_activity` of ``[first, last]``, from the events'
    days the features step keeps (:func:`~guanghe.pipelines.feature_step.kept_events_by_day`)
    rather than the raw events: its creator-days with an exposure or a follow (each event
    counts at least one)."""
    days = kept_events_by_day(
        runtime, first, last, ["creator_id", "exposures_organic", "exposures_boosted", "follows"]
    )

    def column(name: str) -> np.ndarray:
        values: np.ndarray = days[name].to_numpy().astype(np.float64)
        return values

    organic, boosted, follows = (
        column(n) for n in ("exposures_organic", "exposures_boosted", "follows")
    )
    seen = (organic > 0) | (boosted > 0) | (follows > 0)
    creator_id = days["creator_id"].to_numpy().astype(np.int64)
    return DailyActivity(creator_id[seen], organic[seen], boosted[seen], follows[seen])


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
