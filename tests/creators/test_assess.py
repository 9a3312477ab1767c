"""Stages, quality, the pool and tiers from a features table."""

from __future__ import annotations

import numpy as np
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
