"""The allocation solver: optimality (KKT, reference), feasibility after rounding, errors."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, minimize

from guanghe.errors import InvalidInput
from guanghe.traffic import Allocation, AllocationProblem, TrafficAllocator, _kernels
from guanghe.traffic.problem import _repeated_id
from guanghe.traffic.rounding import round_allocation
from tests.traffic.strategies import objective, problems, shaped_problems


def usage(problem: AllocationProblem, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = problem
    return (
        np.bincount(p.pool, x, len(p.pool_names)),
        np.bincount(p.group, x, len(p.group_names)),
    )


@settings(max_examples=150, deadline=None)
@given(problems())
def test_kkt_conditions_hold(problem: AllocationProblem) -> None:
    assert_optimal(problem, TrafficAllocator().solve(problem))


@settings(max_examples=40, deadline=None)
@given(problems(max_creators=4000, min_creators=500))
def test_kkt_conditions_hold_when_the_dual_starts_on_a_sample(problem: AllocationProblem) -> None:
    """Problems large enough that the prices are first found on a sample of the creators
    (whose scaled-up floors may not even fit the tight group caps)."""
    assert_optimal(problem, TrafficAllocator().solve(problem))


@settings(max_examples=40, deadline=None)
@given(shaped_problems())
def test_any_shape_solves_optimally_within_every_limit(problem: AllocationProblem) -> None:
    """Pools and groups from balanced to lopsided, curves of five families and spreads,
    floors, caps, budgets from starved to slack: optimal, and whole impressions within every
    limit (found here: a rounding that took back one unit per creator a round ran for minutes
    when the relaxed solution overshot a cap by many units)."""
    r = TrafficAllocator().solve(problem)
    assert_optimal(problem, r)
    pools, groups = usage(problem, r.impressions.astype(np.float64))
    assert (pools <= problem.pool_budgets).all()
    assert (groups <= problem.group_caps).all()
    assert (r.impressions >= problem.floor).all()
    assert (r.impressions <= problem.cap).all()


#: Passes over all the creators a solve should need whatever the problem's distributions
#: (the solve's time is these passes plus O(n) rounding): on the cells' curves 2 or 3 (one
#: gathers the breakpoints, one or two exact passes check and polish the prices).
MAX_PASSES = 24


@settings(max_examples=60, deadline=None, derandomize=True)
@given(shaped_problems())
def test_any_shape_solves_in_few_passes(problem: AllocationProblem) -> None:
    r = TrafficAllocator().solve(problem)
    assert r.iterations <= MAX_PASSES
    assert r.max_violation <= 1e-9  # projected Newton stopped short on some of these shapes


def test_whole_impressions_mend_a_relaxed_solution_far_over_its_limits() -> None:
    """Taking back one unit per creator a round needed a round per unit of overshoot (minutes
    on a 3,000-creator shape whose relaxed solution was 33 times a cap); now one round."""
    n = 2_000
    rng = np.random.default_rng(5)
    pool, group = np.zeros(n, np.int64), rng.integers(0, 2, n)
    low = np.where(rng.random(n) < 0.5, 3, 0).astype(np.int64)
    high = np.full(n, 50_000, np.int64)
    x = rng.uniform(0, 40_000, n)  # far over both limits below
    limits = (np.array([20_000], np.int64), np.array([5_000, np.int64(2**62)], np.int64))
    gain = (rng.uniform(1, 100, n), rng.uniform(10, 1_000, n))
    few = slice(0, 2)  # compiled for whole bounds first (a hand-out from the floors): the
    # time is the rounding's alone
    round_allocation(
        np.zeros(2),
        pool[few],
        group[few],
        (low[few], high[few]),
        limits,
        (gain[0][few], gain[1][few]),
    )
    started = time.perf_counter()
    z = round_allocation(x, pool, group, (low, high), limits, gain)
    assert time.perf_counter() - started < 5.0  # the old loop: 20,000 rounds of a sort
    assert z.sum() <= 20_000
    assert z[group == 0].sum() <= 5_000
    assert (z >= low).all()
    assert (z <= high).all()


def exact_hand_out(
    z: np.ndarray,
    cap: np.ndarray,
    gain: tuple[np.ndarray, np.ndarray],
    membership: tuple[np.ndarray, np.ndarray],
    left: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """One hand-out round as its docstring says, every log gain computed exactly (``math``'s
    ``log`` and ``expm1``, as the kernel's own): the levels over their range, ties by index."""
    wa, scale = gain
    pool, group = membership
    left_pool, left_group = left[0].copy(), left[1].copy()
    z = z.copy()
    rows, logs = [], []
    for i in range(z.size):
        room = left_pool[pool[i]] > 0 and left_group[group[i]] > 0
        first = wa[i] * -math.expm1(-1.0 / scale[i])
        if room and z[i] < math.floor(cap[i]) and first > 0:
            rows.append(i)
            logs.append(math.log(first) - z[i] / scale[i])
    best, worst = max(logs), min(logs)
    levels = min(_kernels.GAIN_LEVELS, max(1024, 4 * len(rows)))
    width = (best - worst) / (levels - 1) if best > worst else 1.0
    level = [min(int((best - g) / width), levels - 1) for g in logs]
    for _, i in sorted(zip(level, rows, strict=True)):
        if left_pool[pool[i]] > 0 and left_group[group[i]] > 0:
            z[i] += 1
            left_pool[pool[i]] -= 1
            left_group[group[i]] -= 1
    return z


@pytest.mark.parametrize("case", ["spread", "ties", "narrow", "small scales", "edges"])
def test_the_hand_out_estimates_give_the_exact_order(case: str) -> None:
    """The hand-out estimates each unit's log gain from ``ln c`` (no ``log`` or ``expm1``)
    and computes the exact one only where the level could differ: the units go to the same
    creators as with every log gain exact, over ties, a range of gains narrower than the
    estimates' error, gains on the levels' edges, scales below the series' range and creators
    of no gain."""
    n = 30_000  # 4 n candidates or more: the most levels, 65,536
    rng = np.random.default_rng(11)
    pool, group = rng.integers(0, 3, n), rng.integers(0, 5, n)
    wa = np.where(rng.random(n) < 0.02, 0.0, rng.pareto(1.5, n) * 100 + 1)
    scale = rng.lognormal(6, 1.5, n)
    z = np.where(rng.random(n) < 0.5, 0, rng.integers(0, 5_000, n)).astype(np.int64)
    if case == "ties":  # a few curves and starts shared by many creators
        kind = rng.integers(0, 4, n)
        wa, scale, z = np.array([1.0, 2.0, 2.0, 0.0])[kind], np.full(n, 50.0), z % 3
    elif case == "narrow":  # gains within 1e-13 of each other: one level is ~1e-18 wide
        wa, scale, z = 1.0 + rng.uniform(0, 1e-13, n), np.full(n, 400.0), np.zeros(n, np.int64)
    elif case == "small scales":
        scale = rng.uniform(0.2, 8.0, n)
    elif case == "edges":  # log gains L - k / 64 for whole k: each on a level's edge
        # the best and worst (wa 10, s 64, z 0 and 65,535) make 65,535 levels of 1 / 64;
        # the others' curves are drawn to gain L - k / 64 at random s and z, k in 1..64: many
        # to a level, the cuts inside them; only the exact log gain tells an edge's side
        z = rng.integers(0, 1_000, n)
        k = rng.integers(1, 65, n)
        scale = rng.uniform(8.0, 4_000.0, n)
        z[:2], k[:2], scale[:2] = (0, 65_535), (0, 65_535), 64.0
        top = math.log(10.0 * -math.expm1(-1.0 / 64.0))
        wa = np.exp(top - k / 64.0 + z / scale) / -np.expm1(-1.0 / scale)
        wa[:2] = 10.0
        pool[:2], group[:2] = 0, 0
    cap = np.where(rng.random(n) < 0.1, z + 0.5, 1e6)  # a tenth with no whole unit of room
    left = (np.array([900, 400, 5_000], np.int64), np.array([300, 2_000, 0, 800, 10**9]))
    with np.errstate(divide="ignore"):
        lc = np.log(wa / scale)
    expected = exact_hand_out(z, cap, (wa, scale), (pool, group), left)
    got = z.copy()
    left_pool, left_group = left[0].copy(), left[1].copy()
    space = np.empty(got.size), np.empty(got.size, np.int64)
    given = _kernels.hand_out(got, cap, wa, scale, lc, pool, group, left_pool, left_group, space)
    assert np.array_equal(got, expected)
    assert given == (expected - z).sum() > 0


def test_a_price_many_orders_of_magnitude_small_is_found() -> None:
    """Found by Hypothesis: the pool's price must fall to about 1e-25, as its one creator
    able to move in the uncapped group responds over 2.4 impressions up to a cap of 10,000;
    steps in the price itself halve it for thousands of passes (the log-space polish)."""
    p = AllocationProblem(
        creator_id=np.array([46, 76, 19, 58, 12, 3, 60, 47]),
        pool=np.zeros(8, dtype=np.int64),
        group=np.array([1, 1, 0, 1, 1, 1, 0, 1]),
        weight=np.array([1.959026, 2.979483, 0.0, 2.277389, 2.981721, 2.630278, 2.678466, 0.0]),
        saturation=np.array(
            [96.2157, 89.2974, 55.7216, 25.8031, 39.7345, 26.9034, 7.1706, 12.6961]
        ),
        scale=np.array([15.5475, 15.4840, 42.0547, 19.3180, 35.2350, 33.7673, 2.4023, 3.9121]),
        floor=np.array([11.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 0.0]),
        cap=np.array([10011.0, 60.0, 10000.0, 38.0, 10000.0, 10000.0, 10000.0, 10000.0]),
        pool_names=("pool0",),
        pool_budgets=np.array([164.0]),
        group_names=("group0", "group1"),
        group_caps=np.array([np.inf, 19.0]),
    )
    assert_optimal(p, TrafficAllocator().solve(p))


def assert_optimal(p: AllocationProblem, r: Allocation) -> None:
    """KKT conditions, binding constraints met, no violation, no duality gap."""
    x = r.relaxed
    price = r.pool_prices[p.pool] + r.group_prices[p.group]
    marginal = p.weight * p.saturation / p.scale * np.exp(-x / p.scale)
    tol = 1e-7 * (1 + price)
    interior = (x > p.floor + 1e-7) & (x < p.cap - 1e-7)
    assert np.all(np.abs(marginal - price)[interior] <= tol[interior])
    assert np.all((marginal >= price - tol)[x > p.floor + 1e-7])
    assert np.all((marginal <= price + tol)[x < p.cap - 1e-7])
    pools, groups = usage(p, x)
    binding_p = r.pool_prices > 0
    assert np.allclose(pools[binding_p], p.pool_budgets[binding_p], rtol=1e-9, atol=1e-7)
    binding_g = r.group_prices > 0
    assert np.allclose(groups[binding_g], p.group_caps[binding_g], rtol=1e-9, atol=1e-7)
    assert r.max_violation <= 1e-9
    assert abs(r.duality_gap) <= 1e-9


@settings(max_examples=150, deadline=None)
@given(problems())
def test_whole_impressions_break_no_budget(problem: AllocationProblem) -> None:
    p, r = problem, TrafficAllocator().solve(problem)
    z = r.impressions
    assert z.dtype == np.int64
    assert np.all(z >= np.ceil(p.floor))
    assert np.all(z <= np.floor(p.cap))
    pools, groups = usage(p, z.astype(float))
    assert np.all(pools <= np.floor(p.pool_budgets))
    assert np.all(groups <= p.group_caps)
    assert r.rounded_objective <= r.objective * (1 + 1e-12) + 1e-9


@settings(max_examples=100, deadline=None)
@given(problems(), st.integers(0, 2**32 - 1))
def test_no_feasible_perturbation_is_better(problem: AllocationProblem, seed: int) -> None:
    p, r = problem, TrafficAllocator().solve(problem)
    rng = np.random.default_rng(seed)
    for _ in range(20):
        y = np.clip(r.relaxed + rng.normal(0, 1.0, p.n_creators), p.floor, p.cap)
        pools, groups = usage(p, y)
        if np.all(pools <= p.pool_budgets) and np.all(groups <= p.group_caps):
            assert objective(p, y) <= r.objective * (1 + 1e-9) + 1e-9


@settings(max_examples=40, deadline=None)
@given(problems(max_creators=6))
def test_matches_scipy_on_tiny_problems(problem: AllocationProblem) -> None:
    p, r = problem, TrafficAllocator().solve(problem)
    rows = [p.pool == k for k in range(len(p.pool_names))]
    limits = list(p.pool_budgets)
    for k in np.flatnonzero(np.isfinite(p.group_caps)):
        rows.append(p.group == k)
        limits.append(p.group_caps[k])
    gain = p.weight * p.saturation
    ref = minimize(
        lambda x: -np.sum(gain * -np.expm1(-x / p.scale)),
        x0=p.floor.copy(),
        jac=lambda x: -gain / p.scale * np.exp(-x / p.scale),
        hess=lambda x: np.diag(gain / p.scale**2 * np.exp(-x / p.scale)),
        bounds=Bounds(p.floor, p.cap),
        constraints=[LinearConstraint(np.array(rows, dtype=float), -np.inf, limits)],
        method="trust-constr",
        options={"gtol": 1e-12, "xtol": 1e-12, "maxiter": 5000},
    )
    assert r.objective >= -ref.fun - 1e-6 * max(1.0, abs(ref.fun))
    assert r.objective <= r.dual_objective * (1 + 1e-12) + 1e-9


def test_zero_weight_creator_stays_at_floor_and_slack_sends_to_cap() -> None:
    p = AllocationProblem.from_labels(
        creator_id=[1, 2, 3],
        pool=["hq", "hq", "new"],
        group=["food", "food", "games"],
        weight=[0.0, 1.0, 1.0],
        saturation=[5.0, 5.0, 5.0],
        scale=[10.0, 10.0, 10.0],
        floor=[3.0, 0.0, 0.0],
        cap=[50.0, 40.0, 30.0],
        pool_budgets={"hq": 1000.0, "new": 1000.0},
    )
    r = TrafficAllocator().solve(p)
    assert r.impressions.tolist() == [3, 40, 30]
    assert isinstance(r, Allocation)
    assert r.pool_prices.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("caps", "message"),
    [({}, "pool 'hq'"), ({"food": 5.0}, "group 'food'")],
)
def test_floors_above_a_budget_name_it(caps: dict[str, float], message: str) -> None:
    budgets = {"hq": 10.0 if not caps else 100.0, "new": 100.0}
    p = AllocationProblem.from_labels(
        creator_id=[1, 2],
        pool=["hq", "hq"],
        group=["food", "food"],
        weight=[1.0, 1.0],
        saturation=[5.0, 5.0],
        scale=[10.0, 10.0],
        floor=[6.0, 6.0],
        cap=[50.0, 40.0],
        pool_budgets=budgets,
        group_caps=caps,
    )
    with pytest.raises(InvalidInput, match=message):
        TrafficAllocator().solve(p)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scale": [0.0, 1.0]}, "scale of row 0"),
        ({"saturation": [-1.0, 1.0]}, "saturation of row 0"),
        ({"cap": [1.0, 0.5]}, "cap of row 1"),
        ({"weight": [np.nan, 1.0]}, "weight of row 0 must be finite"),
        ({"creator_id": [7, 7]}, "creator_id 7 appears more than once"),
        ({"pool": ["hq", "elsewhere"]}, "pool 'elsewhere'"),
    ],
)
def test_bad_input_is_rejected(change: dict[str, list[object]], message: str) -> None:
    fields: dict[str, object] = {
        "creator_id": [1, 2],
        "pool": ["hq", "hq"],
        "group": ["a", "b"],
        "weight": [1.0, 1.0],
        "saturation": [1.0, 1.0],
        "scale": [1.0, 1.0],
        "floor": [0.0, 1.0],
        "cap": [1.0, 2.0],
    } | change
    with pytest.raises(InvalidInput, match=message):
        AllocationProblem.from_labels(**fields, pool_budgets={"hq": 1.0})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ids", "repeated"),
    [
        ([1, 2, 3], None),
        ([3, 1, 2], None),
        ([3, 1, 3], 3),  # a bitmap over the span
        ([2**40, 5, -(2**40), 5], 5),  # too sparse for a bitmap: sorted
        ([2**62, -(2**62), 0], None),
    ],
)
def test_a_repeated_creator_id_is_found_whatever_the_ids_span(
    ids: list[int], repeated: int | None
) -> None:
    assert _repeated_id(np.array(ids, np.int64)) == repeated


