"""Boost response curves: expected extra follows per day from ``x`` boosted impressions,
``saturation * (1 - exp(-x / scale))``, fitted per creator and shrunk toward the creator's
vertical and stage by parametric empirical Bayes.

Per creator ``i`` and day ``d`` the follows are modelled as
``Poisson(r_i * organic_d + a_i * (1 - exp(-boosted_d / s_i)))``:

1. the organic follow rate ``r_i`` comes from days without boost, shrunk (gamma-Poisson) to
   the rate of the creator's vertical and stage;
2. ``(log a_i, log s_i)`` get a normal prior whose mean is the cell's (vertical, stage) mean
   plus a linear term in the creator's centred traits — ``log r_i`` and any covariates given,
   such as the quality score (quality moves the response too) — and whose spread is estimated
   from the creators with plenty of boosted days;
3. each creator's posterior mode is found on a grid of ``log s``, with ``log a``'s mode at
   every grid point found by Newton's method to convergence from two starts (the posterior
   in ``log a`` can have two peaks), creator by creator on every core
   (:mod:`guanghe.traffic._response_kernels`).

Creators without boosted days get the prior's mean: their cell's curve, moved by their own
organic rate.

Each curve also carries the spread of its posterior (a Laplace approximation at the mode:
``log a`` from the Fisher information at the mode plus the prior's precision, ``log s`` from
the curvature of the profile posterior across the grid), which exploration samples from
(:mod:`guanghe.traffic.exploration`).

The first pass (nearly flat prior) only serves to learn the prior, so it fits the data-rich
creators alone. A daily refit can start the second pass from the day before
(:func:`refit_response` with the previous :class:`FitStart`): each creator's grid search then
covers only the :data:`WARM_REACH` scales either side of their previous best one and a probe
of every :data:`WARM_PROBE_EVERY`-th scale, and a creator whose best scale lands on the edge of
that stretch, whose probe finds a better one elsewhere (a profile with two peaks), or who has
no previous one is searched over the whole grid. Every grid point is computed as in a search
of the whole grid, so the curves are those of a fit from scratch, to the last bit, unless a
profile has a higher peak that falls between the probes. (The first pass always searches the
whole grid: under its flat prior a creator's profile can have several peaks, and one
creator's jump between them moves the learned prior.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from guanghe.events import EventLog
from guanghe.traffic._response_kernels import grid_points

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Grid of the saturation scale (impressions), log-spaced.
SCALE_GRID: Final = np.exp(np.linspace(np.log(100.0), np.log(1_000_000.0), 49))
#: Creators with at least this many boosted days inform the prior's mean and spread.
RICH_DAYS: Final = 8
#: Smallest prior spread of ``log a`` and ``log s`` (keeps every creator's data relevant).
MIN_SPREAD: Final = 0.15
#: A cell needs this many data-rich creators before its own mean is trusted over the global one.
CELL_WEIGHT: Final = 10.0
_LOG_GRID: Final = np.log(SCALE_GRID)
_SCALES: Final = np.exp(_LOG_GRID)
#: A warm start searches this many grid scales either side of the previous day's mode…
WARM_REACH: Final = 2
#: … and probes every this many of the whole grid for a better peak elsewhere.
WARM_PROBE_EVERY: Final = 4


@dataclass(frozen=True, slots=True)
class ResponseCurves:
    """Fitted daily curves, aligned with ``creator_id``.

    ``saturation`` (follows per day at most) and ``scale`` (impressions) define the curve;
    ``organic_rate`` is follows per organic exposure; ``boosted_days`` how many days of
    evidence the creator's own curve has (0: the prior alone). ``saturation_spread`` and
    ``scale_spread`` are the posterior standard deviations of ``log a`` and ``log s`` (``None``
    for curves given rather than fitted, such as the hidden ones).
    """

    creator_id: IntArray
    saturation: FloatArray
    scale: FloatArray
    organic_rate: FloatArray
    boosted_days: IntArray
    saturation_spread: FloatArray | None = None
    scale_spread: FloatArray | None = None

    def expected_follows(self, impressions: FloatArray) -> FloatArray:
        """Expected extra follows per day from ``impressions`` boosted impressions per day."""
        return self.saturation * -np.expm1(-impressions / self.scale)

    def to_arrow(self) -> pa.Table:
        """The curves as a table (``creator_id``, ``saturation``, ``scale``, …, and the
        spreads when known)."""
        columns = {
            "creator_id": self.creator_id,
            "saturation": self.saturation,
            "scale": self.scale,
            "organic_rate": self.organic_rate,
            "boosted_days": self.boosted_days,
        }
        if self.saturation_spread is not None and self.scale_spread is not None:
            columns["saturation_spread"] = self.saturation_spread
            columns["scale_spread"] = self.scale_spread
        return pa.table(columns)


@dataclass(frozen=True, slots=True)
class FitStart:
    """Where the next day's fit starts: each creator's best grid index of the scale in the
    final pass (``k``, aligned with ``creator_id``; -1 where it had none)."""

    creator_id: IntArray
    k: IntArray

    def to_arrow(self) -> pa.Table:
        """The start as a table, one row per creator."""
        return pa.table({name: getattr(self, name) for name in FitStart.__slots__})

    @classmethod
    def from_arrow(cls, table: pa.Table) -> FitStart:
        """The start :meth:`to_arrow` wrote."""
        return cls(**{name: table[name].to_numpy().astype(np.int64) for name in cls.__slots__})


@dataclass(frozen=True, slots=True)
class DailyActivity:
    """Per creator and day: organic and boosted exposures and follows (flat arrays)."""

    creator_id: IntArray
    organic: FloatArray
    boosted: FloatArray
    follows: FloatArray


def daily_activity(log: EventLog, first: dt.date, last: dt.date) -> DailyActivity:
    """Roll the event log's exposures and follows up to creator-days in ``[first, last]`` (rows
    in no set order)."""
    empty = DailyActivity(np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0))
    if not log.files():
        return empty
    # ``date`` (the log's partition, the UTC day of ``ts``) leaves the other days' files
    # unread; the sums are exact in float64 (DuckDB's are 128-bit integers, which Arrow would
    # hand over as Python decimals).
    with log.connect() as con:
        table = con.sql(
            """
            SELECT creator_id,
                   CAST(sum(count) FILTER (type = 'exposure' AND NOT coalesce(boosted, false))
                       AS DOUBLE) AS organic,
                   CAST(sum(count) FILTER (type = 'exposure' AND boosted) AS DOUBLE) AS boosted,
                   CAST(sum(count) FILTER (type = 'follow') AS DOUBLE) AS follows
            FROM events
            WHERE type IN ('exposure', 'follow')
              AND date BETWEEN $first AND $last
              AND CAST(ts AS DATE) BETWEEN $first AND $last
            GROUP BY creator_id, CAST(ts AS DATE)
            """,
            params={"first": first, "last": last},
        ).to_arrow_table()
    if table.num_rows == 0:
        return empty

    def column(name: str) -> FloatArray:
        values: FloatArray = table[name].to_numpy(zero_copy_only=False).astype(np.float64)
        return np.nan_to_num(values)

    return DailyActivity(
        creator_id=table["creator_id"].to_numpy().astype(np.int64),
        organic=column("organic"),
        boosted=column("boosted"),
        follows=column("follows"),
    )


def fit_response(
    activity: DailyActivity,
    creator_id: IntArray,
    cell: IntArray,
    *,
    covariates: FloatArray | None = None,
    pooling: Literal["partial", "none", "complete"] = "partial",
) -> ResponseCurves:
    """Fit a curve for every creator of ``creator_id`` (its cell codes ``cell``, e.g. vertical
    and stage combined, aligned) from ``activity``; creators absent from it get their prior.
    The curves do not depend on the order of ``activity``'s rows, to the last bit.

    ``covariates`` (shape ``(n, k)``, aligned) are creator traits that move the prior's mean,
    such as the quality score; the organic follow rate always is one.
    ``pooling`` is ``partial`` (empirical Bayes, the default), ``none`` (each creator's own
    maximum-likelihood curve under a nearly flat prior) or ``complete`` (the prior's mean for
    everyone, ignoring each creator's own boosted days).
    """
    curves, _ = refit_response(activity, creator_id, cell, covariates=covariates, pooling=pooling)
    return curves


def refit_response(
    activity: DailyActivity,
    creator_id: IntArray,
    cell: IntArray,
    *,
    covariates: FloatArray | None = None,
    pooling: Literal["partial", "none", "complete"] = "partial",
    start: FitStart | None = None,
) -> tuple[ResponseCurves, FitStart]:
    """:func:`fit_response`, its final pass started from ``start`` (the previous day's, see
    the module; unused unless ``pooling`` is ``partial``) when given, with where the next
    day's fit starts."""
    n = creator_id.shape[0]
    if n == 0:
        none = np.zeros(0)
        ints = np.zeros(0, np.int64)
        curves = ResponseCurves(creator_id.astype(np.int64), none, none, none, ints)
        return curves, FitStart(ints, ints)
    order = np.argsort(creator_id, kind="stable")
    pos = np.minimum(np.searchsorted(creator_id, activity.creator_id, sorter=order), n - 1)
    known = creator_id[order[pos]] == activity.creator_id
    row_creator = order[pos[known]]
    organic = activity.organic[known]
    boosted = activity.boosted[known]
    follows = activity.follows[known]
    # Every per-creator sum below adds floats in row order, and a query's rows come in no set
    # order (DuckDB's parallel GROUP BY): put the rows in one order fixed by their values, so
    # the same rows give bit-identical curves however they arrive.
    rows_in_order = np.lexsort((follows, boosted, organic, row_creator))
    row_creator, organic, boosted, follows = (
        row_creator[rows_in_order],
        organic[rows_in_order],
        boosted[rows_in_order],
        follows[rows_in_order],
    )
    cells = int(cell.max()) + 1

    rate = _organic_rates(row_creator, organic, follows, boosted > 0, cell, n, cells)
    on = boosted > 0
    rows = _BoostRows(
        creator=row_creator[on],
        baseline=rate[row_creator[on]] * organic[on],
        boosted=boosted[on],
        follows=follows[on],
    )
    days = np.bincount(rows.creator, minlength=n).astype(np.int64)
    rich = days >= RICH_DAYS
    log_rate = np.log(rate)
    everyone = np.ones(n, bool)
    z = np.column_stack(
        [
            column - _cell_mean(column, cell, cells, everyone)
            for column in (log_rate, *(covariates.T if covariates is not None else ()))
        ]
    )

    # Pass 1: nearly flat prior, to learn the prior from the data-rich creators (only theirs
    # count, and each creator's mode depends on their own rows alone).
    flat = _Prior(np.full(n, np.log(5.0)), np.full(n, np.log(5_000.0)), 3.0, 3.0)
    fitted = everyone if pooling == "none" else rich
    mode, final_at = _posterior_mode(rows, flat, n, None, fitted)
    if pooling != "none":
        prior = _learn_prior(mode.log_a, mode.log_s, z, cell, cells, rich)
        if pooling == "complete":
            mode = _Mode(
                prior.mean_a,
                prior.mean_s,
                np.full(n, prior.spread_a),
                np.full(n, prior.spread_s),
            )
            final_at = np.full(n, -1, np.int64)
        else:
            known = _aligned_start(start, creator_id)
            mode, final_at = _posterior_mode(rows, prior, n, known, everyone)
    curves = ResponseCurves(
        creator_id=creator_id.astype(np.int64),
        saturation=np.exp(mode.log_a),
        scale=np.exp(mode.log_s),
        organic_rate=rate,
        boosted_days=days,
        saturation_spread=mode.spread_a,
        scale_spread=mode.spread_s,
    )
    return curves, FitStart(creator_id.astype(np.int64), final_at)


@dataclass(frozen=True, slots=True)
class _BoostRows:
    creator: IntArray
    baseline: FloatArray
    boosted: FloatArray
    follows: FloatArray


@dataclass(frozen=True, slots=True)
class _Mode:
    """Posterior modes of ``log a`` and ``log s`` per creator, with their Laplace spreads."""

    log_a: FloatArray
    log_s: FloatArray
    spread_a: FloatArray
    spread_s: FloatArray


@dataclass(frozen=True, slots=True)
class _Prior:
    mean_a: FloatArray
    mean_s: FloatArray
    spread_a: float
    spread_s: float


def _organic_rates(
    creator: IntArray,
    organic: FloatArray,
    follows: FloatArray,
    boosted_day: NDArray[np.bool_],
    cell: IntArray,
    n: int,
    cells: int,
) -> FloatArray:
    """Follows per organic exposure from unboosted days, gamma-Poisson shrunk to the cell."""
    plain = ~boosted_day
    exposure = np.bincount(creator[plain], weights=organic[plain], minlength=n)
    gained = np.bincount(creator[plain], weights=follows[plain], minlength=n)
    cell_exposure = np.bincount(cell, weights=exposure, minlength=cells)
    cell_gained = np.bincount(cell, weights=gained, minlength=cells)
    overall = (gained.sum() + 1.0) / (exposure.sum() + 1_000.0)
    cell_rate = (cell_gained + 10.0 * overall) / (cell_exposure + 10.0)
    # Prior strength: a creator needs about 20 expected follows of their own to count equally.
    strength = 20.0 / np.maximum(cell_rate, 1e-9)
    prior_rate = cell_rate[cell]
    prior_exposure = strength[cell]
    rate: FloatArray = (gained + prior_rate * prior_exposure) / (exposure + prior_exposure)
    return np.maximum(rate, 1e-9)


def _cell_mean(
    values: FloatArray, cell: IntArray, cells: int, use: NDArray[np.bool_]
) -> FloatArray:
    """Each creator's cell mean of ``values`` over the creators in ``use``, shrunk to the
    overall mean when the cell has few of them."""
    if not use.any():
        return np.zeros_like(values)
    overall = float(values[use].mean())
    count = np.bincount(cell[use], minlength=cells).astype(np.float64)
    total = np.bincount(cell[use], weights=values[use], minlength=cells)
    mean: FloatArray = ((total + CELL_WEIGHT * overall) / (count + CELL_WEIGHT))[cell]
    return mean


def _learn_prior(
    log_a: FloatArray,
    log_s: FloatArray,
    z: FloatArray,
    cell: IntArray,
    cells: int,
    rich: NDArray[np.bool_],
) -> _Prior:
    """Prior mean per creator (cell mean plus a linear term in the covariates ``z``, shape
    ``(n, k)``) and spread, learned from the ``rich`` creators."""
    if rich.sum() < 3 + z.shape[1]:
        return _Prior(
            np.full_like(log_a, np.log(5.0)), np.full_like(log_s, np.log(5_000.0)), 1.0, 1.0
        )
    zc = z[rich] - z[rich].mean(axis=0)
    slope = np.linalg.lstsq(zc, log_a[rich] - log_a[rich].mean(), rcond=None)[0]
    effect = z @ slope
    mean_a = _cell_mean(log_a - effect, cell, cells, rich) + effect
    mean_s = _cell_mean(log_s, cell, cells, rich)
    spread_a = max(float(np.std(log_a[rich] - mean_a[rich])), MIN_SPREAD)
    spread_s = max(float(np.std(log_s[rich] - mean_s[rich])), MIN_SPREAD)
    return _Prior(mean_a, mean_s, spread_a, spread_s)


def _aligned_start(start: FitStart | None, creator_id: IntArray) -> IntArray | None:
    """``start``'s grid indices aligned with ``creator_id`` (-1 for the creators it lacks)."""
    if start is None or start.creator_id.shape[0] == 0:
        return None
    order = np.argsort(start.creator_id, kind="stable")
    pos = np.minimum(np.searchsorted(start.creator_id, creator_id, sorter=order), order.size - 1)
    row = order[pos]
    found = start.creator_id[row] == creator_id
    return np.where(found, start.k[row], -1)


@dataclass(frozen=True, slots=True)
class _Search:
    """A grid search's outcome per creator: the best grid index, the profile posterior's score
    there and at its two neighbours, and ``log a``'s mode and information there."""

    k: IntArray
    score: FloatArray
    left: FloatArray
    right: FloatArray
    log_a: FloatArray
    info: FloatArray


def _posterior_mode(
    rows: _BoostRows,
    prior: _Prior,
    n: int,
    start: IntArray | None,
    fitted: NDArray[np.bool_],
) -> tuple[_Mode, IntArray]:
    """Per ``fitted`` creator, the mode of the posterior of ``(log a, log s)``: the best grid
    scale, with ``log a``'s mode at each, refined by a parabola through its
    neighbours. The spreads: ``log a``'s from its information at the best grid point,
    ``log s``'s from the parabola's curvature (the prior's spread where the profile is flat
    or the mode is at the grid's edge). Creators with a ``start`` (a grid index) search near
    it (:func:`_search_near`), the others (and those whose best lands at the edge of that
    stretch) the whole grid; creators not ``fitted`` keep the prior. Also returns each
    creator's best grid index (-1: not fitted), where the next day's search starts."""
    warm = fitted & (start >= 0) if start is not None else np.zeros(n, bool)
    cold = fitted & ~warm
    k = np.full(n, -1, np.int64)
    score, left, right = np.zeros(n), np.zeros(n), np.zeros(n)
    log_a, info = prior.mean_a.copy(), np.full(n, 1.0 / prior.spread_a**2)
    searches = []
    if start is not None and warm.any():
        near, escaped = _search_near(*_subset(rows, prior, warm), start[warm])
        keep = ~escaped
        searches.append((np.flatnonzero(warm)[keep], near, keep))
        cold[np.flatnonzero(warm)[escaped]] = True
    if cold.any():
        whole = _search_grid(*_subset(rows, prior, cold))
        searches.append((np.flatnonzero(cold), whole, np.ones(int(cold.sum()), bool)))
    for at, found, keep in searches:
        k[at], score[at], left[at], right[at] = (
            found.k[keep],
            found.score[keep],
            found.left[keep],
            found.right[keep],
        )
        log_a[at], info[at] = found.log_a[keep], found.info[keep]
    grid = _LOG_GRID
    inner = (k > 0) & (k < grid.shape[0] - 1)
    curvature = left - 2.0 * score + right
    step = np.where(
        inner & (curvature < 0),
        0.5 * (left - right) / np.where(curvature < 0, curvature, -1.0),
        0.0,
    )
    step = np.clip(step, -0.5, 0.5)
    spacing = grid[1] - grid[0]
    # The profile score near its peak is -(d/spacing)^2 * (-curvature)/2, so the variance of
    # log s is spacing^2 / -curvature; never wider than the prior.
    variance_s = np.where(
        inner & (curvature < 0), spacing**2 / np.where(curvature < 0, -curvature, 1.0), np.inf
    )
    spread_s = np.where(fitted, np.minimum(np.sqrt(variance_s), prior.spread_s), prior.spread_s)
    log_s = np.where(fitted, grid[np.maximum(k, 0)] + step * spacing, prior.mean_s)
    mode = _Mode(log_a, log_s, 1.0 / np.sqrt(info), spread_s)
    return mode, k


def _subset(
    rows: _BoostRows, prior: _Prior, members: NDArray[np.bool_]
) -> tuple[_BoostRows, _Prior, int]:
    """The rows and prior of the ``members`` creators alone, renumbered ``0 .. m - 1`` in
    order (each creator's rows stay in their order, so their sums are unchanged)."""
    if members.all():
        return rows, prior, members.shape[0]
    index = np.full(members.shape[0], -1, np.int64)
    index[members] = np.arange(int(members.sum()))
    mine = members[rows.creator]
    part = _BoostRows(
        creator=index[rows.creator[mine]],
        baseline=rows.baseline[mine],
        boosted=rows.boosted[mine],
        follows=rows.follows[mine],
    )
    part_prior = _Prior(
        prior.mean_a[members], prior.mean_s[members], prior.spread_a, prior.spread_s
    )
    return part, part_prior, int(members.sum())


def _offsets(rows: _BoostRows, n: int) -> IntArray:
    """Where each creator's rows start (and the last ends): rows come grouped by creator."""
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rows.creator, minlength=n), out=offsets[1:])
    return offsets


