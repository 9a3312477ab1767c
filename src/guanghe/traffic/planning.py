"""Planning: from creators, response curves and pool budgets to a period's allocation, and from
the allocation and what was delivered so far to each day's pacing quotas.

A period's problem spends each pool's budget over the period's ``k`` days. A creator boosted
evenly over the period gains ``k * a * (1 - exp(-x / (k * s)))`` follows from ``x`` impressions
(the daily curve ``a, s`` applied ``k`` times), so the period problem is the allocation problem
with saturation ``k * a`` and scale ``k * s``; the programme's daily floors and caps become
``k`` times larger. Each day's quota is the creator's undelivered allocation spread over the days
left, scaled down where the pool has already spent more than planned: yesterday's under-delivery
is caught up, over-delivery is taken back.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from guanghe.errors import InvalidInput
from guanghe.traffic.allocation import Allocation, TrafficAllocator
from guanghe.traffic.problem import AllocationProblem, unplannable_budgets
from guanghe.traffic.programs import Programs
from guanghe.traffic.response import ResponseCurves

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Period:
    """Days ``starts_on..ends_on`` (inclusive)."""

    starts_on: dt.date
    ends_on: dt.date

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    def days_left(self, day: dt.date) -> int:
        """Days of the period from ``day`` to its end, ``day`` included."""
        return (self.ends_on - day).days + 1


@dataclass(frozen=True, slots=True)
class Members:
    """The creators a plan may support, with what decides their pool and group (aligned)."""

    creator_id: IntArray
    vertical_id: IntArray
    stage: NDArray[np.str_]
    high_quality: BoolArray
    signed: BoolArray  # signed to an institution
    quality: FloatArray  # the growth assessment's quality score, 0..1
    #: Whether the creator has a work the feed can boost (``None``: everyone has). A creator
    #: without one gets no floor, cap or quota: impressions planned for them cannot be delivered.
    boostable: BoolArray | None = None

    def boostable_mask(self) -> BoolArray:
        """:attr:`boostable`, all true when not given."""
        if self.boostable is None:
            return np.ones(self.creator_id.shape[0], dtype=np.bool_)
        return np.asarray(self.boostable, dtype=np.bool_)


@dataclass(frozen=True, slots=True)
class ArmPolicy:
    """What an experiment's treatment arm changes in the allocation (see
    :class:`guanghe.experiments.ExperimentPolicy`): factors by pool name on the value of a
    follow and on the arm's head-count share of the pool's budget, and the share of the arm's
    budget spread over its creators whose curve has no boosted evidence."""

    name: str
    pool_weights: Mapping[str, float]
    pool_shares: Mapping[str, float]
    exploration_share: float


@dataclass(frozen=True, slots=True)
class Arms:
    """Experiment arms of the members: ``arm[i]`` indexes ``policies`` (-1: no treatment)."""

    arm: IntArray
    policies: tuple[ArmPolicy, ...]


#: Separates a pool's name from a treatment arm's in the problem's pool names.
ARM_SEPARATOR = "@"


def assign_pools(programs: Programs, members: Members) -> IntArray:
    """Each creator's pool index: the first pool whose rule the creator meets."""
    pool = np.full(members.creator_id.shape[0], -1, np.int64)
    for index, spec in reversed(list(enumerate(programs.pools))):
        meets = {
            "novice": members.stage == "novice",
            "high_quality": members.high_quality,
            "institution": members.signed,
            "everyone": np.ones_like(members.signed),
        }[spec.rule]
        pool[meets] = index
    return pool


def default_budgets(
    programs: Programs, creators: int, days: int, pool_members: Sequence[int]
) -> dict[str, int]:
    """The programme's default budget of each pool for a period of ``days`` days.

    The total is ``daily_impressions_per_creator * creators * days``, split by each pool's
    ``share``. A pool without members (``pool_members[k] == 0``) could plan nothing, so its
    share flows to the next pool in eligibility order that has members (after the last pool,
    back to the first); only when no pool has members does every pool get its plain share.
    """
    if len(pool_members) != len(programs.pools):
        raise InvalidInput("pool_members must give one count per pool of the programme")
    total = programs.period.daily_impressions_per_creator * creators * days
    shares = [pool.share for pool in programs.pools]
    n = len(shares)
    if any(count > 0 for count in pool_members):
        for k in range(n):
            if pool_members[k] == 0:
                heir = next(j % n for j in range(k + 1, k + n) if pool_members[j % n] > 0)
                shares[heir] += shares[k]
                shares[k] = 0.0
    return {
        pool.name: int(total * share) for pool, share in zip(programs.pools, shares, strict=True)
    }