def independent_pieces(rng: np.random.Generator, pieces: int) -> list[AllocationProblem]:
    """Problems of one or two pools each (two pools share their capped group), every pool
    and group with members: group 0 uncapped, group 1 capped."""
    out = []
    for _ in range(pieces):
        n_pools = int(rng.integers(1, 3))
        n = int(rng.integers(4, 60))
        pool = np.arange(n) % n_pools
        group = (np.arange(n) // n_pools) % 2
        floor = np.where(rng.random(n) < 0.2, np.round(rng.uniform(0, 20, n)), 0.0)
        cap = floor + np.where(rng.random(n) < 0.4, np.round(rng.uniform(0, 60, n)), 1e4)
        need_g = np.bincount(group, floor, 2)
        out.append(
            AllocationProblem(
                creator_id=np.arange(n, dtype=np.int64),
                pool=pool.astype(np.int64),
                group=group.astype(np.int64),
                weight=np.where(rng.random(n) < 0.1, 0.0, rng.uniform(0.1, 3.0, n)),
                saturation=rng.pareto(1.5, n) * 50 + rng.uniform(0, 5, n),
                scale=rng.lognormal(3, 1, n),
                floor=floor,
                cap=cap,
                pool_names=tuple(f"pool{k}" for k in range(n_pools)),
                pool_budgets=np.bincount(pool, floor, n_pools)
                + np.round(rng.uniform(0, 40 * n / n_pools, n_pools)),
                group_names=("open", "capped"),
                group_caps=np.array([np.inf, need_g[1] + np.round(rng.uniform(0, 30 * n))]),
            )
        )
    return out


def together(pieces: list[AllocationProblem]) -> AllocationProblem:
    """One problem of all ``pieces``: their pools and capped groups apart, one uncapped group
    shared by all (it has no price: it joins nothing) and an empty pool with a budget."""
    offsets = np.cumsum([0] + [len(q.pool_names) for q in pieces])
    sizes = np.cumsum([0] + [q.n_creators for q in pieces])
    pools = offsets[-1]

    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(q, name) for q in pieces])

    return AllocationProblem(
        creator_id=np.arange(sizes[-1], dtype=np.int64),
        pool=np.concatenate([q.pool + offsets[k] for k, q in enumerate(pieces)]),
        group=np.concatenate([np.where(q.group == 0, 0, k + 1) for k, q in enumerate(pieces)]),
        weight=joined("weight"),
        saturation=joined("saturation"),
        scale=joined("scale"),
        floor=joined("floor"),
        cap=joined("cap"),
        pool_names=tuple(f"pool{k}" for k in range(pools + 1)),
        pool_budgets=np.append(joined("pool_budgets"), 100.0),
        group_names=("open", *(f"capped{k}" for k in range(len(pieces)))),
        group_caps=np.array([np.inf, *(q.group_caps[1] for q in pieces)]),
    )


