"""Stages, quality, the pool and tiers from a features table."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghe.creators import assess_creators, load_rules
from guanghe.pipelines.features import WINDOW_METRICS, WINDOWS_DAYS

RULES = load_rules()


def features(**overrides: list[int]) -> pa.Table:
    n = len(next(iter(overrides.values())))
    columns: dict[str, list[int]] = {
        "creator_id": list(range(1, n + 1)),
        "vertical_id": [1] * n,
        "tenure_days": [1000] * n,
        "follower_count": [0] * n,
        "continuous_months": [0] * n,
    }
    for w in WINDOWS_DAYS:
        for m in (*WINDOW_METRICS, "exposures"):
            columns[f"{m}_{w}d"] = [0] * n
    columns.update(overrides)
    return pa.table({k: pa.array(v, pa.int64()) for k, v in columns.items()})


def test_stages_follow_the_thresholds() -> None:
    table = features(
        follower_count=[5_000, 20_000, 800_000, 800_000],
        tenure_days=[1000, 1000, 1000, 100],
        works_90d=[3, 3, 3, 3],
    )
    assert assess_creators(table, RULES)["stage"].to_pylist() == [
        "novice",
        "growing",
        "mature",
        "growing",
    ]


def test_better_engagement_scores_higher_and_tiers_climb() -> None:
    plays = [10_000, 10_000, 10_000]
    table = features(
        plays_28d=plays,
        exposures_28d=[20_000] * 3,
        engagements_28d=[100, 500, 2_000],
        follows_28d=[10, 50, 200],
        follower_count=[50_000, 150_000, 2_000_000],
        works_28d=[5, 5, 5],
        active_days_28d=[8, 8, 8],
        works_90d=[9, 9, 9],
        continuous_months=[3, 3, 3],
    )
    out = assess_creators(table, RULES).to_pydict()
    assert out["quality"][0] < out["quality"][1] < out["quality"][2]
    assert out["tier"][0] in ("starter", "rising")
    assert out["tier"][2] == "elite"
    assert out["in_pool"][2] is True


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=30))
def test_quality_is_bounded_and_tiers_are_known(plays: list[int]) -> None:
    table = features(plays_28d=plays, engagements_28d=[p // 10 for p in plays])
    out = assess_creators(table, RULES).to_pydict()
    quality = np.array(out["quality"])
    assert ((quality >= 0) & (quality <= 100)).all()
    assert set(out["tier"]) <= {t.name for t in RULES.tiers}


def test_counts_beyond_their_denominator_read_as_a_full_rate() -> None:
    """Follows and plays can outnumber the window's exposures (from the profile page, a
    search, a share) and engagements the plays (a like and a share of one play): such a count
    reads as one success per trial, exactly as if it equalled its denominator, never as a NaN
    that ranks the creator anywhere or breaks the prior's fit (the growth step raised
    LinAlgError on an advanced 100,000-creator platform)."""
    rng = np.random.default_rng(3)
    n = 60
    exposures = rng.integers(2_000, 20_000, n)
    counts = {"exposures": exposures, "plays": exposures // 2, "follows": exposures // 200}
    counts["engagements"] = counts["plays"] // 20
    followers = rng.integers(100, 100_000, n).tolist()
    window = RULES.quality.window_days

    def assessed(counts: dict[str, npt.NDArray[np.int64]]) -> dict[str, list[Any]]:
        columns = {f"{name}_{window}d": column.tolist() for name, column in counts.items()}
        table = assess_creators(features(**columns, follower_count=followers), RULES)
        out: dict[str, list[Any]] = table.to_pydict()
        return out

    capped = {name: column.copy() for name, column in counts.items()}
    capped["follows"][0] = capped["exposures"][0]
    capped["engagements"][2] = capped["plays"][2]
    beyond = {name: column.copy() for name, column in capped.items()}
    beyond["follows"][0] *= 3  # more follows than exposures
    beyond["engagements"][2] *= 4  # several engagements a play
    out = assessed(beyond)
    assert np.isfinite(out["quality"]).all()
    assert out == assessed(capped)

    beyond["plays"][1] = beyond["exposures"][1] + 50  # more plays than exposures
    beyond["exposures"][3] = 0  # played and followed from outside the feed only
    out = assessed(beyond)
    for column in ("quality", "rank_play_rate", "rank_follow_rate", "rank_engagement_rate"):
        assert np.isfinite(out[column]).all(), column
