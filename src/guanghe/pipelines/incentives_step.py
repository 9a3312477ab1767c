"""The cycle's ``incentives`` step: the programmes' enrolments, progress and rewards as of the
date (needs the date's features and growth snapshots and the originality verdicts).

For every programme running on date ``D`` (the programmes file copied into the store first,
budgets funded): the eligible creators of ``D``'s window are enrolled with their personal
target, every enrolment of the window is brought up to ``D`` from the event log (blocked copies
excluded), and every completed, unpaid window is paid once from the programme's budget. A
reward the budget cannot pay is a problem of the report (not a money problem: the budget is
the programme's rule), and is tried again on the next cycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Final

import numpy as np
from sqlalchemy.orm import Session

from guanghe.creators import vertical_ids
from guanghe.events import EventLog
from guanghe.incentives import (
    Candidates,
    DailyPlays,
    ProgressReport,
    StoredProgramme,
    baseline_window,
    enrol_and_update,
    load_programmes,
    programmes_path,
    settle_rewards,
    sync_programmes,
    window_activity,
)
from guanghe.ledger import TransferStatus
from guanghe.originality import blocked_work_ids
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.feature_step import SNAPSHOT as FEATURES
from guanghe.pipelines.growth_step import SNAPSHOT as GROWTH
from guanghe.pipelines.reports import Problem, StepReport
from guanghe.snapshots import read_snapshot

#: The sum as BIGINT: DuckDB's own (128-bit) would reach NumPy as Python decimals.
PLAYS_SQL: Final = """
    SELECT creator_id, work_id, date, CAST(sum(count) AS BIGINT) AS plays
    FROM events
    WHERE type = 'play' AND date BETWEEN ? AND ?
    GROUP BY creator_id, work_id, date
"""


def run(ctx: CycleContext) -> StepReport:
    """Enrol, update progress and pay rewards for the cycle's date."""
    runtime, day, now = ctx.runtime, ctx.date, ctx.now
    file_programmes = load_programmes(programmes_path(runtime.settings.data_dir))
    stored = runtime.write(lambda s: sync_programmes(s, file_programmes, now=now))
    running = [p for p in stored if p.programme.window_of(day) is not None]
    counts = {"programmes": len(running), "enrolled": 0, "updated": 0, "completed": 0, "paid": 0}
    problems: list[Problem] = []
    if not running:
        return StepReport("incentives", counts)
    candidates = load_candidates(ctx)
    plays = daily_plays(runtime.event_log, running, day)
    with runtime.sessions() as session:
        duplicates = blocked_work_ids(session)
        verticals = {
            p.id: vertical_ids(
                session, p.programme.eligibility.verticals, field=f"{p.programme.name}.verticals"
            )
            for p in running
        }
    for programme in running:
        progress, paid = run_programme(
            ctx, programme, candidates, verticals[programme.id], plays, duplicates
        )
        counts["enrolled"] += progress.enrolled
        counts["updated"] += progress.updated
        counts["completed"] += progress.completed
        counts["paid"] += paid.paid
        problems += [
            Problem(
                "incentive_reward",
                key,
                "not paid: the programme's budget is spent"
                if status == TransferStatus.EXCEEDS_CREDITS
                else f"not paid: {status}",
                affects_money=status != TransferStatus.EXCEEDS_CREDITS,
            )
            for key, status in paid.unpaid
        ]
    return StepReport("incentives", counts, tuple(problems))


def run_programme(
    ctx: CycleContext,
    programme: StoredProgramme,
    candidates: Candidates,
    verticals: tuple[int, ...],
    plays: DailyPlays,
    duplicates: Collection[int],
) -> tuple[ProgressReport, ProgressReport]:
    """One running programme's day: enrolments and progress, then the rewards it pays
    (``duplicates``: the works judged copies, whose plays and publications never count)."""
    day, now = ctx.date, ctx.now
    window = programme.programme.window_of(day)
    assert window is not None
    activity = window_activity(plays, window[0], day, duplicates)

    def update(session: Session) -> ProgressReport:
        return enrol_and_update(
            session, programme, candidates, verticals, activity, day, duplicates
        )

    def settle(session: Session) -> ProgressReport:
        return settle_rewards(session, programme, day=day, now=now)

    return ctx.runtime.write(update), ctx.runtime.write(settle)


def load_candidates(ctx: CycleContext) -> Candidates:
    """Every creator assessed on the cycle's date, with what eligibility looks at."""
    growth = read_snapshot(ctx.snapshots, GROWTH, ctx.date)
    features = read_snapshot(ctx.snapshots, FEATURES, ctx.date).select(
        ["creator_id", "tenure_days"]
    )
    joined = growth.join(features, "creator_id", join_type="left outer").sort_by("creator_id")
    return Candidates(
        creator_id=joined["creator_id"].to_numpy().astype(np.int64),
        vertical_id=joined["vertical_id"].to_numpy().astype(np.int64),
        stage=np.asarray(joined["stage"].to_pylist(), dtype=np.str_),
        in_pool=joined["in_pool"].to_numpy(zero_copy_only=False).astype(bool),
        tenure_days=np.nan_to_num(
            joined["tenure_days"].to_numpy(zero_copy_only=False).astype(np.float64)
        ).astype(np.int64),
    )


def daily_plays(log: EventLog, running: list[StoredProgramme], day: dt.date) -> DailyPlays:
    """Plays by creator, work and day from the earliest baseline of the ``running``
    programmes' windows to ``day``."""
    starts = [p.programme.window_of(day) for p in running]
    first = min(baseline_window(w[0])[0] for w in starts if w is not None)
    with log.connect() as con:
        return DailyPlays.from_arrow(con.sql(PLAYS_SQL, params=[first, day]).to_arrow_table())
