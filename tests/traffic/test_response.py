"""Response curves: recovery of known curves, and shrinkage beating both extremes on the
synthetic platform's hidden truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numba
import numpy as np
import pytest

from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.sim import generate_platform
from guanghe.sim.truth import load_ground_truth
from guanghe.traffic._response_kernels import grid_points
from guanghe.traffic.response import (
    SCALE_GRID,
    WARM_REACH,
    DailyActivity,
    FitStart,
    ResponseCurves,
    daily_activity,
    fit_response,
    refit_response,
)
from guanghe.vocabulary import STAGES
from tests.pipelines.conftest import events


def simulated_activity(
    a: np.ndarray, s: np.ndarray, rate: np.ndarray, days: int, seed: int
) -> DailyActivity:
    """Daily rows drawn from the model itself: boosts on a third of the days."""
    rng = np.random.default_rng(seed)
    n = a.shape[0]
    creator = np.repeat(np.arange(1, n + 1), days)
    organic = rng.uniform(500, 5_000, n * days)
    boosted = np.where(rng.random(n * days) < 0.35, np.exp(rng.uniform(5, 12, n * days)), 0.0)
    mean = rate[creator - 1] * organic + a[creator - 1] * -np.expm1(-boosted / s[creator - 1])
    return DailyActivity(creator, organic, boosted, rng.poisson(mean).astype(np.float64))


def test_recovers_curves_of_creators_with_plenty_of_data() -> None:
    rng = np.random.default_rng(0)
    n = 400
    a = np.exp(rng.normal(np.log(30), 0.4, n))
    s = np.exp(rng.normal(np.log(8_000), 0.5, n))
    activity = simulated_activity(a, s, np.full(n, 0.002), days=120, seed=1)
    curves = fit_response(activity, np.arange(1, n + 1), np.zeros(n, np.int64))
    x = np.full(n, 8_000.0)
    truth = a * -np.expm1(-x / s)
    error = np.abs(curves.expected_follows(x) - truth) / truth
    assert np.median(error) < 0.08
    assert np.median(np.abs(np.log(curves.scale / s))) < 0.25
    assert (curves.boosted_days > 20).all()


def test_creators_without_boosts_get_their_cells_curve() -> None:
    rng = np.random.default_rng(2)
    n = 300
    cell = np.repeat([0, 1], n // 2)
    a = np.where(cell == 0, 10.0, 60.0) * np.exp(rng.normal(0, 0.1, n))
    s = np.full(n, 5_000.0)
    activity = simulated_activity(a, s, np.full(n, 0.001), days=60, seed=3)
    ids = np.arange(1, n + 1)
    newcomers = np.array([n + 1, n + 2])  # in cells 0 and 1, never boosted
    curves = fit_response(activity, np.concatenate([ids, newcomers]), np.r_[cell, 0, 1])
    assert curves.boosted_days[-2:].tolist() == [0, 0]
    low, high = curves.saturation[-2:]
    assert 7 < low < 14
    assert 45 < high < 80


def test_empty_inputs() -> None:
    none = np.zeros(0)
    activity = DailyActivity(np.zeros(0, np.int64), none, none, none)
    assert fit_response(activity, np.zeros(0, np.int64), np.zeros(0, np.int64)).scale.shape == (0,)
    curves = fit_response(activity, np.array([5, 6]), np.array([0, 0]))
    assert np.isfinite(curves.saturation).all()
    assert (curves.boosted_days == 0).all()


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_partial_pooling_beats_no_and_complete_pooling_on_hidden_truth(
    database_url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "sim", database_url=database_url)
    with Runtime(settings) as runtime:
        summary = generate_platform(runtime, creators=3_000, days=60, seed=11)
        activity = daily_activity(runtime.event_log, summary.first_date, summary.last_date)
        truth = load_ground_truth(settings).to_pandas()
    ids = truth["creator_id"].to_numpy()
    stage = np.array([STAGES.index(s) for s in truth["stage_initial"]])
    cell = truth["vertical_id"].to_numpy() * len(STAGES) + stage
    x = truth["response_s"].to_numpy()
    hidden = truth["response_a"].to_numpy() * -np.expm1(-1.0)
    boosted = fit_response(activity, ids, cell).boosted_days > 0
    assert boosted.sum() > 200
    errors = {}
    for pooling in ("partial", "none", "complete"):
        curves = fit_response(activity, ids, cell, pooling=pooling)
        error = np.abs(curves.expected_follows(x) - hidden) / hidden
        errors[pooling] = float(np.median(error[boosted]))
    assert errors["partial"] < errors["none"]
    assert errors["partial"] < errors["complete"]
    assert errors["partial"] < 0.25


def test_curves_do_not_depend_on_the_order_of_the_activity_rows() -> None:
    """The event log's query hands the rows over in no set order (DuckDB aggregates in
    parallel); the same rows in any order must give the same curves to the last bit."""
    rng = np.random.default_rng(4)
    n = 500
    cell = rng.integers(0, 6, n)
    a = np.exp(rng.normal(np.log(20), 0.5, n))
    s = np.exp(rng.normal(np.log(6_000), 0.6, n))
    activity = simulated_activity(a, s, np.full(n, 0.002), days=40, seed=5)
    ids = np.arange(1, n + 1)
    quality = rng.random((n, 1))
    curves = fit_response(activity, ids, cell, covariates=quality)
    for seed in range(3):
        shuffled = np.random.default_rng(seed).permutation(activity.creator_id.shape[0])
        again = fit_response(
            DailyActivity(*(getattr(activity, f)[shuffled] for f in DailyActivity.__slots__)),
            ids,
            cell,
            covariates=quality,
        )
        for field in ResponseCurves.__slots__:
            assert np.array_equal(getattr(again, field), getattr(curves, field)), field


def test_curves_fitted_twice_on_one_event_log_are_identical(runtime: Runtime) -> None:
    """A log of 20 day files of 1,500 creators: DuckDB rolls it up in parallel and its rows come
    back in a different order on each query, yet the curves are the same to the last bit."""
    rng = np.random.default_rng(6)
    n, days = 1_500, 20
    first = dt.date(2026, 1, 1)
    ids = np.arange(1, n + 1)
    for d in range(days):
        ts = dt.datetime.combine(first + dt.timedelta(days=d), dt.time(12), tzinfo=dt.UTC)
        exposures = rng.integers(100, 5_000, n)
        boosted = rng.random(n) < 0.4
        follows = rng.poisson(1 + exposures * np.where(boosted, 0.004, 0.001)) + 1
        rows = [
            {"event_id": f"{d}-e-{i}", "type": "exposure", "ts": ts, "creator_id": int(i)}
            | {"count": int(c), "boosted": bool(b)}
            for i, c, b in zip(ids, exposures, boosted, strict=True)
        ] + [
            {"event_id": f"{d}-f-{i}", "type": "follow", "ts": ts, "creator_id": int(i)}
            | {"count": int(c)}
            for i, c in zip(ids, follows, strict=True)
        ]
        runtime.event_log.append(events(rows))
    last = first + dt.timedelta(days=days - 1)
    cell, quality = ids % 5, rng.random((n, 1))
    fitted = [
        fit_response(daily_activity(runtime.event_log, first, last), ids, cell, covariates=quality)
        for _ in range(3)
    ]
    for again in fitted[1:]:
        for field in ResponseCurves.__slots__:
            assert np.array_equal(getattr(again, field), getattr(fitted[0], field)), field


def sliding_windows(days: int, window_days: int, n: int, seed: int) -> list[DailyActivity]:
    """``days - window_days + 1`` consecutive windows of a simulated platform's days, as a
    daily refit sees them (each a day later than the one before)."""
    rng = np.random.default_rng(seed)
    a = np.exp(rng.normal(np.log(20), 0.5, n))
    s = np.exp(rng.normal(np.log(6_000), 0.6, n))
    activity = simulated_activity(a, s, np.full(n, 0.002), days=days, seed=seed + 1)
    day = np.tile(np.arange(days), n)
    return [
        DailyActivity(
            *(
                getattr(activity, field)[(day >= first) & (day < first + window_days)]
                for field in DailyActivity.__slots__
            )
        )
        for first in range(days - window_days + 1)
    ]


def test_a_fit_started_from_the_day_before_is_the_fit_from_scratch() -> None:
    """Refitting day after day, each from the previous day's start, gives the curves of a fit
    from scratch to the last bit (the profiles here have one peak)."""
    n = 800
    rng = np.random.default_rng(8)
    cell, quality = rng.integers(0, 6, n), rng.random((n, 1))
    ids = np.arange(1, n + 1)
    windows = sliding_windows(days=36, window_days=30, n=n, seed=9)
    _, start = refit_response(windows[0], ids, cell, covariates=quality)
    moved = 0
    for window in windows[1:]:
        scratch, scratch_start = refit_response(window, ids, cell, covariates=quality)
        warm, next_start = refit_response(window, ids, cell, covariates=quality, start=start)
        for field in ResponseCurves.__slots__:
            assert np.array_equal(getattr(warm, field), getattr(scratch, field)), field
        for field in FitStart.__slots__:
            assert np.array_equal(getattr(next_start, field), getattr(scratch_start, field))
        moved += int((next_start.k != start.k).sum())
        start = next_start
    assert moved > 0  # some creators' best scale moved from one day to the next


def test_a_start_far_from_the_mode_falls_back_to_the_whole_grid() -> None:
    """A creator whose best scale lands at the edge of the searched stretch is searched over
    the whole grid: a start at the grid's first scale still finds the best far above it."""
    n = 300
    cell = np.random.default_rng(10).integers(0, 3, n)
    ids = np.arange(1, n + 1)
    window = sliding_windows(days=30, window_days=30, n=n, seed=11)[0]
    scratch, scratch_start = refit_response(window, ids, cell)
    assert (scratch_start.k > 2 * WARM_REACH).mean() > 0.9
    first = np.zeros(n, np.int64)
    warm, warm_start = refit_response(window, ids, cell, start=FitStart(ids, first))
    for field in ResponseCurves.__slots__:
        assert np.array_equal(getattr(warm, field), getattr(scratch, field)), field
    assert np.array_equal(warm_start.k, scratch_start.k)