def period_problem(
    programs: Programs,
    members: Members,
    curves: ResponseCurves,
    budgets: dict[str, int],
    days: int,
    reward_floors: Mapping[int, int] | None = None,
    arms: Arms | None = None,
) -> AllocationProblem:
    """The allocation problem of a period of ``days`` days.

    ``curves`` must be aligned with ``members``. Pools without a budget get none.
    ``reward_floors`` are boosted impressions tasks and incentive programmes rewarded creators
    with, claimed for this period (:func:`guanghe.traffic.floors.claim_reward_floors`, which
    also adds them to the pools' ``budgets``): such a creator's floor is at least the reward,
    and their cap at least their floor. A pool's floors are scaled down to
    fit its budget, and a vertical's cap is at least its floors, so the problem is always
    feasible. Members without a boostable work (:attr:`Members.boostable`) get floor and cap
    0, so their pool's budget goes to those who can use it.

    With ``arms``, each treatment arm is a pool of its own within every programme pool
    (named ``<pool>@<arm>``): its budget is its head-count share of the pool's budget times
    the policy's ``pool_shares`` factor, the untreated members share the rest, so a policy
    moves no impressions between arms except by its share; treated members' follows are
    valued by ``pool_weights``, and ``exploration_share`` of the arm's budget raises the
    floors of its members without boosted evidence evenly (within their caps).
    """
    pool = assign_pools(programs, members)
    specs = programs.pools
    pool_budgets = np.array([float(budgets.get(p.name, 0)) for p in specs])
    floor = np.array([float(p.min_daily_impressions * days) for p in specs])[pool]
    cap = np.array([float(p.max_daily_impressions * days) for p in specs])[pool]
    weight = np.array([p.weight for p in specs])[pool]
    pool_names = programs.pool_names
    if reward_floors:
        owed = np.array([reward_floors.get(int(c), 0) for c in members.creator_id], float)
        floor = np.maximum(floor, owed)
        cap = np.maximum(cap, floor)
    unboostable = ~members.boostable_mask()
    floor[unboostable] = 0.0
    cap[unboostable] = 0.0
    if arms is not None and arms.policies:
        pool, pool_names, pool_budgets, weight, floor = split_arms(
            arms, pool, pool_names, pool_budgets, weight, floor, cap, curves.boosted_days
        )
    floor_total = np.bincount(pool, weights=floor, minlength=len(pool_names))
    fits = np.where(
        floor_total > 0, np.minimum(1.0, pool_budgets / np.maximum(floor_total, 1.0)), 1.0
    )
    floor = np.floor(floor * fits[pool])
    groups, group = np.unique(members.vertical_id, return_inverse=True)
    group_floor = np.bincount(group, weights=floor, minlength=groups.shape[0])
    group_caps = np.maximum(programs.period.max_vertical_share * pool_budgets.sum(), group_floor)
    return AllocationProblem(
        creator_id=members.creator_id.astype(np.int64),
        pool=pool,
        group=group.astype(np.int64),
        weight=weight,
        saturation=curves.saturation * days,
        scale=curves.scale * days,
        floor=floor,
        cap=cap,
        pool_names=pool_names,
        pool_budgets=pool_budgets,
        group_names=tuple(str(v) for v in groups.tolist()),
        group_caps=group_caps,
    )


def split_arms(
    arms: Arms,
    pool: IntArray,
    pool_names: tuple[str, ...],
    pool_budgets: FloatArray,
    weight: FloatArray,
    floor: FloatArray,
    cap: FloatArray,
    boosted_days: IntArray,
) -> tuple[IntArray, tuple[str, ...], FloatArray, FloatArray, FloatArray]:
    """Pools split by treatment arm (see :func:`period_problem`): the new pool per member,
    the pool names and budgets, and the members' weights and floors."""
    n_pools, n_arms = len(pool_names), len(arms.policies)
    column = arms.arm + 1  # 0: untreated
    split = pool * (n_arms + 1) + column
    count = np.bincount(split, minlength=n_pools * (n_arms + 1)).reshape(n_pools, n_arms + 1)
    members = np.maximum(count.sum(axis=1), 1)
    budget = np.zeros((n_pools, n_arms + 1))
    weight = weight.copy()
    floor = floor.copy()
    for a, policy in enumerate(arms.policies, start=1):
        factor = np.array([policy.pool_shares.get(name, 1.0) for name in pool_names])
        budget[:, a] = pool_budgets * count[:, a] / members * factor
        mine = column == a
        weights = np.array([policy.pool_weights.get(name, 1.0) for name in pool_names])
        weight[mine] *= weights[pool[mine]]
    treated_total = budget[:, 1:].sum(axis=1)
    over = treated_total > pool_budgets
    budget[over, 1:] *= (pool_budgets[over] / np.maximum(treated_total[over], 1.0))[:, None]
    budget[:, 0] = np.maximum(pool_budgets - budget[:, 1:].sum(axis=1), 0.0)
    budget = np.floor(budget)
    for a, policy in enumerate(arms.policies, start=1):
        unknown = (column == a) & (boosted_days == 0)
        if policy.exploration_share <= 0 or not unknown.any():
            continue
        per_pool = policy.exploration_share * budget[:, a]
        spread = per_pool / np.maximum(np.bincount(pool[unknown], minlength=n_pools), 1)
        floor[unknown] = np.maximum(floor[unknown], np.minimum(cap[unknown], spread[pool[unknown]]))
    names = tuple(
        name if a == 0 else f"{name}{ARM_SEPARATOR}{arms.policies[a - 1].name}"
        for name in pool_names
        for a in range(n_arms + 1)
    )
    return split.astype(np.int64), names, budget.reshape(-1), weight, np.floor(floor)


