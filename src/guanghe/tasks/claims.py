"""A creator's slot of a task: accepted, submitted, checked, then approved (paid once) or
rejected; an acceptance not followed by a submission before its deadline expires.

Lock requirement (accept): the task's row is locked (``FOR UPDATE``; SQLite's one writer) while
the slots held are counted, so concurrent acceptances never take more slots than exist; the
partial unique indexes of ``task_claims`` refuse it again should the lock be skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.creators import CreatorRules, check_right
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.pagination import Page, after_id, check_limit, page_of
from guanghe.store import Creator, Task, TaskClaim, Work
from guanghe.store.task_tables import HOLDING_STATUSES
from guanghe.tasks.funding import pay_slot, rewards

#: ``holds_priority(creator_id)``: whether the creator holds the ``priority_tasks`` right.
PriorityCheck = Callable[[int], bool]


@dataclass(frozen=True, slots=True)
class ClaimView:
    """A creator's slot and submission (``id`` is the submission id of the API)."""

    id: int
    task_id: int
    creator_id: int
    slot_no: int
    status: str
    accepted_at: dt.datetime
    deadline_at: dt.datetime
    work_id: int | None
    submitted_at: dt.datetime | None
    checked_at: dt.datetime | None
    check_note: str
    decided_at: dt.datetime | None
    reason: str


def claim_view(row: TaskClaim) -> ClaimView:
    return ClaimView(
        row.id,
        row.task_id,
        row.creator_id,
        row.slot_no,
        row.status,
        row.accepted_at,
        row.deadline_at,
        row.work_id,
        row.submitted_at,
        row.checked_at,
        row.check_note,
        row.decided_at,
        row.reason,
    )


def check_acts_for_creator(session: Session, principal: Principal, creator_id: int) -> None:
    """Operators act for any creator (:class:`NotFound` for no such creator); a creator token
    for itself only."""
    if principal.role == "operator":
        if session.get(Creator, creator_id) is None:
            raise NotFound(f"creator {creator_id} does not exist")
        return
    if principal.role == "creator":
        if principal.subject_id != creator_id:
            raise Forbidden(f"a creator acts for itself only, not creator {creator_id}")
        return
    raise Forbidden(f"the {principal.role} role cannot act for a creator")


def unmet_requirements(task: Task, creator: Creator) -> list[str]:
    """What ``creator`` lacks for ``task``: vertical, stage, follower range (empty: eligible)."""
    unmet = []
    if task.vertical_ids and creator.vertical_id not in task.vertical_ids:
        unmet.append("the task is for other verticals")
    if task.stages and creator.stage not in task.stages:
        unmet.append(f"the task is for {' or '.join(task.stages)} creators")
    if creator.follower_count < task.min_followers:
        unmet.append(f"the task needs at least {task.min_followers:,} followers")
    if task.max_followers is not None and creator.follower_count > task.max_followers:
        unmet.append(f"the task is for creators with at most {task.max_followers:,} followers")
    return unmet


