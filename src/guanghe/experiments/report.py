"""An experiment's report: each metric's effect, CUPED-adjusted with the same metric over the
days before the experiment, read from the event log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from guanghe.errors import NotFound
from guanghe.events import EventLog
from guanghe.experiments.catalog import ExperimentView, assignments, get_experiment
from guanghe.experiments.effects import MIN_ARM_SIZE, Effect, estimate_effect

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
#: The pre-period covers as many days as the experiment has analysed, at most this many.
MAX_PRE_DAYS: Final = 28


@dataclass(frozen=True, slots=True)
class MetricEffect:
    metric: str
    effect: Effect
    sentence: str


@dataclass(frozen=True, slots=True)
class ExperimentReport:
    experiment: ExperimentView
    #: Days analysed: the experiment's first day to its last or the log's last, if earlier.
    analysed_from: dt.date
    analysed_to: dt.date
    pre_from: dt.date
    pre_to: dt.date
    metrics: tuple[MetricEffect, ...]


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
    pre_from = pre_to - dt.timedelta(days=min(days, MAX_PRE_DAYS) - 1)
    creator_ids, is_treated = assignments(session, experiment_id)
    post = creator_metrics(log, creator_ids, experiment.starts_on, end)
    pre = creator_metrics(log, creator_ids, pre_from, pre_to)
    scale = days / ((pre_to - pre_from).days + 1)  # the covariate per analysed day
    effects = []
    for metric in METRICS:
        effect = estimate_effect(post[metric], pre[metric] * scale, is_treated)
        effects.append(MetricEffect(metric, effect, describe(metric, effect, days)))
    return ExperimentReport(
        experiment=experiment,
        analysed_from=experiment.starts_on,
        analysed_to=end,
        pre_from=pre_from,
        pre_to=pre_to,
        metrics=tuple(effects),
    )


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
    name = metric.replace("_", " ")
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
        f"{interval}; the pre-period removed {effect.variance_reduction:.0%} of the variance."
    )
