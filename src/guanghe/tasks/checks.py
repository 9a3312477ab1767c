"""The cycle's automatic check of submissions, and the end of tasks.

A submitted work passes when it is the creator's, was published inside the task's window,
carries the task's hashtag, is not judged a duplicate (:mod:`guanghe.originality`) and reached
``min_plays`` within ``plays_within_days`` of publication (plays from the event log). A work
that fails any of the first four is rejected at once; one short of its plays waits until its
days have passed, then is rejected with what it reached. A passing one is ``checked`` and
waits for an operator's review.

A task ends once its window has closed and no claim is still live (accepted, submitted or
checked); ending it voids the reservations of its unused slots.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.store import Task, TaskClaim, Work
from guanghe.tasks.catalog import normal_tag
from guanghe.tasks.funding import release_slots, rewards

#: ``plays(work_ids, first_day_by_work, last_day_by_work) -> plays by work``.
PlaysReader = Callable[[dict[int, tuple[dt.date, dt.date]]], dict[int, int]]


@dataclass(frozen=True, slots=True)
class WorkFacts:
    """What the check needs to know of a submitted work."""

    creator_id: int
    published_at: dt.datetime
    hashtags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    """``checked``, ``rejected`` or ``wait`` (plays still to come), and why."""

    outcome: str
    note: str


def judge_submission(
    task: Task,
    creator_id: int,
    work: WorkFacts | None,
    *,
    duplicate: bool,
    plays: int,
    today: dt.date,
) -> Verdict:
    """The verdict on one submission (pure: every fact is given)."""
    if work is None or work.creator_id != creator_id:
        return Verdict("rejected", "the work is not the creator's")
    if not task.starts_at <= work.published_at < task.ends_at:
        return Verdict("rejected", "the work was not published within the task's window")
    if task.hashtag is not None and task.hashtag not in {normal_tag(t) for t in work.hashtags}:
        return Verdict("rejected", f"the work does not carry {task.hashtag}")
    if duplicate:
        return Verdict("rejected", "the work is judged a duplicate of another creator's original")
    last_day = work.published_at.date() + dt.timedelta(days=task.plays_within_days - 1)
    if plays >= task.min_plays:
        return Verdict(
            "checked",
            f"{plays:,} plays within {task.plays_within_days} days (needs {task.min_plays:,})",
        )
    if today < last_day:
        return Verdict("wait", f"{plays:,} of {task.min_plays:,} plays so far")
    return Verdict(
        "rejected",
        f"reached {plays:,} of {task.min_plays:,} plays within {task.plays_within_days} days",
    )


def check_submissions(
    session: Session,
    *,
    duplicates: frozenset[int],
    plays: PlaysReader,
    today: dt.date,
    now: dt.datetime,
) -> dict[str, int]:
    """Judge every submitted claim; returns how many were checked, rejected or left waiting."""
    rows = session.execute(
        select(TaskClaim, Task)
        .join(Task, Task.id == TaskClaim.task_id)
        .where(TaskClaim.status == "submitted")
        .order_by(TaskClaim.id)
        .with_for_update(of=TaskClaim)
    ).all()
    work_ids = sorted({int(c.work_id) for c, _ in rows if c.work_id is not None})
    facts = {
        int(w.id): WorkFacts(int(w.creator_id), w.published_at, tuple(w.hashtags or ()))
        for w in session.scalars(select(Work).where(Work.id.in_(work_ids)))
    }
    windows = {
        w: (
            f.published_at.date(),
            f.published_at.date() + dt.timedelta(days=t.plays_within_days - 1),
        )
        for c, t in rows
        if c.work_id is not None and (w := int(c.work_id)) in facts and (f := facts[w])
    }
    played = plays(windows) if windows else {}
    counts = {"checked": 0, "rejected": 0, "wait": 0}
    for claim, task in rows:
        work_id = int(claim.work_id) if claim.work_id is not None else -1
        verdict = judge_submission(
            task,
            claim.creator_id,
            facts.get(work_id),
            duplicate=work_id in duplicates,
            plays=played.get(work_id, 0),
            today=today,
        )
        counts[verdict.outcome] += 1
        if verdict.outcome == "wait":
            continue
        claim.status, claim.checked_at, claim.check_note = verdict.outcome, now, verdict.note[:400]
        if verdict.outcome == "rejected":
            claim.reason, claim.decided_at, claim.decided_by = verdict.note[:400], now, "cycle"
    session.flush()
    return counts


def end_tasks(session: Session, *, now: dt.datetime) -> tuple[int, int]:
    """End every open task whose window has closed and which has no live claim, releasing its
    unused slots' reservations; returns (tasks ended, reservations voided)."""
    tasks = session.scalars(
        select(Task)
        .where(Task.status == "open", Task.ends_at <= now)
        .order_by(Task.id)
        .with_for_update()
    ).all()
    ended = voided = 0
    for task in tasks:
        states = session.execute(
            select(TaskClaim.slot_no, TaskClaim.status).where(TaskClaim.task_id == task.id)
        ).all()
        if any(s in ("accepted", "submitted", "checked") for _, s in states):
            continue
        approved = {int(n) for n, s in states if s == "approved"}
        unused = [n for n in range(1, task.slots + 1) if n not in approved]
        voided += release_slots(
            session,
            task.id,
            rewards(task.reward_fen, task.reward_impressions, task.agent_commission_fen),
            unused,
            now=now,
        )
        task.status, task.ended_at = "ended", now
        ended += 1
    session.flush()
    return ended, voided
