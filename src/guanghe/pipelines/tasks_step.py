"""The cycle's ``tasks`` step: expire lapsed acceptances, check submitted works, end tasks
whose window closed (releasing unused reservations), then offer every creator the most
suitable open tasks under the slot limits.

Inputs: tasks and claims, the originality verdicts, plays per work from the event log, the
day's ``creator_growth`` snapshot (quality, works, tier) when there is one, and past offers'
outcomes. Outputs: claims' states, the dated ``task_offers`` snapshot and the offers the API
serves. A re-run of a date writes the same offers.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session

from guanghe.creators import load_rules, rules_path
from guanghe.originality import blocked_work_ids
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.growth_step import SNAPSHOT as GROWTH
from guanghe.pipelines.reports import StepReport
from guanghe.runtime import Runtime
from guanghe.snapshots import read_snapshot, snapshot_path, write_snapshot
from guanghe.tasks import check_submissions, end_tasks, expire_claims
from guanghe.tasks.offers import (
    creator_frame,
    fit_models,
    open_tasks,
    past_outcomes,
    replace_offers,
    taken_pairs,
)
from guanghe.tasks.recommend import OfferRules, Offers, recommend

SNAPSHOT: Final = "task_offers"
OFFERS_SCHEMA: Final = pa.schema(
    [
        ("creator_id", pa.int64()),
        ("rank", pa.int64()),
        ("task_id", pa.int64()),
        ("p_accept", pa.float64()),
        ("p_complete", pa.float64()),
        ("value_fen", pa.float64()),
        ("rule", pa.string()),
    ]
)


def run(ctx: CycleContext) -> StepReport:
    """Settle the day's claims and tasks, then write the day's offers."""
    plays = lambda windows: work_plays(ctx.runtime, windows)  # noqa: E731

    def settle(session: Session) -> dict[str, int]:
        expired = expire_claims(session, now=ctx.now)
        checked = check_submissions(
            session,
            duplicates=blocked_work_ids(session),
            plays=plays,
            today=ctx.date,
            now=ctx.now,
        )
        ended, released = end_tasks(session, now=ctx.now)
        return {
            "expired": expired,
            "checked": checked["checked"],
            "rejected": checked["rejected"],
            "awaiting_plays": checked["wait"],
            "tasks_ended": ended,
            "reservations_released": released,
        }

    counts = ctx.runtime.write(settle)
    offers, model = recommend_offers(ctx.runtime, ctx.date, ctx.now)
    counts.update(
        offers=len(offers),
        creators_offered=int(np.unique(offers.creator_id).shape[0]),
        learned_model=int(model == "learned"),
    )
    return StepReport("tasks", counts)


def recommend_offers(runtime: Runtime, date: dt.date, now: dt.datetime) -> tuple[Offers, str]:
    """Solve the day's assignment and write its offers and snapshot; returns the offers and
    whether the acceptance model was ``learned`` or the ``prior``."""
    rules = load_rules(rules_path(runtime.settings.data_dir))
    priority_tiers = frozenset(
        t.name for t in rules.tiers if "priority_tasks" in rules.rights_of(t.name)
    )
    snapshots = runtime.settings.snapshots_dir
    growth = (
        read_snapshot(snapshots, GROWTH, date)
        if snapshot_path(snapshots, GROWTH, date).exists()
        else None
    )
    with runtime.sessions() as session:
        creators = creator_frame(session, growth, priority_tiers)
        tasks = open_tasks(session, now)
        taken = taken_pairs(session)
        outcomes = past_outcomes(session, date)
    accept, complete = fit_models(outcomes, np.random.default_rng(date.toordinal()))
    offers = recommend(creators, tasks, taken, accept, complete, OfferRules())
    write_snapshot(snapshots, SNAPSHOT, date, _table(offers))
    runtime.write(lambda s: replace_offers(s, date, offers, now=now))
    return offers, accept.source


def _table(offers: Offers) -> pa.Table:
    return pa.table(
        {
            "creator_id": offers.creator_id,
            "rank": offers.rank,
            "task_id": offers.task_id,
            "p_accept": offers.p_accept,
            "p_complete": offers.p_complete,
            "value_fen": offers.value_fen,
            "rule": [str(w["rule"]) for w in offers.why],
        },
        schema=OFFERS_SCHEMA,
    )


def work_plays(runtime: Runtime, windows: dict[int, tuple[dt.date, dt.date]]) -> dict[int, int]:
    """Plays of each work over its ``(first, last)`` days, from the event log."""
    spans = pa.table(
        {
            "work_id": pa.array(list(windows), pa.int64()),
            "first_day": pa.array([w[0] for w in windows.values()], pa.date32()),
            "last_day": pa.array([w[1] for w in windows.values()], pa.date32()),
        }
    )
    con = runtime.event_log.connect()
    try:
        con.register("_spans", spans)
        rows = con.execute(
            "SELECT e.work_id, sum(e.count) FROM events e JOIN _spans s USING (work_id) "
            "WHERE e.type = 'play' AND e.date BETWEEN s.first_day AND s.last_day "
            "GROUP BY e.work_id"
        ).fetchall()
    finally:
        con.close()
    return {int(w): int(n or 0) for w, n in rows}