def solve_period(problem: AllocationProblem) -> Allocation:
    """The period's optimal allocation in whole impressions."""
    return TrafficAllocator().solve(problem)


def allocation_table(
    problem: AllocationProblem,
    members: Members,
    allocation: Allocation,
    explored: IntArray | None = None,
) -> pa.Table:
    """One row per creator: pool, experiment arm (``""``: none), vertical, stage, whether the
    creator has a boostable work (``boostable``), impressions, of them those spent exploring
    (``explored``, :mod:`~guanghe.traffic.exploration`; none by default), and expected follows,
    and what explains them: the period curve (``saturation``, ``scale``), the follow's
    ``weight``, ``floor`` and ``cap``, and the prices of the creator's pool (``pool_price``) and
    vertical cap (``group_price``) at the optimum of the exploiting part.

    The metadata hold the solve's figures and ``unplannable``: JSON ``{pool: impressions}`` of
    the budget of every pool that has one and no member (:func:`unplannable_budgets`).
    """
    expected = problem.saturation * -np.expm1(-allocation.impressions / problem.scale)
    metadata = {
        "objective": repr(allocation.objective),
        "duality_gap": repr(allocation.duality_gap),
        "max_violation": repr(allocation.max_violation),
        "unplannable": json.dumps(unplannable_budgets(problem)),
    }  # no solve time: a snapshot holds only what a re-run of its date reproduces
    names = [name.partition(ARM_SEPARATOR) for name in problem.pool_names]
    pool = problem.pool.tolist()
    return pa.table(
        {
            "creator_id": problem.creator_id,
            "pool": pa.array([names[k][0] for k in pool], pa.string()),
            "arm": pa.array([names[k][2] for k in pool], pa.string()),
            "vertical_id": members.vertical_id.astype(np.int64),
            "stage": pa.array(members.stage.tolist(), pa.string()),
            "boostable": members.boostable_mask(),
            "impressions": allocation.impressions,
            "explored": (np.zeros_like(allocation.impressions) if explored is None else explored),
            "expected_follows": expected,
            "saturation": problem.saturation,
            "scale": problem.scale,
            "weight": problem.weight,
            "floor": problem.floor,
            "cap": problem.cap,
            "pool_price": allocation.pool_prices[problem.pool],
            "group_price": allocation.group_prices[problem.group],
        }
    ).replace_schema_metadata(metadata)


def pacing_quotas(
    allocated: IntArray,
    delivered: IntArray,
    pool: IntArray,
    pool_budgets: IntArray,
    days_left: int,
) -> IntArray:
    """Today's quota per creator (aligned arrays; ``pool`` indexes ``pool_budgets``).

    ``delivered`` is what each creator got so far in the period. A creator's quota is their
    undelivered allocation over the ``days_left`` days (today included), scaled by the share of
    the pool's undelivered budget that is left for them; whole impressions, rounded down, so no
    pool ever plans past its budget.
    """
    n_pools = pool_budgets.shape[0]
    remaining = np.maximum(allocated - delivered, 0).astype(np.float64)
    pool_left = np.maximum(
        pool_budgets - np.bincount(pool, weights=delivered, minlength=n_pools), 0.0
    )
    wanted = np.bincount(pool, weights=remaining, minlength=n_pools)
    fits = np.where(wanted > 0, np.minimum(1.0, pool_left / np.maximum(wanted, 1.0)), 0.0)
    quota: IntArray = np.floor(remaining * fits[pool] / max(days_left, 1)).astype(np.int64)
    return quota