def accept_task(
    session: Session,
    principal: Principal,
    task_id: int,
    creator_id: int,
    *,
    holds_priority: PriorityCheck,
    now: dt.datetime,
) -> ClaimView:
    """Hold a free slot of the task for the creator until ``now + accept_hours``.

    :class:`Conflict` when no slot is left or the creator already holds one; :class:`Forbidden`
    when the creator does not meet the task's requirements, or the task is in its priority
    window and the creator does not hold ``priority_tasks``.
    """
    check_acts_for_creator(session, principal, creator_id)
    creator = session.get(Creator, creator_id)
    if creator is None:
        raise NotFound(f"creator {creator_id} does not exist")
    task = session.get(Task, task_id, with_for_update=True)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    if task.status != "open" or not task.starts_at <= now < task.ends_at:
        raise Conflict(f"task {task_id} is not open for acceptance now")
    if now < task.priority_until and not holds_priority(creator_id):
        raise Forbidden(
            f"task {task_id} is open to creators with priority task access until "
            f"{task.priority_until.isoformat()}"
        )
    if unmet := unmet_requirements(task, creator):
        raise Forbidden(f"creator {creator_id} cannot accept task {task_id}: {'; '.join(unmet)}")
    expire_claims(session, now=now, task_id=task_id)
    held = session.execute(
        select(TaskClaim.slot_no, TaskClaim.creator_id).where(
            TaskClaim.task_id == task_id, TaskClaim.status.in_(HOLDING_STATUSES)
        )
    ).all()
    if any(int(c) == creator_id for _, c in held):
        raise Conflict(f"creator {creator_id} already holds a slot of task {task_id}")
    taken = {int(s) for s, _ in held}
    if len(taken) >= task.slots:
        raise Conflict(f"task {task_id} has no slot left")
    slot_no = next(n for n in range(1, task.slots + 1) if n not in taken)
    row = TaskClaim(
        task_id=task_id,
        creator_id=creator_id,
        slot_no=slot_no,
        status="accepted",
        accepted_at=now,
        deadline_at=min(now + dt.timedelta(hours=task.accept_hours), task.ends_at),
        check_note="",
        reason="",
    )
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # only when the task's lock was bypassed
        raise Conflict(f"task {task_id}: slot {slot_no} was taken concurrently") from exc
    return claim_view(row)


