"""The traffic-allocation problem: creators in pools and groups, budgets, response curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from guanghe.errors import InvalidInput
from guanghe.traffic import _kernels

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: Ids spanning at most this many times their number are checked for repeats with a bitmap.
BITMAP_SPAN = 16


@dataclass(frozen=True, slots=True)
class AllocationProblem:
    """Maximise ``sum_i weight_i * saturation_i * (1 - exp(-x_i / scale_i))`` under budgets.

    Each creator belongs to one pool (``pool[i]`` indexes ``pool_names``) and one group
    (``group[i]`` indexes ``group_names``). ``pool_budgets`` bounds the impressions of each
    pool, ``group_caps`` those of each group (``inf``: no cap), ``floor <= x <= cap`` each
    creator. All per-creator arrays have shape ``(n,)``; construction validates them and raises
    :class:`~guanghe.errors.InvalidInput` naming the first problem found.
    """

    creator_id: IntArray
    pool: IntArray
    group: IntArray
    weight: FloatArray
    saturation: FloatArray
    scale: FloatArray
    floor: FloatArray
    cap: FloatArray
    pool_names: tuple[str, ...]
    pool_budgets: FloatArray
    group_names: tuple[str, ...]
    group_caps: FloatArray

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_creators(self) -> int:
        """Number of creators ``n``."""
        return int(self.creator_id.shape[0])

    @classmethod
    def from_labels(
        cls,
        *,
        creator_id: Sequence[int] | IntArray,
        pool: Sequence[str],
        group: Sequence[str],
        weight: Sequence[float] | FloatArray,
        saturation: Sequence[float] | FloatArray,
        scale: Sequence[float] | FloatArray,
        floor: Sequence[float] | FloatArray,
        cap: Sequence[float] | FloatArray,
        pool_budgets: Mapping[str, float],
        group_caps: Mapping[str, float] | None = None,
    ) -> AllocationProblem:
        """Build a problem from per-creator pool and group names and the budget maps.

        Every pool named by a creator must be in ``pool_budgets``; a group missing from
        ``group_caps`` has no cap.
        """
        pool_names = tuple(pool_budgets)
        pool_index = {name: k for k, name in enumerate(pool_names)}
        unknown = sorted(set(pool) - set(pool_index))
        if unknown:
            raise InvalidInput(f"pool {unknown[0]!r} of a creator has no budget")
        caps = dict(group_caps or {})
        group_names = tuple(dict.fromkeys([*caps, *sorted(set(group))]))
        group_index = {name: k for k, name in enumerate(group_names)}
        return cls(
            creator_id=np.asarray(creator_id, dtype=np.int64),
            pool=np.fromiter((pool_index[p] for p in pool), np.int64, len(pool)),
            group=np.fromiter((group_index[g] for g in group), np.int64, len(group)),
            weight=np.asarray(weight, dtype=np.float64),
            saturation=np.asarray(saturation, dtype=np.float64),
            scale=np.asarray(scale, dtype=np.float64),
            floor=np.asarray(floor, dtype=np.float64),
            cap=np.asarray(cap, dtype=np.float64),
            pool_names=pool_names,
            pool_budgets=np.array([pool_budgets[p] for p in pool_names], dtype=np.float64),
            group_names=group_names,
            group_caps=np.array([caps.get(g, np.inf) for g in group_names], dtype=np.float64),
        )


def unplannable_budgets(problem: AllocationProblem) -> dict[str, int]:
    """Budget of each pool that has a budget and no member: none of it can be planned."""
    members = np.bincount(problem.pool, minlength=len(problem.pool_names))
    return {
        name: int(budget)
        for name, budget, count in zip(
            problem.pool_names, problem.pool_budgets.tolist(), members.tolist(), strict=True
        )
        if budget > 0 and count == 0
    }


def _validate(p: AllocationProblem) -> None:
    n = p.creator_id.shape[0]
    columns: dict[str, NDArray[Any]] = {
        "creator_id": p.creator_id,
        "pool": p.pool,
        "group": p.group,
        "weight": p.weight,
        "saturation": p.saturation,
        "scale": p.scale,
        "floor": p.floor,
        "cap": p.cap,
    }
    for name, column in columns.items():
        if column.ndim != 1 or column.shape[0] != n:
            raise InvalidInput(f"column {name!r} must have shape ({n},), not {column.shape}")
    if len(p.pool_names) != p.pool_budgets.shape[0]:
        raise InvalidInput("pool_names and pool_budgets differ in length")
    if len(p.group_names) != p.group_caps.shape[0]:
        raise InvalidInput("group_names and group_caps differ in length")
    _check_codes("pool", p.pool, len(p.pool_names))
    _check_codes("group", p.group, len(p.group_names))
    for name in ("weight", "saturation", "scale", "floor", "cap"):
        _check_values(name, columns[name])
    _first_bad("scale", p.scale, p.scale <= 0, "must be > 0")
    _first_bad("cap", p.cap, p.cap < p.floor, "must be >= floor")
    for names, values, what in (
        (p.pool_names, p.pool_budgets, "budget of pool"),
        (p.group_names, p.group_caps, "cap of group"),
    ):
        bad = np.flatnonzero(np.isnan(values) | (values < 0))
        if bad.size:
            raise InvalidInput(f"{what} {names[bad[0]]!r} must be >= 0, not {values[bad[0]]}")
    if np.isinf(p.pool_budgets).any():
        raise InvalidInput("pool budgets must be finite")
    repeated = _repeated_id(p.creator_id)
    if repeated is not None:
        raise InvalidInput(f"creator_id {repeated} appears more than once")


def _repeated_id(ids: IntArray) -> int | None:
    """An id that occurs more than once in ``ids``, or None. O(n) when the ids are increasing
    or span at most :data:`BITMAP_SPAN` times their number, else a sort."""
    n = ids.shape[0]
    if n < 2 or bool((ids[1:] > ids[:-1]).all()):
        return None
    low, high = int(ids.min()), int(ids.max())
    if high - low < BITMAP_SPAN * n:
        at = int(_kernels.first_repeat(ids, low, high - low + 1))
        return None if at < 0 else int(ids[at])
    ordered = np.sort(ids)
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    return int(ordered[same[0]]) if same.size else None


def _check_codes(name: str, codes: IntArray, count: int) -> None:
    if codes.size and (codes.min() < 0 or codes.max() >= count):
        raise InvalidInput(f"{name} codes must lie in [0, {count})")


def _check_values(name: str, values: NDArray[Any]) -> None:
    _first_bad(name, values, ~np.isfinite(values), "must be finite")
    if name != "scale":
        _first_bad(name, values, values < 0, "must be >= 0")


def _first_bad(name: str, values: NDArray[Any], bad: NDArray[np.bool_], why: str) -> None:
    if bad.any():
        row = int(np.argmax(bad))
        raise InvalidInput(f"{name} of row {row} {why}, not {values[row]}")