def _grid_points(
    rows: _BoostRows, prior: _Prior, n: int, ks: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`grid_points` over ``rows``: each creator's ``log a`` mode, information and
    score at the grid indices of its row of ``ks`` (one row: the same for all)."""
    log_a, info, score = grid_points(
        _offsets(rows, n),
        rows.baseline,
        rows.boosted,
        rows.follows,
        prior.mean_a,
        prior.mean_s,
        prior.spread_a,
        prior.spread_s,
        _LOG_GRID,
        _SCALES,
        np.ascontiguousarray(ks, dtype=np.int64),
    )
    return log_a, info, score


def _best(scores: FloatArray) -> tuple[FloatArray, IntArray]:
    """Each row's best score and its first column (a NaN never counts as better)."""
    n = scores.shape[0]
    best = np.full(n, -np.inf)
    best_j = np.zeros(n, np.int64)
    for j in range(scores.shape[1]):
        better = scores[:, j] > best
        best[better] = scores[better, j]
        best_j[better] = j
    return best, best_j


def _search_grid(rows: _BoostRows, prior: _Prior, n: int) -> _Search:
    """Every creator's best point of the whole scale grid."""
    last = _LOG_GRID.shape[0] - 1
    modes_a, infos, scores = _grid_points(rows, prior, n, np.arange(last + 1)[None, :])
    best, best_k = _best(scores)
    idx = np.arange(n)
    left = scores[idx, np.maximum(best_k - 1, 0)]
    right = scores[idx, np.minimum(best_k + 1, last)]
    return _Search(best_k, best, left, right, modes_a[idx, best_k], infos[idx, best_k])


def _search_near(
    rows: _BoostRows, prior: _Prior, n: int, start_k: IntArray
) -> tuple[_Search, NDArray[np.bool_]]:
    """Each creator's best point among the ``2 * WARM_REACH + 1`` grid scales around
    ``start_k`` (shifted to stay on the grid), each computed as :func:`_search_grid` computes
    it; also whether the whole grid's best may lie elsewhere: the best is at an end of that
    stretch that is not the grid's, or a probe of every :data:`WARM_PROBE_EVERY`-th scale
    scores better."""
    last = _LOG_GRID.shape[0] - 1
    width = 2 * WARM_REACH + 1
    low = np.clip(start_k - WARM_REACH, 0, last + 1 - width)
    probes = np.arange(0, last + 1, WARM_PROBE_EVERY)
    ks = np.hstack([low[:, None] + np.arange(width), np.broadcast_to(probes, (n, probes.size))])
    modes_a, infos, scores = _grid_points(rows, prior, n, ks)
    best, best_j = _best(scores[:, :width])
    idx = np.arange(n)
    best_k = low + best_j
    left = scores[idx, np.maximum(best_j - 1, 0)]
    right = scores[idx, np.minimum(best_j + 1, width - 1)]
    escaped = ((best_j == 0) & (best_k > 0)) | ((best_j == width - 1) & (best_k < last))
    escaped |= (scores[:, width:] > best[:, None]).any(axis=1)
    found = _Search(best_k, best, left, right, modes_a[idx, best_j], infos[idx, best_j])
    return found, escaped
