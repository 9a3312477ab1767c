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
    (0..100), pool membership, tier, the values tiers are judged on, and each quality signal's
    rank within the vertical (0..1).

    Complexity O(n log n) in creators (the ranks).
    """
    cols = {name: features[name].to_numpy(zero_copy_only=False) for name in features.column_names}
    stage = assign_stages(cols, rules)
    ranks = signal_ranks(cols, rules)
    weights = np.array([getattr(rules.quality.weights, s) for s in QUALITY_SIGNALS])
    stacked = (
        np.column_stack([ranks[s] for s in QUALITY_SIGNALS])
        if len(cols["creator_id"])
        else (np.zeros((0, len(QUALITY_SIGNALS))))
    )
    quality = np.round(100.0 * stacked @ weights / weights.sum(), 2)
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


def signal_ranks(
    cols: dict[str, npt.NDArray[np.generic]], rules: CreatorRules
) -> dict[str, Floats]:
    """Each quality signal per creator, ranked within its vertical to ``(0, 1)``.

    Rates are shrunk toward the vertical's pooled rate: ``(x + k p_v) / (n + k)`` with
    ``k = prior_weight``. Consistency is active days over the window's days.
    """
    w = rules.quality.window_days
    k = rules.quality.prior_weight
    vertical = pd.Series(cols["vertical_id"])
    values: dict[str, Floats] = {}
    for signal, (num_stem, den_stem) in RATE_SIGNALS.items():
        num = np.asarray(cols[f"{num_stem}_{w}d"], dtype=np.float64)
        den = np.asarray(cols[f"{den_stem}_{w}d"], dtype=np.float64)
        sums = pd.DataFrame({"v": vertical, "num": num, "den": den}).groupby("v").transform("sum")
        pooled = np.divide(
            sums["num"].to_numpy(),
            sums["den"].to_numpy(),
            out=np.zeros(len(num)),
            where=sums["den"].to_numpy() > 0,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            shrunk = np.where(den + k > 0, (num + k * pooled) / (den + k), 0.0)
        values[signal] = shrunk
    values["consistency"] = np.asarray(cols[f"active_days_{w}d"], dtype=np.float64) / w
    ranks: dict[str, Floats] = {}
    for signal, value in values.items():
        frame = pd.DataFrame({"v": vertical, "x": value})
        rank = frame.groupby("v")["x"].rank(method="average").to_numpy(dtype=np.float64)
        count = frame.groupby("v")["x"].transform("count").to_numpy(dtype=np.float64)
        ranks[signal] = (rank - 0.5) / np.maximum(count, 1.0)
    return ranks


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
