"""Lifecycle stage, quality score, the high-quality pool and the growth-rights tier of every
creator, from the features snapshot and the rules. Pure and vectorised: Arrow in, Arrow out.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from guanghe.creators.rules import QUALITY_SIGNALS, CreatorRules, Tier
from guanghe.threads import model_threads

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: Rate signals: (numerator, denominator) feature stems, windowed as ``<stem>_<w>d``.
RATE_SIGNALS: Final = {
    "engagement_rate": ("engagements", "plays"),
    "follow_rate": ("follows", "exposures"),
    "play_rate": ("plays", "exposures"),
}
#: Columns of the ``creator_growth`` snapshot besides the per-signal ranks ``rank_<signal>``.
ASSESSMENT_COLUMNS: Final = (
    "creator_id",
    "vertical_id",
    "stage",
    "quality",
    "in_pool",
    "tier",
    "follower_count",
    "works_28d",
    "active_days_28d",
    "continuous_months",
)


def assess_creators(features: pa.Table, rules: CreatorRules) -> pa.Table:
    """One row per creator of ``features`` (a ``creator_features`` snapshot): stage, quality
    (0..100, :func:`quality_scores`), pool membership, tier, the values tiers are judged on,
    and each quality signal's rank within the vertical (0..1).

    Complexity O(n log n) in creators (the ranks).
    """
    cols = {name: features[name].to_numpy(zero_copy_only=False) for name in features.column_names}
    stage = assign_stages(cols, rules)
    estimates = signal_estimates(cols, rules)
    vertical = pd.Series(cols["vertical_id"])
    ranks = {signal: _rank_within(vertical, value) for signal, value in estimates.items()}
    quality = quality_scores(cols, rules, estimates)
    window = rules.quality.window_days
    in_pool = (
        (quality >= rules.pool.min_quality)
        & np.isin(stage, list(rules.pool.stages))
        & (cols[f"works_{window}d"] >= rules.pool.min_works)
    )
    values = {**cols, "quality": quality, "stage": stage}
    tier = assign_tiers(values, rules.tiers)
    columns: dict[str, pa.Array] = {
        "creator_id": pa.array(cols["creator_id"], pa.int64()),
        "vertical_id": pa.array(cols["vertical_id"], pa.int64()),
        "stage": pa.array(stage, pa.string()),
        "quality": pa.array(quality, pa.float64()),
        "in_pool": pa.array(in_pool, pa.bool_()),
        "tier": pa.array(tier, pa.string()),
    }
    for name in ASSESSMENT_COLUMNS[6:]:
        columns[name] = pa.array(cols[name], pa.int64())
    for signal in QUALITY_SIGNALS:
        columns[f"rank_{signal}"] = pa.array(np.round(ranks[signal], 6), pa.float64())
    return pa.table(columns)


def assign_stages(
    cols: dict[str, npt.NDArray[np.generic]], rules: CreatorRules
) -> npt.NDArray[np.str_]:
    """``novice`` / ``growing`` / ``mature`` per creator by the stage thresholds."""

    def meets(name: str) -> Bools:
        t = getattr(rules.stages, name)
        met: Bools = (
            (cols["tenure_days"] >= t.min_tenure_days)
            & (cols["follower_count"] >= t.min_followers)
            & (cols["works_90d"] >= t.min_works_90d)
        )
        return met

    stage = np.full(len(cols["creator_id"]), "novice", dtype=object)
    stage[meets("growing")] = "growing"
    stage[meets("mature")] = "mature"
    return stage.astype(str)


def quality_scores(
    cols: dict[str, npt.NDArray[np.generic]],
    rules: CreatorRules,
    estimates: dict[str, Floats] | None = None,
) -> Floats:
    """Quality per creator, 0..100: the weighted mean of the signals' standardised estimates
    (:func:`signal_estimates`, computed unless given), ranked within the creator's
    vertical."""
    estimates = signal_estimates(cols, rules) if estimates is None else estimates
    weights = {s: getattr(rules.quality.weights, s) for s in QUALITY_SIGNALS}
    total = sum(weights.values())
    n = len(cols["creator_id"])
    combined = np.zeros(n)
    for signal, weight in weights.items():
        combined += weight * estimates[signal] / total
    rank = _rank_within(pd.Series(cols["vertical_id"]), combined)
    return np.asarray(np.round(100.0 * rank, 2), dtype=np.float64)


def signal_estimates(
    cols: dict[str, npt.NDArray[np.generic]], rules: CreatorRules
) -> dict[str, Floats]:
    """Each quality signal's empirical-Bayes estimate per creator, standardised (mean 0 and
    unit spread of the estimates' prior), higher meaning better.

    Every signal is a count over a count (:data:`SIGNAL_COUNTS`): engagements per play,
    plays and follows per exposure, publishing days per window day, and fans kept per
    follower-day (``retention``, from unfollows). Creators whose short window
    (``window_days``) holds fewer than ``prior_weight`` of the denominator are read over the
    long window (``long_window_days``). On the logit scale each observed rate is the true
    rate plus sampling noise of known variance; the true rates are drawn around a prior mean
    that is a weighted least-squares fit on what is observable for every creator (vertical,
    log followers, log tenure), with a between-creator variance estimated by the method of
    moments. The estimate is the posterior mean: the observed rate where the evidence is
    strong, the prior's prediction where there is little or none.

    Complexity O(n) per signal plus a least-squares fit of ``n x (verticals + 3)``.
    """
    short, long = rules.quality.window_days, rules.quality.long_window_days
    thin = float(rules.quality.prior_weight)
    design = _prior_design(cols)
    followers = np.asarray(cols["follower_count"], dtype=np.float64)
    estimates: dict[str, Floats] = {}
    for signal in QUALITY_SIGNALS:
        num_s, den_s = _signal_counts(cols, signal, short, followers)
        num_l, den_l = _signal_counts(cols, signal, long, followers)
        use_long = den_s < thin
        num = np.where(use_long, num_l, num_s)
        den = np.where(use_long, den_l, den_s)
        if signal == "retention":  # unfollows per follower-day: fewer is better
            num = den - np.minimum(num, den)
        estimates[signal] = _posterior(num, den, design)
    return estimates


#: Each signal's (numerator, denominator) feature stems; ``retention`` and ``consistency``
#: are built from the window's days (see :func:`_signal_counts`).
SIGNAL_COUNTS: Final = {
    **RATE_SIGNALS,
    "consistency": ("active_days", "window days"),
    "retention": ("unfollows", "follower-days"),
}


def _signal_counts(
    cols: dict[str, npt.NDArray[np.generic]], signal: str, window: int, followers: Floats
) -> tuple[Floats, Floats]:
    num_stem, den_stem = SIGNAL_COUNTS[signal]
    num = np.asarray(cols[f"{num_stem}_{window}d"], dtype=np.float64)
    if signal == "consistency":
        return num, np.full(num.shape, float(window))
    if signal == "retention":
        return num, followers * window
    return num, np.asarray(cols[f"{den_stem}_{window}d"], dtype=np.float64)


def _prior_design(cols: dict[str, npt.NDArray[np.generic]]) -> Floats:
    """The prior's regressors: one indicator per vertical, log followers, log tenure and
    their product."""
    vertical = np.asarray(cols["vertical_id"])
    _, code = np.unique(vertical, return_inverse=True)
    dummies = np.eye(int(code.max(initial=-1)) + 1)[code]
    log_followers = np.log1p(np.asarray(cols["follower_count"], dtype=np.float64))
    log_tenure = np.log1p(np.maximum(np.asarray(cols["tenure_days"], dtype=np.float64), 0.0))
    return np.column_stack([dummies, log_followers, log_tenure, log_followers * log_tenure])


def _posterior(num: Floats, den: Floats, design: Floats) -> Floats:
    """Posterior mean of each creator's logit rate, standardised; see
    :func:`signal_estimates`."""
    n = num.shape[0]
    seen = den > 0
    if not seen.any():
        return np.zeros(n)
    # A count can outnumber its denominator (follows from outside the feed, several
    # engagements a play): one success per trial at most, so such a rate reads as 1.
    p = (np.minimum(num, den) + 0.5) / (den + 1.0)
    logit = np.log(p / (1.0 - p))
    noise = np.full(n, np.inf)
    noise[seen] = 1.0 / ((den[seen] + 1.0) * p[seen] * (1.0 - p[seen]))
    between = max(float(np.var(logit[seen])), 1e-6)
    beta = np.zeros(design.shape[1])
    # BLAS threads on a narrow least squares wait for each other (5x the wall time at 20,000
    # creators on a busy 2-core machine): one thread below PARALLEL_ROWS rows.
    with model_threads(int(seen.sum())):
        for _ in range(3):  # weights depend on the variance, the variance on the fit
            w = np.sqrt(1.0 / (between + noise[seen]))
            beta = np.linalg.lstsq(design[seen] * w[:, None], logit[seen] * w, rcond=None)[0]
            residual = logit[seen] - design[seen] @ beta
            weight = 1.0 / (between + noise[seen]) ** 2
            excess = float(np.sum(weight * (residual**2 - noise[seen])) / np.sum(weight))
            between = max(excess, 1e-6)
    prior = design @ beta
    shrink = np.where(seen, between / (between + noise), 0.0)
    estimate = prior + shrink * (logit - np.where(seen, prior, 0.0))
    spread = np.sqrt(float(np.var(prior)) + between)
    return np.asarray((estimate - float(np.mean(prior))) / spread, dtype=np.float64)


def _rank_within(vertical: pd.Series, value: Floats) -> Floats:
    """``value`` ranked within each vertical to ``(0, 1)``, ties averaged."""
    frame = pd.DataFrame({"v": vertical, "x": value})
    rank = frame.groupby("v")["x"].rank(method="average").to_numpy(dtype=np.float64)
    count = frame.groupby("v")["x"].transform("count").to_numpy(dtype=np.float64)
    return np.asarray((rank - 0.5) / np.maximum(count, 1.0), dtype=np.float64)


def tier_checks(values: dict[str, npt.NDArray[np.generic]], tier: Tier) -> dict[str, Bools]:
    """Per requirement of ``tier``, whether each creator meets it."""
    current = requirement_values(values)
    checks = {name: current[name] >= need for name, need in tier.requirements().items()}
    if tier.stages is not None:
        checks["stages"] = np.isin(values["stage"], list(tier.stages))
    return checks


def requirement_values(values: dict[str, npt.NDArray[np.generic]]) -> dict[str, Floats]:
    """The per-creator value each tier requirement is compared with."""
    return {
        "min_followers": np.asarray(values["follower_count"], dtype=np.float64),
        "min_quality": np.asarray(values["quality"], dtype=np.float64),
        "min_works_28d": np.asarray(values["works_28d"], dtype=np.float64),
        "min_active_days_28d": np.asarray(values["active_days_28d"], dtype=np.float64),
        "min_continuous_months": np.asarray(values["continuous_months"], dtype=np.float64),
    }


def assign_tiers(
    values: dict[str, npt.NDArray[np.generic]], tiers: tuple[Tier, ...]
) -> npt.NDArray[np.str_]:
    """The highest tier each creator reaches, climbing from the floor while every requirement
    of the next tier is met."""
    n = len(values["creator_id"])
    tier = np.full(n, tiers[0].name, dtype=object)
    climbing = np.ones(n, dtype=bool)
    for t in tiers[1:]:
        for met in tier_checks(values, t).values():
            climbing &= met
        tier[climbing] = t.name
    return tier.astype(str)
