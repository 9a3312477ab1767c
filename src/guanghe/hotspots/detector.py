"""The burst detector: each topic's hourly activity scored against its own baseline.

A *key* is one (vertical, topic) pair. Its activity in hour ``h`` is the works published with
the topic plus the engagement (likes, comments, shares) on works carrying it, engagement scaled
per vertical so that it makes ``engagement_share`` of the vertical's activity over the span
(one viral work must not outweigh many creators taking up a topic).

For every hour and every window length ``L`` of :attr:`windows_hours`, the window
``(h - L, h]`` is compared with the key's own baseline, the :attr:`baseline_hours` before the
window: its expected activity is the vertical's activity in the window times the key's share of
the vertical in the baseline (with a half-count prior, so a new topic has a small, non-zero
share), at least ``min_expected``. The score is the signed root of the one-sided Poisson
log-likelihood ratio (Kulldorff's scan statistic), ``z = sqrt(2 (W ln(W/E) - (W - E)))`` for
``W > E``, a z-like number: the key's score. A key is *hot* in hour ``h`` when, in some
window, the same test on its works alone (works with the topic against its share of the
vertical's works) reaches ``min_score`` with a lift of at least ``min_lift`` and at least
``min_support`` works: engagement, heavy-tailed (one viral work), raises a burst's score but
cannot make one. Scaling by the vertical's own volume takes out the daily rhythm
and the platform's growth; only a topic's change of share counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from guanghe.errors import InvalidInput
from guanghe.hotspots._kernels import scan_windows

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Hotspot states by code (``states_``); code 0 is "not hot".
STATES: Final = ("", "rising", "peaking", "fading")
#: Pseudo-count added to a key's baseline activity, and to the vertical's.
_PRIOR: Final = 0.5


@dataclass(frozen=True, slots=True)
class TopicCounts:
    """Hourly counts of ``K`` keys over ``H`` consecutive hours.

    ``works`` and ``engagement`` (int64, ``(K, H)``): works published with the key's topic and
    engagement on such works, per hour; ``key_group`` (int64, ``(K,)``): the vertical row of
    each key; ``group_works`` and ``group_engagement`` (int64, ``(G, H)``): every work and all
    engagement of each vertical per hour (every topic, counted once per work).
    """

    works: IntArray
    engagement: IntArray
    key_group: IntArray
    group_works: IntArray
    group_engagement: IntArray

    @property
    def shape(self) -> tuple[int, int]:
        """``(K, H)``."""
        return (int(self.works.shape[0]), int(self.works.shape[1]))


def hourly_counts(
    key: IntArray,
    hour: IntArray,
    n_keys: int,
    n_hours: int,
    weight: NDArray[np.float64] | IntArray | None = None,
) -> IntArray:
    """Sum of ``weight`` (1 by default) per ``(key, hour)`` as a dense ``(n_keys, n_hours)``
    matrix; one ``bincount``, O(rows + K H)."""
    flat = key * n_hours + hour
    counts = np.bincount(flat, weights=weight, minlength=n_keys * n_hours)
    return np.rint(counts).astype(np.int64).reshape(n_keys, n_hours)


class HotspotDetector:
    """Find the hours in which each key's activity bursts above its own baseline.

    Parameters
    ----------
    windows_hours : tuple of int
        Window lengths scanned at every hour (short windows see sharp bursts early, long ones
        slow ones).
    baseline_hours : int
        Hours before a window that make its baseline; hours whose baseline is shorter than a
        quarter of this are not scored.
    min_support : int
        Fewest distinct works with the topic in the window.
    min_score : float
        Least scan statistic ``z`` (about the z-score of a one-sided Poisson test).
    min_lift : float
        Least ratio of observed to expected activity.
    min_expected : float
        Floor of the expected activity of a window.
    engagement_share : float
        Share of a vertical's activity that its engagement makes, in ``[0, 1)``.
    fade_ratio : float
        A hot key whose last shortest-window activity fell below this share of its peak since
        the burst began is ``fading``.
    recent_hours : int
        A key is reported (``states_`` non-zero) when it was hot in the last this-many hours.

    Attributes
    ----------
    scores_ : ndarray of float64, shape (K, H)
        Largest ``z`` over the windows ending at each hour.
    lifts_ : ndarray of float64, shape (K, H)
        Observed over expected activity in the window of that largest ``z``.
    hot_ : ndarray of bool, shape (K, H)
    onset_hour_ : ndarray of int64, shape (K,)
        First hot hour of the burst that is current at the last hour (-1 if none).
    first_hot_hour_ : ndarray of int64, shape (K,)
        First hot hour at all (-1 if never).
    peak_hour_ : ndarray of int64, shape (K,)
        Hour of the highest shortest-window activity since ``onset_hour_`` (-1 if none).
    states_ : ndarray of int8, shape (K,)
        Index into :data:`STATES` at the last hour.

    Notes
    -----
    Cost is O(K H |windows|) time and O(K H) memory: prefix sums over hours, then one compiled
    pass over every key, hour and window (``_kernels.scan_windows``). Kulldorff, "A spatial
    scan statistic" (1997); Kleinberg, "Bursty and hierarchical structure in streams" (2002).
    """

    def __init__(
        self,
        *,
        windows_hours: tuple[int, ...] = (3, 6, 12, 24),
        baseline_hours: int = 168,
        min_support: int = 5,
        min_score: float = 5.0,
        min_lift: float = 3.0,
        min_expected: float = 1.0,
        engagement_share: float = 0.3,
        fade_ratio: float = 0.6,
        recent_hours: int = 24,
    ) -> None:
        self.windows_hours = windows_hours
        self.baseline_hours = baseline_hours
        self.min_support = min_support
        self.min_score = min_score
        self.min_lift = min_lift
        self.min_expected = min_expected
        self.engagement_share = engagement_share
        self.fade_ratio = fade_ratio
        self.recent_hours = recent_hours

    def fit(self, counts: TopicCounts) -> HotspotDetector:
        """Score every key at every hour of ``counts``; returns ``self``."""
        self._check(counts)
        weight = self.engagement_weights(counts)
        activity = counts.works + weight[counts.key_group, None] * counts.engagement
        volume = counts.group_works + weight[:, None] * counts.group_engagement
        self.scores_, self.lifts_, self.hot_ = scan_windows(
            _prefix(activity),
            _prefix(volume),
            _prefix(counts.works),
            _prefix(counts.group_works),
            counts.key_group,
            np.asarray(self.windows_hours, dtype=np.int64),
            self.baseline_hours,
            _PRIOR,
            self.min_expected,
            self.min_score,
            self.min_lift,
            float(self.min_support),
        )
        self._summarise(activity)
        return self

    def engagement_weights(self, counts: TopicCounts) -> FloatArray:
        """Per vertical, the weight of one engagement action against one published work."""
        works = counts.group_works.sum(axis=1).astype(np.float64)
        engaged = counts.group_engagement.sum(axis=1).astype(np.float64)
        odds = self.engagement_share / (1.0 - self.engagement_share)
        return np.where(engaged > 0, odds * np.maximum(works, 1.0) / np.maximum(engaged, 1.0), 0.0)

    def _summarise(self, activity: FloatArray) -> None:
        """Onsets, peaks and the state of each key at the last hour."""
        k, h = activity.shape
        hot = self.hot_
        hours = np.arange(h)
        ever = hot.any(axis=1)
        self.first_hot_hour_ = np.where(ever, hot.argmax(axis=1), -1).astype(np.int64)
        last_hot = np.where(ever, h - 1 - hot[:, ::-1].argmax(axis=1), -1).astype(np.int64)
        reported = ever & (last_hot >= h - self.recent_hours)
        # the current burst began after the last gap of more than a day without a hot hour
        cold_since = np.where(~hot, hours, -1)
        gap_start = np.maximum.accumulate(cold_since, axis=1)
        run_start = np.where(hot, gap_start + 1, h)
        onset = np.full(k, -1, dtype=np.int64)
        if reported.any():
            onset[reported] = _burst_onsets(run_start[reported], hot[reported], last_hot[reported])
        self.onset_hour_ = onset
        short = min(self.windows_hours)
        level = _prefix(activity)
        level = level[:, 1:] - level[:, np.maximum(np.arange(1, h + 1) - short, 0)]
        since = hours[None, :] >= onset[:, None]
        peak_level = np.where(since & reported[:, None], level, -1.0)
        peak = peak_level.max(axis=1)
        self.peak_hour_ = np.where(reported, peak_level.argmax(axis=1), -1).astype(np.int64)
        now_level = level[:, -1]
        before = level[:, -1 - short] if h > short else np.zeros(k)
        fading = now_level < self.fade_ratio * peak
        rising = ~fading & (now_level > 1.15 * before) & (now_level >= 0.9 * peak)
        states = np.where(fading, 3, np.where(rising, 1, 2))
        self.states_ = np.where(reported, states, 0).astype(np.int8)

    def _check(self, counts: TopicCounts) -> None:
        k, h = counts.shape
        if counts.engagement.shape != (k, h):
            raise InvalidInput("works and engagement must have the same shape")
        if counts.key_group.shape != (k,):
            raise InvalidInput("key_group needs one vertical row per key")
        g = counts.group_works.shape[0]
        if counts.group_works.shape != (g, h) or counts.group_engagement.shape != (g, h):
            raise InvalidInput("the vertical totals must have one row per vertical and H hours")
        if k and (counts.key_group.min() < 0 or counts.key_group.max() >= g):
            raise InvalidInput("key_group names a vertical row that does not exist")
        if not self.windows_hours or min(self.windows_hours) < 1:
            raise InvalidInput("windows_hours needs at least one window of at least one hour")
        if self.baseline_hours < 1 or self.min_support < 1 or self.recent_hours < 1:
            raise InvalidInput("baseline_hours, min_support and recent_hours must be positive")
        if self.min_score <= 0 or self.min_lift < 1 or self.min_expected <= 0:
            raise InvalidInput("min_score and min_expected must be positive, min_lift >= 1")
        if not 0 <= self.engagement_share < 1 or not 0 < self.fade_ratio < 1:
            raise InvalidInput("engagement_share must lie in [0, 1) and fade_ratio in (0, 1)")


def _prefix(values: NDArray[np.float64] | IntArray) -> FloatArray:  # (K, H) -> (K, H + 1)
    """Prefix sums along hours with a leading zero column: ``(K, H + 1)``."""
    out = np.zeros((values.shape[0], values.shape[1] + 1))
    np.cumsum(values, axis=1, out=out[:, 1:])
    return out


def _burst_onsets(run_start: IntArray, hot: BoolArray, last_hot: IntArray) -> IntArray:
    """First hour of the burst holding ``last_hot`` per row: hot runs less than a day apart
    belong to one burst."""
    k, h = hot.shape
    onset = run_start[np.arange(k), last_hot]
    for _ in range(h // 24 + 1):  # step back over gaps shorter than a day, a run at a time
        prev = onset - 1
        lookback = np.clip(prev[:, None] - np.arange(24)[None, :], 0, h - 1)
        near = hot[np.arange(k)[:, None], lookback] & (prev[:, None] - np.arange(24) >= 0)
        step_back = near.any(axis=1) & (onset > 0)
        if not step_back.any():
            break
        nearest = lookback[np.arange(k), near.argmax(axis=1)]
        onset = np.where(step_back, run_start[np.arange(k), nearest], onset)
    return onset.astype(np.int64)