def assert_same_as_apart(pieces: list[AllocationProblem]) -> None:
    whole = together(pieces)
    r = TrafficAllocator().solve(whole)
    apart = [TrafficAllocator().solve(q) for q in pieces]
    assert np.array_equal(r.impressions, np.concatenate([a.impressions for a in apart]))
    assert np.array_equal(r.relaxed, np.concatenate([a.relaxed for a in apart]))
    assert np.array_equal(r.pool_prices[:-1], np.concatenate([a.pool_prices for a in apart]))
    assert r.pool_prices[-1] == 0.0  # the empty pool's budget binds nothing
    assert np.array_equal(r.group_prices[1:], [a.group_prices[1] for a in apart])
    # passes over the creators: the most any piece alone takes, not more with more pools
    assert r.iterations == max(a.iterations for a in apart)
    assert r.objective == pytest.approx(sum(a.objective for a in apart), rel=1e-12)
    assert r.dual_objective == pytest.approx(sum(a.dual_objective for a in apart), rel=1e-12)
    # as optimal as the pieces (whether each is, the tests above judge)
    assert r.max_violation == max(a.max_violation for a in apart)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 12))
def test_independent_pools_solve_in_one_call_as_apart(seed: int, pieces: int) -> None:
    """Pools that share no capped group are independent: one call allocates exactly what a
    call per piece does, in as many passes as the slowest piece."""
    assert_same_as_apart(independent_pieces(np.random.default_rng(seed), pieces))


