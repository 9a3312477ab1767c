"""The dual-price assignment: within every limit, and close to the exact optimum."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.optimize import linprog

from guanghe.errors import InvalidInput
from guanghe.tasks.assignment import SlotAssignment

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


Instance = tuple[IntArray, FloatArray, BoolArray, IntArray, IntArray]


def _instance(seed: int, creators: int = 300, tasks: int = 12, width: int = 6) -> Instance:
    rng = np.random.default_rng(seed)
    task = np.stack([rng.choice(tasks, width, replace=False) for _ in range(creators)])
    value = rng.gamma(2.0, 50.0, (creators, width)) * (1 + task / tasks)
    novice = rng.random(creators) < 0.3
    capacity = rng.integers(5, 40, tasks)
    reserved = (capacity * 0.25).astype(np.int64)
    return task, value, novice, capacity, reserved


def _exact(
    task: IntArray,
    value: FloatArray,
    novice: BoolArray,
    capacity: IntArray,
    reserved: IntArray,
    k: int,
) -> float:
    n, width = task.shape
    m = capacity.shape[0]
    rows, cols = np.nonzero(np.ones_like(task, dtype=bool))
    a_creator = np.zeros((n, n * width))
    a_creator[rows, rows * width + cols] = 1
    a_task = np.zeros((m, n * width))
    a_task[task[rows, cols], rows * width + cols] = 1
    a_open = a_task * (~novice[rows])[None, :]
    res = linprog(
        -value.ravel(),
        A_ub=np.vstack([a_creator, a_task, a_open]),
        b_ub=np.concatenate([np.full(n, k), capacity, capacity - reserved]),
        bounds=(0, 1),
        method="highs",
    )
    return -float(res.fun)


@pytest.mark.parametrize("seed", range(4))
def test_within_limits_and_within_half_a_percent_of_the_lp_optimum(seed: int) -> None:
    task, value, novice, capacity, reserved = _instance(seed)
    result = SlotAssignment(max_per_creator=2).solve(task, value, novice, capacity, reserved)
    chosen = result.chosen
    assert (chosen.sum(axis=1) <= 2).all()
    used = np.bincount(task[chosen], minlength=capacity.shape[0])
    open_used = np.bincount(task[chosen & ~novice[:, None]], minlength=capacity.shape[0])
    assert (used <= capacity).all()
    assert (open_used <= capacity - reserved).all()
    optimum = _exact(task, value, novice, capacity, reserved, 2)
    assert result.value >= 0.995 * optimum
    # The certificate is honest: the dual bound is above the optimum, the gap is the bound's.
    assert result.dual_bound >= optimum - 1e-6 * optimum
    assert result.value == pytest.approx((1 - result.gap) * result.dual_bound)


def test_stops_on_the_gap_certificate_before_its_iteration_limit() -> None:
    task, value, novice, capacity, reserved = _instance(7, creators=2_000, tasks=40, width=8)
    result = SlotAssignment(max_per_creator=3, max_iter=500, tol=0.002).solve(
        task, value, novice, capacity, reserved
    )
    assert result.iterations < 500
    assert result.gap <= 0.002
    assert result.value >= 0.998 * _exact(task, value, novice, capacity, reserved, 3)


@given(st.integers(0, 10_000), st.integers(1, 4))
def test_never_exceeds_a_limit(seed: int, k: int) -> None:
    task, value, novice, capacity, reserved = _instance(seed, creators=60, tasks=5, width=4)
    task[::7, -1] = -1
    chosen = SlotAssignment(max_per_creator=k).solve(task, value, novice, capacity, reserved).chosen
    assert not chosen[task < 0].any()
    assert (chosen.sum(axis=1) <= k).all()
    assert (np.bincount(task[chosen], minlength=5) <= capacity).all()


def test_scarce_slots_spread_instead_of_sending_everyone_to_the_best_task() -> None:
    rng = np.random.default_rng(1)
    task = np.tile(np.arange(4), (100, 1))
    value = rng.random((100, 4)) + np.array([3.0, 2.0, 1.0, 0.5])
    capacity = np.array([10, 10, 10, 100])
    chosen = (
        SlotAssignment(max_per_creator=1)
        .solve(task, value, np.zeros(100, dtype=bool), capacity, np.zeros(4, dtype=np.int64))
        .chosen
    )
    assert np.bincount(task[chosen], minlength=4).tolist() == [10, 10, 10, 70]


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(InvalidInput):
        SlotAssignment().solve(
            np.zeros((2, 2), dtype=np.int64),
            np.zeros((2, 3)),
            np.zeros(2, dtype=bool),
            np.ones(1, dtype=np.int64),
            np.zeros(1, dtype=np.int64),
        )


@pytest.mark.parametrize("tasks", [0, 2])
def test_no_candidate_positions_make_no_offers(tasks: int) -> None:
    result = SlotAssignment().solve(
        np.full((3, 2), -1, dtype=np.int64),
        np.zeros((3, 2)),
        np.zeros(3, dtype=bool),
        np.ones(tasks, dtype=np.int64),
        np.zeros(tasks, dtype=np.int64),
    )
    assert not result.chosen.any()
    assert (result.value, result.gap) == (0.0, 0.0)
