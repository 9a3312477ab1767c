"""Whole impressions from a fractional allocation without breaking any budget, cap or floor."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from guanghe.errors import InvalidInput
from guanghe.traffic import _kernels
from guanghe.traffic.passes import SERIAL, Passes, fresh, whole_start

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
NO_CAP = np.int64(2**62)
#: Rounds of the hand-out at most (each gives a creator at most one unit).
HAND_OUT_ROUNDS = 4


def whole_limits(budgets: FloatArray, caps: FloatArray) -> tuple[IntArray, IntArray]:
    """Integer pool budgets and group caps (``NO_CAP`` for uncapped groups)."""
    pools = np.floor(budgets).astype(np.int64)
    groups = np.where(np.isfinite(caps), np.floor(np.minimum(caps, 2.0**62)), NO_CAP)
    return pools, groups.astype(np.int64)


def round_allocation(
    x: FloatArray,
    pool: IntArray,
    group: IntArray,
    bounds: tuple[IntArray, IntArray],
    limits: tuple[IntArray, IntArray],
    gain: tuple[FloatArray, FloatArray],
    rounds: int = HAND_OUT_ROUNDS,
) -> IntArray:
    """Floor ``x`` into ``bounds``, then hand out leftover units by largest marginal gain.

    ``bounds`` are whole floors and caps per creator, ``limits`` whole pool budgets and group
    caps, ``gain`` the pair ``(w * a, s)`` of the response curve. Units over a limit are taken
    back first, from the creators whose next-to-last unit gains least first, as many from each
    as the excess needs (down to its floor), so one pass over the sorted candidates mends every
    limit however far ``x`` broke it (the floors must fit, see :func:`check_whole_feasible`);
    then each of at most ``rounds`` rounds walks
    the creators with room in order of the gain of their next unit and gives one unit to each
    whose pool and group still have room (Numba passes with a counting sort of the gains over
    only the best levels that can still take units, :func:`~guanghe.traffic._kernels.hand_out`):
    O(n) per round. The floors and their usage come from one pass
    (:func:`~guanghe.traffic._kernels.floor_start`).
    """
    _check_size(x)
    z, used_p, used_g = _kernels.floor_start(
        x, bounds[0], bounds[1], pool, group, limits[0].size, limits[1].size
    )
    return _mend_and_hand_out(
        z, (used_p, used_g), (pool, group), bounds, limits, (*gain, None), rounds
    )


def round_whole(
    x: FloatArray,
    floor: FloatArray,
    cap: FloatArray,
    creator_id: IntArray,
    membership: tuple[IntArray, IntArray],
    limits: tuple[IntArray, IntArray],
    names: tuple[tuple[str, ...], tuple[str, ...]],
    gain: tuple[FloatArray, FloatArray, FloatArray],
    passes: Passes = SERIAL,
) -> tuple[IntArray, tuple[FloatArray, FloatArray, float]]:
    """:func:`round_allocation` within the whole floors ``ceil(floor)`` and caps
    ``floor(cap)``, checked as :func:`check_whole_feasible` does; the bounds, their check and
    the start come from one pass (:func:`.passes.whole_start`, on ``passes``'s threads). ``gain`` is
    the triple ``(w * a, s, ln(w * a / s))``. Returns the whole impressions and what that
    pass measured of ``x``: per pool and group the impressions it uses, and its largest
    excess over a creator's floor or cap relative to the cap (at least 1)."""
    _check_size(x)
    pool, group = membership
    z, need_p, need_g, used_p, used_g, bad, relaxed = whole_start(
        x, floor, cap, (pool, group, limits[0].size, limits[1].size), passes
    )
    _check_needs(bad, creator_id, (need_p, need_g), limits, names)
    z = _mend_and_hand_out(
        z, (used_p, used_g), membership, (floor, cap), limits, gain, HAND_OUT_ROUNDS
    )
    return z, relaxed


def _check_size(x: FloatArray) -> None:
    if x.size >= 2**31:  # the hand-out's order holds creator indices as int32
        raise InvalidInput("at most 2**31 - 1 creators can be rounded at once")


def _mend_and_hand_out(
    z: IntArray,
    used: tuple[IntArray, IntArray],
    membership: tuple[IntArray, IntArray],
    bounds: tuple[IntArray, IntArray] | tuple[FloatArray, FloatArray],
    limits: tuple[IntArray, IntArray],
    gain: tuple[FloatArray, FloatArray, FloatArray | None],
    rounds: int,
) -> IntArray:
    """Take back units over a limit, then hand out the units left (see
    :func:`round_allocation`); updates and returns ``z``. ``bounds`` are whole, or the
    creators' own floors and caps (their whole ones, ``ceil`` and ``floor``, are meant);
    ``gain`` is ``(w * a, s, ln(w * a / s))``, the last computed here where it is None."""
    used_p, used_g = used
    pool, group = membership
    low, high = bounds
    wa, scale, log_c = gain
    while True:  # each round mends every broken limit; a second round is rare
        over_p = np.maximum(used_p - limits[0], 0)
        over_g = np.maximum(used_g - limits[1], 0)
        if not (over_p.any() or over_g.any()):
            break
        low = _whole_floors(low)  # only where units are taken back
        cand = np.flatnonzero((z > low) & ((over_p[pool] > 0) | (over_g[group] > 0)))
        if cand.size == 0:
            raise InvalidInput("whole floors do not fit a budget or group cap")
        with np.errstate(divide="ignore"):
            log_first = np.log(wa[cand] * -np.expm1(-1.0 / scale[cand]))
        loss = log_first - (z[cand] - 1) / scale[cand]
        order = cand[np.argsort(loss, kind="stable")]
        spare = z[order] - low[order]
        take = np.zeros_like(spare)
        for codes, over in ((pool[order], over_p), (group[order], over_g)):
            before = _sum_before(codes, spare)
            take = np.maximum(take, np.clip(over[codes].astype(np.int64) - before, 0, spare))
        z[order] -= take
        used_p = np.bincount(pool, z, limits[0].size).astype(np.int64)
        used_g = np.bincount(group, z, limits[1].size).astype(np.int64)
    left_p = limits[0] - used_p
    left_g = limits[1] - used_g
    space = fresh(z.size, np.float64), fresh(z.size, np.int64)  # the hand-out's, for every round
    for _ in range(rounds):
        if not (left_p > 0).any() or not (left_g > 0).any():
            break  # no creator has room: a round would only find that out, in a pass over all
        if log_c is None:
            with np.errstate(divide="ignore"):
                log_c = np.log(wa / scale)
        if _kernels.hand_out(z, high, wa, scale, log_c, pool, group, left_p, left_g, space) == 0:
            break
    return z


def _whole_floors(low: IntArray | FloatArray) -> IntArray:
    """Whole floors: ``ceil`` of the creators' own, whole ones as they are."""
    if low.dtype.kind == "f":
        return np.ceil(low).astype(np.int64)
    return low.astype(np.int64, copy=False)


def check_whole_feasible(
    low: IntArray,
    high: IntArray,
    creator_id: IntArray,
    membership: tuple[IntArray, IntArray],
    limits: tuple[IntArray, IntArray],
    names: tuple[tuple[str, ...], tuple[str, ...]],
) -> None:
    """Raise :class:`InvalidInput` if whole floors cannot fit a cap, budget or group cap."""
    bad = np.flatnonzero(low > high)
    needs = (
        np.bincount(membership[0], low, limits[0].size),
        np.bincount(membership[1], low, limits[1].size),
    )
    _check_needs(int(bad[0]) if bad.size else -1, creator_id, needs, limits, names)


def _check_needs(
    bad: int,
    creator_id: IntArray,
    needs: tuple[NDArray[np.float64] | IntArray, NDArray[np.float64] | IntArray],
    limits: tuple[IntArray, IntArray],
    names: tuple[tuple[str, ...], tuple[str, ...]],
) -> None:
    if bad >= 0:
        raise InvalidInput(
            f"creator {int(creator_id[bad])} has no whole number of impressions between "
            "its floor and cap"
        )
    for kind, need, limit, labels in (
        ("pool", needs[0], limits[0], names[0]),
        ("group", needs[1], limits[1], names[1]),
    ):
        over = np.flatnonzero(need > limit)
        if over.size:
            k = over[0]
            raise InvalidInput(
                f"floors of {kind} {labels[k]!r} need {int(need[k])} whole impressions, "
                f"more than its {'budget' if kind == 'pool' else 'cap'} of {int(limit[k])}"
            )


def _sum_before(codes: IntArray, values: IntArray) -> IntArray:
    """Sum of ``values`` over the earlier elements with the same code, for each element."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    totals = np.cumsum(values[order]) - values[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    run_start = np.repeat(totals[starts], np.diff(np.r_[starts, codes.size]))
    before = np.empty_like(values)
    before[order] = totals - run_start
    return before
