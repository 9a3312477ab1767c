"""Creators and institutions of the synthetic platform, with their hidden traits.

Days are counted from the first simulated day (day 0); negative days lie before the period.

Followers are log-normal, growing with tenure. The platform's head, a few long-active
*established* creators (about 0.2 %, at least :data:`HEAD_MIN` where the platform has 20
creators per head creator), are drawn from the upper tail of that same distribution
(10,000 to 10,000,000 followers, stratified so that a small platform has the whole range),
with the quality the distribution gives their place in it. They publish about daily, also in
the months before the period (see :mod:`guanghe.sim.content`), and half of them sell products.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from guanghe.sim.vocabulary import (
    HANDLE_WORDS,
    INSTITUTION_KINDS,
    INSTITUTION_WORDS,
    NAME_ADJECTIVES,
    VERTICAL_WORDS,
)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: Relative size of each vertical (ids 1..16): food, gaming and comedy dominate.
VERTICAL_POPULARITY: Final = np.array(
    [14, 12, 12, 7, 8, 5, 5, 6, 5, 4, 5, 2, 6, 5, 2, 4], dtype=np.float64
)
#: Follows per boosted impression ceiling by vertical (multiplies ``response_a``).
VERTICAL_RESPONSE: Final = np.array(
    [1.0, 1.3, 1.4, 0.8, 1.1, 1.2, 0.9, 1.0, 0.7, 0.8, 0.9, 1.1, 1.0, 1.3, 0.6, 1.2]
)
#: Verticals whose creators sell products more often (ids).
COMMERCE_VERTICALS: Final = (1, 5, 10, 13)
STAGE_NAMES: Final = ("novice", "growing", "mature")
#: Share of established creators, their least number, and their range of followers and tenure.
HEAD_SHARE: Final = 0.002
HEAD_MIN: Final = 8
HEAD_FOLLOWERS: Final = (10_000, 10_000_000)
HEAD_TENURE_DAYS: Final = (2 * 365, 6 * 365)
_HISTORY_DAYS: Final = 5 * 365
_LOG_FOLLOWERS_SD: Final = 2.2


@dataclass(frozen=True, slots=True)
class Population:
    """Per-creator arrays, all of shape ``(n,)``; index ``i`` is creator id ``i + 1``."""

    vertical_id: Ints
    joined_day: Ints
    followers_initial: Ints
    quality: Floats
    institution_id: Ints  # 0 when the creator has no institution
    stage_initial: Ints  # index into STAGE_NAMES, assessed at the period start
    response_a: Floats  # follows/day ceiling of boosted traffic
    response_s: Floats  # impressions scale of the saturation
    organic_follow_rate: Floats  # follows per organic exposure
    churn_rate: Floats  # daily unfollow probability per follower
    in_boost_program: Bools
    commerce: Bools
    ads_authorised: Bools
    established: Bools  # the platform's head: large, long-active, publishing before the period
    handle: list[str]
    display_name: list[str]

    @property
    def size(self) -> int:
        """Number of creators."""
        return int(self.quality.shape[0])


@dataclass(frozen=True, slots=True)
class Institutions:
    """MCN institutions: ids ``1..n``."""

    name: list[str]
    founded_day: Ints


def stage_of(joined_day: Ints, followers: Ints, as_of_day: int) -> Ints:
    """Lifecycle stage index per creator on ``as_of_day`` (see :data:`STAGE_NAMES`).

    Novice if joined fewer than 90 days before, or under 10,000 followers; mature with
    500,000 followers or more after two years; growing otherwise.
    """
    tenure = as_of_day - joined_day
    stage = np.ones(joined_day.shape, dtype=np.int64)
    stage[(followers >= 500_000) & (tenure > 730)] = 2
    stage[(tenure < 90) | (followers < 10_000)] = 0
    return stage


def head_size(creators: int) -> int:
    """How many established creators a platform of ``creators`` creators has."""
    return min(max(HEAD_MIN, round(creators * HEAD_SHARE)), creators // 20)


def draw_population(rng: np.random.Generator, creators: int, days: int) -> Population:
    """Draw ``creators`` creators for a period of ``days`` days."""
    n = creators
    vertical_id = 1 + rng.choice(16, size=n, p=VERTICAL_POPULARITY / VERTICAL_POPULARITY.sum())
    in_period = rng.random(n) < 0.08
    before = -np.ceil(_HISTORY_DAYS * rng.beta(1.0, 1.6, size=n)).astype(np.int64)
    joined_day = np.where(in_period, rng.integers(0, days, size=n), before).astype(np.int64)
    head = np.sort(rng.choice(n, size=head_size(n), replace=False))
    joined_day[head] = -rng.integers(*HEAD_TENURE_DAYS, size=head.size)

    # Heavy-tailed followers, growing with tenure; those joining in the period start at 0.
    log_f = rng.normal(0.0, 1.0, size=n)
    tenure_years = np.maximum(-joined_day, 0) / 365.0
    mean_log = np.log(250.0) + 0.6 * np.log1p(tenure_years)
    log_f[head] = (_head_log_followers(rng, head.size) - mean_log[head]) / _LOG_FOLLOWERS_SD
    followers = np.floor(np.exp(mean_log + _LOG_FOLLOWERS_SD * log_f)).astype(np.int64)
    followers[joined_day >= 0] = 0

    # Latent quality: correlated with followers, not determined by them.
    logit_q = -0.9 + 0.55 * log_f + 0.85 * rng.normal(size=n)
    quality = 1.0 / (1.0 + np.exp(-logit_q))

    stage = stage_of(joined_day, followers, 0)
    stage_factor = np.array([1.3, 1.0, 0.6])[stage]
    response_a = (
        np.exp(rng.normal(np.log(6.0), 0.5, size=n))
        * (0.3 + 2.4 * quality)
        * VERTICAL_RESPONSE[vertical_id - 1]
        * stage_factor
    )
    response_s = np.exp(rng.normal(np.log(6_000.0), 0.8, size=n))
    organic_follow_rate = (0.001 + 0.01 * quality) * np.exp(rng.normal(0.0, 0.3, size=n))
    churn_rate = (0.00005 + 0.0004 * (1.0 - quality)) * np.exp(rng.normal(0.0, 0.3, size=n))

    rank = np.argsort(np.argsort(followers + rng.random(n))) / max(n - 1, 1)
    institution_id = _sign_institutions(rng, n, rank)
    commerce_p = np.where(np.isin(vertical_id, COMMERCE_VERTICALS), 0.15, 0.04) * (0.5 + rank)
    commerce = rng.random(n) < commerce_p
    commerce[head] = rng.permutation(head.size) < (head.size + 1) // 2
    established = np.zeros(n, dtype=np.bool_)
    established[head] = True
    words = rng.integers(0, len(HANDLE_WORDS), size=n)
    adjectives = rng.integers(0, len(NAME_ADJECTIVES), size=n)
    handle = [f"c{i + 1:06d}_{HANDLE_WORDS[w]}" for i, w in enumerate(words.tolist())]
    display_name = [
        f"{NAME_ADJECTIVES[a]} {VERTICAL_WORDS[v].persona} {HANDLE_WORDS[w].title()}"
        for a, v, w in zip(adjectives.tolist(), vertical_id.tolist(), words.tolist(), strict=True)
    ]
    return Population(
        vertical_id=vertical_id.astype(np.int64),
        joined_day=joined_day,
        followers_initial=followers,
        quality=quality,
        institution_id=institution_id,
        stage_initial=stage,
        response_a=response_a,
        response_s=response_s,
        organic_follow_rate=organic_follow_rate,
        churn_rate=churn_rate,
        in_boost_program=rng.random(n) < 0.25,
        commerce=commerce,
        ads_authorised=(rng.random(n) < 0.2 + 0.5 * rank) & (followers >= 100),
        established=established,
        handle=handle,
        display_name=display_name,
    )


def _head_log_followers(rng: np.random.Generator, count: int) -> Floats:
    """Log followers of ``count`` established creators: log-uniform over
    :data:`HEAD_FOLLOWERS`, one in each of ``count`` equal strata, in random order."""
    low, high = np.log(HEAD_FOLLOWERS)
    strata = (rng.permutation(count) + rng.random(count)) / max(count, 1)
    return np.asarray(low + (high - low) * strata, dtype=np.float64)


def _sign_institutions(rng: np.random.Generator, n: int, rank: Floats) -> Ints:
    """Institution id per creator (0 for none): about a quarter signed, the bigger the likelier."""
    count = max(1, n // 200)
    signed = rng.random(n) < 0.08 + 0.5 * rank**2
    size_weight = 1.0 / np.arange(1, count + 1) ** 0.8
    choice = 1 + rng.choice(count, size=n, p=size_weight / size_weight.sum())
    return np.where(signed, choice, 0).astype(np.int64)


def draw_institutions(rng: np.random.Generator, population: Population) -> Institutions:
    """Institutions ``1..max(1, n // 200)`` with names and founding days."""
    count = max(1, population.size // 200)
    words = rng.integers(0, len(INSTITUTION_WORDS), size=count).tolist()
    kinds = rng.integers(0, len(INSTITUTION_KINDS), size=count).tolist()
    names = [
        f"{INSTITUTION_WORDS[w]} {INSTITUTION_KINDS[k]} {i + 1}"
        for i, (w, k) in enumerate(zip(words, kinds, strict=True))
    ]
    founded_day = -rng.integers(200, 8 * 365, size=count).astype(np.int64)
    return Institutions(name=names, founded_day=founded_day)