def test_creators_new_to_a_start_are_fitted_from_scratch() -> None:
    n = 300
    cell = np.random.default_rng(12).integers(0, 3, n)
    ids = np.arange(1, n + 1)
    window = sliding_windows(days=30, window_days=30, n=n, seed=13)[0]
    _, start = refit_response(window, ids[:100], cell[:100])
    scratch, _ = refit_response(window, ids, cell)
    warm, _ = refit_response(window, ids, cell, start=start)
    for field in ResponseCurves.__slots__:
        assert np.array_equal(getattr(warm, field), getattr(scratch, field)), field


def test_a_fit_start_round_trips_through_arrow() -> None:
    n = 200
    window = sliding_windows(days=20, window_days=20, n=n, seed=14)[0]
    _, start = refit_response(window, np.arange(1, n + 1), np.zeros(n, np.int64))
    again = FitStart.from_arrow(start.to_arrow())
    for field in FitStart.__slots__:
        assert np.array_equal(getattr(again, field), getattr(start, field)), field
    assert (start.k >= 0).all()


def _grid_inputs(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Boosted rows of ``n`` creators from the model (grouped by creator), for the kernel."""
    rng = np.random.default_rng(seed)
    a, s = np.exp(rng.normal(1.5, 1.2, n)), np.exp(rng.uniform(5, 12, n))
    activity = simulated_activity(a, s, rng.uniform(1e-4, 1e-3, n), days=20, seed=seed)
    on = activity.boosted > 0
    creator = activity.creator_id[on] - 1
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(creator, minlength=n), out=offsets[1:])
    baseline = 3e-4 * activity.organic[on]
    return offsets, baseline, activity.boosted[on], activity.follows[on]


@pytest.mark.parametrize("spread_a", [3.0, 0.6])
def test_each_grid_points_log_a_is_the_posteriors_highest(spread_a: float) -> None:
    """At every grid scale the kernel's ``log a`` is the posterior's global maximum in
    ``log a``, found on a dense grid of 8,001 values, and its score is the posterior there:
    under a flat or a tight prior, whether the posterior has one peak or two (the old fixed
    dozen Fisher steps from the prior's mean stopped up to 1.4 short of it)."""
    n = 150
    offsets, baseline, boosted, follows = _grid_inputs(n, seed=31)
    mean_a, mean_s = np.full(n, np.log(5.0)), np.full(n, np.log(5_000.0))
    log_grid = np.log(SCALE_GRID)
    ks = np.arange(0, log_grid.size, 6)[None, :]
    log_a, _, score = grid_points(
        offsets, baseline, boosted, follows, mean_a, mean_s, spread_a, 2.0,
        log_grid, np.exp(log_grid), ks,
    )  # fmt: skip
    dense = np.linspace(-12.0, 18.0, 8_001)
    for j, k in enumerate(ks[0]):
        shape = -np.expm1(-boosted / np.exp(log_grid[k]))
        mu = baseline[:, None] + np.exp(dense)[None, :] * shape[:, None]
        terms = follows[:, None] * np.log(np.maximum(mu, 1e-12)) - mu
        fit = np.add.reduceat(terms, offsets[:-1], axis=0)
        posterior = (
            fit - 0.5 * ((dense[None, :] - mean_a[:, None]) / spread_a) ** 2
            - 0.5 * ((log_grid[k] - mean_s[:, None]) / 2.0) ** 2
        )  # fmt: skip
        best = posterior.max(axis=1)
        assert np.all(score[:, j] >= best - 1e-9), k
        step = dense[1] - dense[0]
        assert np.all(np.abs(log_a[:, j] - dense[posterior.argmax(axis=1)]) <= step), k


def test_the_grid_search_does_not_depend_on_the_thread_count() -> None:
    n = 400
    offsets, baseline, boosted, follows = _grid_inputs(n, seed=32)
    mean = np.full(n, 1.0)
    log_grid = np.log(SCALE_GRID)
    ks = np.arange(log_grid.size)[None, :]
    args = (offsets, baseline, boosted, follows, mean, mean * 8, 1.0, 1.0, log_grid,
            np.exp(log_grid), ks)  # fmt: skip
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        alone = grid_points(*args)
    finally:
        numba.set_num_threads(threads)
    for one, many in zip(alone, grid_points(*args), strict=True):
        assert np.array_equal(one, many)
