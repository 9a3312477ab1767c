"""An experiment's report: each metric's effect, CUPED-adjusted with the same metric over the
days before the experiment and post-stratified by the creators' follower size at its start,
read from the event log.

Follow counts are extremely heavy-tailed (a few large creators draw most follows and swing by
half from day to day), so beside the raw sums the report gives ``follows_per_1k_followers``:
each creator's follows per 1,000 of their followers at the start, averaged over creators. Every
creator weighs the same in it, so a few large ones cannot decide the estimate, and it is still a
growth rate an operator can read. Its denominator is fixed before the experiment, so the
creator-level interval needs no delta method.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.errors import NotFound
from guanghe.events import EventLog
from guanghe.experiments.catalog import ExperimentView, assignments, get_experiment
from guanghe.experiments.effects import MIN_ARM_SIZE, Effect, estimate_effect
from guanghe.store import Creator

#: Metric → the SQL sum over a creator's events that measures it.
METRICS: Final = {
    "follows": "sum(count) FILTER (type = 'follow')",
    "net_follows": (
        "coalesce(sum(count) FILTER (type = 'follow'), 0)"
        " - coalesce(sum(count) FILTER (type = 'unfollow'), 0)"
    ),
    "plays": "sum(count) FILTER (type = 'play')",
    "boosted_impressions": "sum(count) FILTER (type = 'exposure' AND boosted)",
    "orders": "sum(count) FILTER (type = 'order')",
    "gmv_fen": "sum(amount_fen) FILTER (type = 'order')",
}
#: The normalised metric (see the module docstring) → what it measures.
FOLLOWS_PER_1K_FOLLOWERS: Final = "follows_per_1k_followers"
#: The fewest followers the normalised metric divides by (a creator with fewer counts this
#: many), so that creators starting from nothing do not divide by zero.
MIN_FOLLOWERS_COUNTED: Final = 1_000
#: What each reported metric measures, per creator over the days analysed.
DEFINITIONS: Final = {
    "follows": "follows",
    "net_follows": "follows minus unfollows",
    "plays": "plays",
    "boosted_impressions": "boosted impressions",
    "orders": "orders",
    "gmv_fen": "GMV in fen",
    FOLLOWS_PER_1K_FOLLOWERS: (
        f"follows per 1,000 followers at the start (at least {MIN_FOLLOWERS_COUNTED:,} "
        "counted), averaged over creators"
    ),
}
#: The pre-period: this many days just before the experiment (fewer if the log has fewer),
#: whatever the analysed length: a longer pre-period foretells a creator's level better.
MAX_PRE_DAYS: Final = 28
#: Follower-size strata: a creator's stratum is the number of these bounds their followers at
#: the start reach (decades: under 100, 100–999, …, 1,000,000 and more).
FOLLOWER_STRATA: Final = (100, 1_000, 10_000, 100_000, 1_000_000)
STRATA_DESCRIPTION: Final = (
    "follower size at the start: under 100, 100-999, 1,000-9,999, 10,000-99,999, "
    "100,000-999,999, 1,000,000 and more (a stratum with under 10 creators in an arm merged"
    " into the next)"
)


@dataclass(frozen=True, slots=True)
class MetricEffect:
    metric: str
    effect: Effect
    sentence: str
    #: What the metric measures (:data:`DEFINITIONS`).
    definition: str = ""


@dataclass(frozen=True, slots=True)
class ExperimentReport:
    experiment: ExperimentView
    #: Days analysed: the experiment's first day to its last or the log's last, if earlier.
    analysed_from: dt.date
    analysed_to: dt.date
    pre_from: dt.date
    pre_to: dt.date
    metrics: tuple[MetricEffect, ...]
    #: What the estimates are post-stratified by.
    strata_by: str = STRATA_DESCRIPTION


def experiment_report(
    session: Session, log: EventLog, experiment_id: int, *, as_of: dt.date | None = None
) -> ExperimentReport:
    """The report of ``experiment_id`` over its days up to ``as_of`` (default: the log's last
    day). :class:`NotFound` before the experiment has a day of events."""
    experiment = get_experiment(session, experiment_id)
    dates = log.dates()
    last_logged = dt.date.fromisoformat(dates[-1]) if dates else None
    end = min(d for d in (experiment.ends_on, as_of, last_logged) if d is not None)
    if last_logged is None or end < experiment.starts_on:
        raise NotFound(
            f"experiment {experiment_id} has no day of events yet (it starts "
            f"{experiment.starts_on})"
        )
    days = (end - experiment.starts_on).days + 1
    pre_to = experiment.starts_on - dt.timedelta(days=1)
    logged_from = dt.date.fromisoformat(dates[0])
    pre_from = max(pre_to - dt.timedelta(days=MAX_PRE_DAYS - 1), min(logged_from, pre_to))
    creator_ids, is_treated = assignments(session, experiment_id)
    post = creator_metrics(log, creator_ids, experiment.starts_on, end)
    pre = creator_metrics(log, creator_ids, pre_from, pre_to)
    followers = followers_at_start(session, log, creator_ids, experiment.starts_on, last_logged)
    per_1k = 1_000.0 / np.maximum(followers, MIN_FOLLOWERS_COUNTED)
    post[FOLLOWS_PER_1K_FOLLOWERS] = post["follows"] * per_1k
    pre[FOLLOWS_PER_1K_FOLLOWERS] = pre["follows"] * per_1k
    strata = follower_stratum(followers)
    scale = days / ((pre_to - pre_from).days + 1)  # the covariate per analysed day
    effects = []
    for metric in DEFINITIONS:
        effect = estimate_effect(post[metric], pre[metric] * scale, is_treated, strata=strata)
        effects.append(
            MetricEffect(metric, effect, describe(metric, effect, days), DEFINITIONS[metric])
        )
    return ExperimentReport(
        experiment=experiment,
        analysed_from=experiment.starts_on,
        analysed_to=end,
        pre_from=pre_from,
        pre_to=pre_to,
        metrics=tuple(effects),
    )


def followers_at_start(
    session: Session,
    log: EventLog,
    creator_ids: npt.NDArray[np.int64],
    starts_on: dt.date,
    last_logged: dt.date,
) -> npt.NDArray[np.float64]:
    """Each creator's followers on the eve of ``starts_on``: their follower count now less
    their net follows logged from ``starts_on`` to ``last_logged`` (0 at least)."""
    rows = session.execute(select(Creator.id, Creator.follower_count)).all()
    known = np.array([r[0] for r in rows], np.int64)
    counts = np.array([r[1] for r in rows], np.float64)
    order = np.argsort(known)
    at = np.clip(np.searchsorted(known[order], creator_ids), 0, max(known.size - 1, 0))
    now = np.zeros(creator_ids.shape[0])
    if known.size:
        hit = known[order][at] == creator_ids
        now[hit] = counts[order][at[hit]]
    since = creator_metrics(log, creator_ids, starts_on, last_logged)["net_follows"]
    return np.maximum(now - since, 0.0)


def follower_stratum(followers: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The :data:`FOLLOWER_STRATA` band of each follower count (0: the smallest)."""
    return np.searchsorted(np.asarray(FOLLOWER_STRATA), followers, side="right").astype(np.int64)


