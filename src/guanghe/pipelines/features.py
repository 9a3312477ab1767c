"""Creator features: rolling 7/28/90-day windows per creator as of a date, written once in
Ibis so the same expressions run on DuckDB and on Spark.

Three inputs, all Parquet:

- events (:data:`guanghe.events.EVENT_SCHEMA`): sums of ``count`` per creator, day and type;
- works (``creator_id``, ``published_at``): works published, active days and monthly
  continuous authorship;
- creators (``creator_id``, ``vertical_id``, ``joined_on``, ``follower_count``): every creator
  gets a row, with zeros where nothing happened.

``daily_events`` rolls events up to one row per creator and UTC day, ``daily_activity`` adds
the works (the :data:`DAILY_METRICS`); ``window_features`` turns those days into per-creator
window sums and rates as of a date; ``creator_features`` assembles the snapshot. See
``docs/features.md``.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from typing import Final

import ibis
from ibis.expr.types import BooleanValue, IntegerColumn, Table

#: Rolling windows, in days, ending on (and including) the as-of date.
WINDOWS_DAYS: Final = (7, 28, 90)
#: How far back monthly continuous authorship looks, in calendar months.
MAX_CONTINUOUS_MONTHS: Final = 12

#: Per creator and day; the event type each comes from (``None``: from works).
DAILY_METRICS: Final[dict[str, tuple[str, ...] | None]] = {
    "works": None,
    "exposures_organic": ("exposure",),
    "exposures_boosted": ("exposure",),
    "plays": ("play",),
    "engagements": ("like", "comment", "share"),
    "follows": ("follow",),
    "unfollows": ("unfollow",),
    "orders": ("order",),
    "gmv_fen": ("order",),
    "ad_impressions": ("ad_impression",),
    "ad_clicks": ("ad_click",),
}
#: Window columns: ``<metric>_<w>d`` for each metric and ``active_days_<w>d``.
WINDOW_METRICS: Final = (*DAILY_METRICS, "active_days")
#: Ratio columns: name → (numerator, denominator) metric.
RATES: Final = {
    "engagement_rate": ("engagements", "plays"),
    "play_rate": ("plays", "exposures"),
    "follow_rate": ("follows", "exposures"),
    "unfollow_ratio": ("unfollows", "follows"),
}


def daily_events(events: Table, first: dt.date, last: dt.date) -> Table:
    """The events' part of :func:`daily_activity`: one row per creator and UTC day in
    ``[first, last]`` that has events, with the :data:`DAILY_METRICS` (``works`` zero)."""
    day = events.ts.date()
    events = events.filter(day >= first, day <= last).mutate(day=day)
    n = events["count"]
    kind = events.type

    def total(condition: BooleanValue, value: IntegerColumn | None = None) -> IntegerColumn:
        amount = n if value is None else value
        return ibis.ifelse(condition, amount, 0).sum().cast("int64")

    return events.group_by(["creator_id", "day"]).aggregate(
        works=ibis.literal(0, "int64"),
        exposures_organic=total((kind == "exposure") & ~events.boosted.fill_null(False)),
        exposures_boosted=total((kind == "exposure") & events.boosted.fill_null(False)),
        plays=total(kind == "play"),
        engagements=total(kind.isin(["like", "comment", "share"])),
        follows=total(kind == "follow"),
        unfollows=total(kind == "unfollow"),
        orders=total(kind == "order"),
        gmv_fen=total(kind == "order", events.amount_fen.fill_null(0)),
        ad_impressions=total(kind == "ad_impression"),
        ad_clicks=total(kind == "ad_click"),
    )


def daily_activity(by_day: Table, works: Table, first: dt.date, last: dt.date) -> Table:
    """One row per creator and UTC day in ``[first, last]`` with the :data:`DAILY_METRICS`:
    the events' days ``by_day`` (:func:`daily_events`, of these days or more) and the works
    published."""
    from_events = by_day.filter(by_day.day >= first, by_day.day <= last)
    published = works.published_at.date()
    works = works.filter(published >= first, published <= last).mutate(day=published)
    zero = ibis.literal(0, "int64")
    from_works = works.group_by(["creator_id", "day"]).aggregate(
        works=works.count().cast("int64"),
        **{name: zero for name in DAILY_METRICS if name != "works"},
    )
    both = from_events.select("creator_id", "day", *DAILY_METRICS).union(
        from_works.select("creator_id", "day", *DAILY_METRICS)
    )
    return both.group_by(["creator_id", "day"]).aggregate(
        **{name: both[name].sum().cast("int64") for name in DAILY_METRICS}
    )


def window_features(daily: Table, as_of: dt.date) -> Table:
    """Per creator with any day in the longest window: ``<metric>_<w>d`` sums over the days
    ``(as_of - w, as_of]`` for each of :data:`WINDOWS_DAYS`, and ``active_days_<w>d`` (days
    with a published work).

    The windows are nested, so each day is read once: the days are cut into disjoint
    segments (the last 7 days, the 21 before, the 62 before those), each filtered by its own
    day range (Parquet row groups outside it are skipped) and summed with plain ``sum``s; the
    segments are joined on the creator and a window is the sum of its segments. Conditional
    sums over every day (``sum(if(day > start, x, 0))`` per window and metric) cost about
    twice the CPU on DuckDB; re-grouping the segments' union instead of joining them, about
    a quarter more.
    """
    daily = daily.mutate(active_days=ibis.ifelse(daily.works > 0, 1, 0).cast("int64"))
    parts = []
    newer = 0
    for i, w in enumerate(sorted(WINDOWS_DAYS)):
        days = daily.filter(
            daily.day > as_of - dt.timedelta(days=w),
            daily.day <= as_of - dt.timedelta(days=newer),
        )
        parts.append(
            days.group_by("creator_id").aggregate(
                **{f"{name}_{i}": days[name].sum() for name in WINDOW_METRICS}
            )
        )
        newer = w
    segments = functools.reduce(_full_join_on_creator, parts)
    sums = {}
    for i, w in enumerate(sorted(WINDOWS_DAYS)):
        for name in WINDOW_METRICS:
            terms = [segments[f"{name}_{j}"].fill_null(0) for j in range(i + 1)]
            sums[f"{name}_{w}d"] = functools.reduce(operator.add, terms).cast("int64")
    return segments.select("creator_id", **sums)


def _full_join_on_creator(left: Table, right: Table) -> Table:
    joined = left.outer_join(right, "creator_id")
    creator_id = joined.creator_id.coalesce(joined.creator_id_right)
    return joined.mutate(creator_id=creator_id).drop("creator_id_right")


def continuous_months(works: Table, as_of: dt.date) -> Table:
    """``continuous_months`` per creator: the run of consecutive calendar months, each with a
    published work, that ends in the month of ``as_of`` (or the month before, while the
    current month has no work yet); at most :data:`MAX_CONTINUOUS_MONTHS`."""
    current = as_of.year * 12 + as_of.month - 1
    published = works.published_at.date()
    month = (published.year() * 12 + published.month() - 1).cast("int64")
    months = (
        works.filter(published <= as_of)
        .mutate(month=month)
        .filter(lambda t: t.month > current - MAX_CONTINUOUS_MONTHS)
        .select("creator_id", "month")
        .distinct()
    )
    by_creator = ibis.window(group_by="creator_id", order_by=ibis.desc("month"))
    ranked = months.mutate(
        back=ibis.row_number().over(by_creator).cast("int64"),
        newest=months.month.max().over(ibis.window(group_by="creator_id")),
    )
    run = ranked.filter(ranked.month + ranked.back == ranked.newest, ranked.newest >= current - 1)
    return run.group_by("creator_id").aggregate(continuous_months=run.count().cast("int64"))


def creator_features(creators: Table, daily: Table, works: Table | None, as_of: dt.date) -> Table:
    """The features snapshot as of ``as_of``: one row per creator, ordered by ``creator_id``.

    Columns: the creator's ``vertical_id``, ``tenure_days`` and ``follower_count``; the
    window sums; ``exposures_<w>d`` (organic + boosted); the :data:`RATES` per window (null
    where the denominator is zero); ``income_sources_<w>d`` (commerce orders, profile-page
    ads: how many had activity); and ``continuous_months`` (0 without ``works``).
    """
    windows = window_features(daily, as_of)
    joined = creators.left_join(windows, "creator_id").drop("creator_id_right")
    if works is not None:
        streaks = continuous_months(works, as_of)
        joined = joined.left_join(streaks, "creator_id").drop("creator_id_right")
    else:
        joined = joined.mutate(continuous_months=ibis.literal(0, "int64"))
    window_columns = [f"{m}_{w}d" for w in WINDOWS_DAYS for m in WINDOW_METRICS]
    filled = joined.mutate(
        **{c: joined[c].fill_null(0) for c in [*window_columns, "continuous_months"]},
        tenure_days=(ibis.literal(as_of) - joined.joined_on).cast("int64"),
    )
    derived = {}
    for w in WINDOWS_DAYS:
        exposures = filled[f"exposures_organic_{w}d"] + filled[f"exposures_boosted_{w}d"]
        derived[f"exposures_{w}d"] = exposures
        columns = {**{m: filled[f"{m}_{w}d"] for m in DAILY_METRICS}, "exposures": exposures}
        for rate, (num, den) in RATES.items():
            derived[f"{rate}_{w}d"] = columns[num].cast("float64") / columns[den].nullif(0)
        sources = ibis.ifelse(filled[f"orders_{w}d"] > 0, 1, 0) + ibis.ifelse(
            filled[f"ad_impressions_{w}d"] > 0, 1, 0
        )
        derived[f"income_sources_{w}d"] = sources.cast("int64")
    result = filled.mutate(**derived)
    ordered = ["creator_id", "vertical_id", "tenure_days", "follower_count"]
    rest = sorted(c for c in result.columns if c not in ordered and c != "joined_on")
    return result.select(*ordered, *rest).order_by("creator_id")
