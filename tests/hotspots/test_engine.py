"""The burst detector, topic extraction and merging, on arrays (no store)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghe.errors import InvalidInput
from guanghe.hotspots import (
    STATES,
    HotspotDetector,
    TopicCounts,
    hourly_counts,
    merge_topics,
    title_terms,
    topic_key,
    work_topics,
)

HOURS = 240


def _counts(rng: np.random.Generator, burst_at: int | None, strength: float) -> TopicCounts:
    """One vertical, key 0 a steady topic (10% of works), key 1 a topic that bursts."""
    volume = rng.poisson(6.0, size=HOURS)
    steady = rng.binomial(volume, 0.1)
    rare = rng.binomial(volume, 0.01)
    extra = np.zeros(HOURS, dtype=np.int64)
    if burst_at is not None:
        extra[burst_at : burst_at + 24] = rng.poisson(strength, size=min(24, HOURS - burst_at))
    return _table(np.stack([steady, rare + extra]), volume + extra)


def _table(works: np.ndarray, volume: np.ndarray) -> TopicCounts:
    return TopicCounts(
        works=works.astype(np.int64),
        engagement=works.astype(np.int64) * 3,
        key_group=np.zeros(works.shape[0], dtype=np.int64),
        group_works=volume[None, :].astype(np.int64),
        group_engagement=volume[None, :].astype(np.int64) * 3,
    )


def test_a_burst_is_found_soon_after_it_starts_and_a_steady_topic_is_not() -> None:
    counts = _counts(np.random.default_rng(1), burst_at=200, strength=2.0)
    detector = HotspotDetector().fit(counts)
    assert not detector.hot_[0].any()
    first = int(detector.first_hot_hour_[1])
    assert 200 <= first <= 212  # within half a day: a day late is no use
    assert detector.onset_hour_[1] == first
    assert STATES[detector.states_[1]] in ("rising", "peaking", "fading")
    assert detector.lifts_[1, first] >= 3.0


def test_no_burst_no_hotspot() -> None:
    detector = HotspotDetector().fit(_counts(np.random.default_rng(2), None, 0.0))
    assert not detector.hot_.any()
    assert (detector.states_ == 0).all()


def test_a_burst_that_ended_days_ago_is_no_longer_reported() -> None:
    detector = HotspotDetector().fit(_counts(np.random.default_rng(3), burst_at=150, strength=2.0))
    assert detector.first_hot_hour_[1] >= 150
    assert detector.states_[1] == 0


def test_state_follows_the_curve() -> None:
    volume = np.full(HOURS, 6)
    topic = np.zeros(HOURS, dtype=np.int64)
    topic[::10] = 1
    ramp = topic.copy()
    ramp[-8:] += np.arange(1, 9)
    rising = HotspotDetector().fit(_table(np.stack([ramp]), volume + ramp - topic))
    assert STATES[rising.states_[0]] == "rising"
    gone = topic.copy()
    gone[-30:-10] += 4
    fading = HotspotDetector().fit(_table(np.stack([gone]), volume + gone - topic))
    assert STATES[fading.states_[0]] == "fading"
    steady = topic.copy()
    steady[-20:] += 4
    peaking = HotspotDetector().fit(_table(np.stack([steady]), volume + steady - topic))
    assert STATES[peaking.states_[0]] == "peaking"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), share=st.floats(0.05, 0.5))
def test_a_topic_that_keeps_its_share_is_never_hot(seed: int, share: float) -> None:
    """Counts proportional to the vertical's volume, whatever its rhythm, are no burst."""
    rng = np.random.default_rng(seed)
    rhythm = 1 + np.sin(np.arange(HOURS) * 2 * np.pi / 24)
    volume = rng.poisson(20 * rhythm)
    topic = rng.binomial(volume, share)
    counts = TopicCounts(
        works=topic[None, :].astype(np.int64),
        engagement=np.zeros((1, HOURS), dtype=np.int64),
        key_group=np.zeros(1, dtype=np.int64),
        group_works=volume[None, :].astype(np.int64),
        group_engagement=np.zeros((1, HOURS), dtype=np.int64),
    )
    assert not HotspotDetector(min_score=5.0).fit(counts).hot_.any()


def test_bad_parameters_and_shapes_are_refused() -> None:
    counts = _counts(np.random.default_rng(5), None, 0.0)
    with pytest.raises(InvalidInput):
        HotspotDetector(windows_hours=()).fit(counts)
    with pytest.raises(InvalidInput):
        HotspotDetector(engagement_share=1.0).fit(counts)
    bad = TopicCounts(
        counts.works,
        counts.engagement[:, :-1],
        counts.key_group,
        counts.group_works,
        counts.group_engagement,
    )
    with pytest.raises(InvalidInput):
        HotspotDetector().fit(bad)


def test_hourly_counts_sums_per_key_and_hour() -> None:
    got = hourly_counts(np.array([0, 0, 1]), np.array([2, 2, 0]), 2, 3)
    assert got.tolist() == [[0, 0, 2], [1, 0, 0]]


def test_topics_of_chinese_and_english_titles() -> None:
    assert topic_key("#World Cup!") == "worldcup"
    assert title_terms("冬至饺子怎么包")[:2] == ("冬至", "饺子")
    assert "minutes" not in title_terms("Spicy hotpot in 10 minutes")
    assert work_topics("Spicy hotpot", ["#HotPot", "#food"]) == ("hotpot", "food", "spicy")


def test_near_identical_topics_are_merged() -> None:
    keys = ["冬至饺子", "冬至", "worldcup", "worldcup2026", "hotpot"]
    works = [{1, 2, 3, 4}, {1, 2, 3}, {10, 11}, {12, 13}, {20, 21}]
    groups = merge_topics(keys, [9.0, 5.0, 8.0, 4.0, 7.0], works)
    named = [[keys[i] for i in g] for g in groups]
    assert named == [["冬至饺子", "冬至"], ["worldcup", "worldcup2026"], ["hotpot"]]