def creator_metrics(
    log: EventLog, creator_ids: npt.NDArray[np.int64], first: dt.date, last: dt.date
) -> dict[str, npt.NDArray[np.float64]]:
    """Each :data:`METRICS` summed per creator of ``creator_ids`` over ``first..last``
    (aligned with ``creator_ids``; 0 where a creator has no event)."""
    columns = ", ".join(f"coalesce({sql}, 0) AS {name}" for name, sql in METRICS.items())
    with log.connect() as con:
        table = con.sql(
            f"SELECT creator_id, {columns} FROM events "
            "WHERE CAST(ts AS DATE) BETWEEN ? AND ? GROUP BY creator_id",
            params=[first, last],
        ).to_arrow_table()
    ids = table["creator_id"].to_numpy().astype(np.int64)
    order = np.argsort(ids)
    at = np.searchsorted(ids[order], creator_ids)
    at = np.minimum(at, max(ids.shape[0] - 1, 0))
    hit = ids[order][at] == creator_ids if ids.shape[0] else np.zeros(creator_ids.shape, bool)
    result = {}
    for name in METRICS:
        values = np.nan_to_num(table[name].to_numpy(zero_copy_only=False).astype(np.float64))
        aligned = np.zeros(creator_ids.shape[0])
        if ids.shape[0]:
            aligned[hit] = values[order][at[hit]]
        result[name] = aligned
    return result


def describe(metric: str, effect: Effect, days: int) -> str:
    """The effect in a sentence an operator can act on."""
    name = DEFINITIONS.get(metric, metric.replace("_", " ")).split(" (")[0]
    pct = f"{effect.confidence:.0%}"
    interval = f"{effect.ci_low:+,.2f} to {effect.ci_high:+,.2f}"
    relative = effect.relative_effect
    share = f" ({relative:+.1%} of control)" if relative is not None else ""
    if (
        effect.verdict == "too small to tell"
        and min(effect.control_creators, effect.treatment_creators) < MIN_ARM_SIZE
    ):
        return (
            f"Too small to tell: {effect.treatment_creators} treated and "
            f"{effect.control_creators} control creators are too few to conclude on {name}."
        )
    head = {
        "increase": f"Treatment raised {name}",
        "decrease": f"Treatment lowered {name}",
        "no detectable change": f"No detectable change in {name}",
        "too small to tell": f"Too small to tell whether treatment changed {name}",
    }[effect.verdict]
    return (
        f"{head}: {effect.effect:+,.2f} per creator over {days} days{share}, {pct} interval "
        f"{interval} ({estimator_words(effect)}); they removed "
        f"{effect.variance_reduction:.0%} of the plain difference's variance."
    )


def estimator_words(effect: Effect) -> str:
    """Which estimator gave the interval, in words."""
    if effect.estimator == "post-stratified cuped":
        return f"CUPED on the pre-period, post-stratified over {effect.strata} follower-size strata"
    return "CUPED on the pre-period"