def test_many_pools_in_one_call_as_apart() -> None:
    """500 institutions' pools in one call took 65 times the 500 calls (issue 18): the dual's
    dense cell-by-price matrix grew with pools x groups x prices."""
    assert_same_as_apart(independent_pieces(np.random.default_rng(18), 300))


def test_a_zero_price_over_its_budget_is_raised() -> None:
    """Found by the many-pools test: pool b's price stayed at zero with its creator of a steep
    curve at its cap of 10,000 (the budget is 135), and the solve stopped after 6,410 passes
    73 times over budget: at zero the price's Newton step sees no curvature, and any
    representable price moves that creator by thousands (the log-space polish now raises it)."""
    p = AllocationProblem(
        creator_id=np.arange(9, dtype=np.int64),
        pool=np.array([0, 1, 0, 1, 0, 1, 0, 1, 0]),
        group=np.array([0, 0, 1, 1, 0, 0, 1, 1, 0]),
        weight=np.array(
            [1.79942, 0.0, 1.16702, 2.14975, 1.51847, 2.31564, 1.51478, 2.85636, 0.99975]
        ),
        saturation=np.array(
            [90.3417, 7.5802, 23.0872, 26.4594, 79.7935, 19.7375, 10.0708, 28.7031, 4.3369]
        ),
        scale=np.array(
            [30.9300, 24.2958, 36.0714, 2.66636, 33.9026, 3.65917, 35.0853, 59.3668, 10.3351]
        ),
        floor=np.array([0.0, 0.0, 18.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]),
        cap=np.array([10000.0, 10000.0, 10018.0, 10000.0, 18.0, 10000.0, 32.0, 10000.0, 18.0]),
        pool_names=("a", "b"),
        pool_budgets=np.array([144.0, 135.0]),
        group_names=("open", "capped"),
        group_caps=np.array([np.inf, 27.0]),
    )
    r = TrafficAllocator().solve(p)
    assert_optimal(p, r)
    assert r.iterations <= 400