def submit_work(
    session: Session,
    principal: Principal,
    task_id: int,
    creator_id: int,
    work_id: int,
    *,
    now: dt.datetime,
) -> ClaimView:
    """Submit one of the creator's works for their accepted slot of the task; the cycle
    checks it (:func:`guanghe.tasks.checks.check_submissions`)."""
    check_acts_for_creator(session, principal, creator_id)
    if session.get(Task, task_id) is None:
        raise NotFound(f"task {task_id} does not exist")
    row = session.scalars(
        select(TaskClaim)
        .where(
            TaskClaim.task_id == task_id,
            TaskClaim.creator_id == creator_id,
            TaskClaim.status.in_(HOLDING_STATUSES),
        )
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise Conflict(f"creator {creator_id} holds no slot of task {task_id}; accept it first")
    if row.status != "accepted":
        raise Conflict(f"the slot of task {task_id} already has a submission ({row.status})")
    if now >= row.deadline_at:
        raise Conflict(f"the acceptance of task {task_id} expired at {row.deadline_at}")
    owner = session.scalar(select(Work.creator_id).where(Work.id == work_id))
    if owner is None:
        raise NotFound(f"work {work_id} does not exist")
    if int(owner) != creator_id:
        raise Forbidden(f"work {work_id} is not creator {creator_id}'s")
    row.status, row.work_id, row.submitted_at = "submitted", work_id, now
    session.flush()
    return claim_view(row)


def review_submission(
    session: Session,
    principal: Principal,
    task_id: int,
    submission_id: int,
    decision: str,
    reason: str,
    *,
    duplicates: frozenset[int],
    now: dt.datetime,
) -> ClaimView:
    """An operator approves a checked submission (its slot's reward is paid once, through the
    ledger) or rejects it with a reason (its slot is freed). A work judged a duplicate is
    never approved. :class:`Conflict` for a submission not awaiting review."""
    if principal.role != "operator":
        raise Forbidden("only operators review task submissions")
    if decision not in ("approve", "reject"):
        raise InvalidInput("decision is approve or reject")
    task = session.get(Task, task_id)
    row = session.get(TaskClaim, submission_id, with_for_update=True)
    if task is None or row is None or row.task_id != task_id:
        raise NotFound(f"submission {submission_id} of task {task_id} does not exist")
    if row.status != "checked":
        raise Conflict(f"submission {submission_id} is {row.status}, not awaiting review")
    if decision == "reject":
        if not reason.strip():
            raise InvalidInput("a rejection gives its reason")
        _decide(row, "rejected", reason.strip(), principal, now)
        return claim_view(row)
    if row.work_id in duplicates:
        raise Conflict(f"work {row.work_id} is judged a duplicate; reject the submission")
    _decide(row, "approved", reason.strip(), principal, now)
    session.flush()
    pay_slot(
        session,
        task_id=task.id,
        sponsor=(task.sponsor_kind, task.sponsor_id),
        slot_rewards=rewards(task.reward_fen, task.reward_impressions, task.agent_commission_fen),
        slot_no=row.slot_no,
        claim_id=row.id,
        creator_id=row.creator_id,
        agent=None if task.agent_id is None else (task.agent_id, task.agent_commission_fen),
        day=now.date(),
        now=now,
    )
    return claim_view(row)


def _decide(
    row: TaskClaim, status: str, reason: str, principal: Principal, now: dt.datetime
) -> None:
    row.status, row.reason, row.decided_at = status, reason[:400], now
    row.decided_by = f"{principal.role}:{principal.user_id}"


def expire_claims(session: Session, *, now: dt.datetime, task_id: int | None = None) -> int:
    """Acceptances past their deadline without a submission free their slot; returns how many."""
    query = update(TaskClaim).where(TaskClaim.status == "accepted", TaskClaim.deadline_at <= now)
    if task_id is not None:
        query = query.where(TaskClaim.task_id == task_id)
    result = session.execute(
        query.values(status="expired", reason="accepted and not submitted in time")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def list_submissions(
    session: Session,
    principal: Principal,
    task_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ClaimView]:
    """A task's claims: operators, the task's sponsor and the agent who brought it see all; a
    creator only their own."""
    check_limit(limit)
    if principal.role not in ("operator", "advertiser", "creator", "agent"):
        raise Forbidden(f"the {principal.role} role sees no task submissions")
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    query: Select[TaskClaim] = (
        select(TaskClaim)
        .where(TaskClaim.task_id == task_id)
        .order_by(TaskClaim.id)
        .limit(limit + 1)
    )
    sponsor = ("advertiser", principal.subject_id)
    if principal.role == "creator":
        query = query.where(TaskClaim.creator_id == principal.subject_id)
    elif principal.role == "advertiser" and (task.sponsor_kind, task.sponsor_id) != sponsor:
        raise Forbidden(f"task {task_id} is not this advertiser's")
    elif principal.role == "agent" and task.agent_id != principal.user_id:
        raise Forbidden(f"task {task_id} is not one this agent brought")
    after = after_id(cursor)
    if after is not None:
        query = query.where(TaskClaim.id > after)
    page = page_of(list(session.scalars(query)), limit, lambda r: [r.id])
    return Page([claim_view(r) for r in page.items], page.next_cursor)


def creator_claims(session: Session, principal: Principal, creator_id: int) -> list[ClaimView]:
    """Every claim of the creator, newest first (the creator, or operators)."""
    check_acts_for_creator(session, principal, creator_id)
    rows = session.scalars(
        select(TaskClaim).where(TaskClaim.creator_id == creator_id).order_by(TaskClaim.id.desc())
    )
    return [claim_view(r) for r in rows]


def priority_holder(session: Session, rules: CreatorRules) -> PriorityCheck:
    """``holds_priority`` judged by the growth rules: the creator's tier or the right's own
    rule grants ``priority_tasks``."""

    def holds(creator_id: int) -> bool:
        try:
            check_right(session, creator_id, "priority_tasks", rules)
        except Forbidden:
            return False
        return True

    return holds


def claim_works(session: Session, claim_ids: Collection[int]) -> dict[int, int]:
    """The work submitted for each of ``claim_ids`` (claims without one are absent)."""
    if not claim_ids:
        return {}
    rows = session.execute(
        select(TaskClaim.id, TaskClaim.work_id).where(
            TaskClaim.id.in_(sorted(set(claim_ids))), TaskClaim.work_id.is_not(None)
        )
    )
    return {int(claim): int(work) for claim, work in rows if work is not None}
