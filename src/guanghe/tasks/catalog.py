"""Sponsors' tasks: posted with every slot's reward reserved in the ledger, read back with
their fill, and seen by whom they concern: operators every task, a sponsor its own, the
institution agent who brought a brand's task the tasks it manages, creators and institutions
the open ones (during a new task's priority window only creators holding the
``priority_tasks`` right may accept it, :mod:`guanghe.tasks.claims`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden, InvalidInput, NotFound
from guanghe.institutions.agents import agent_institution
from guanghe.monetize.parties import require_party
from guanghe.pagination import Page, after_id, check_limit, page_of
from guanghe.store import Task, TaskClaim
from guanghe.store.task_tables import HOLDING_STATUSES, SPONSOR_KINDS, TASK_KINDS
from guanghe.tasks.funding import reserve_slots, rewards
from guanghe.vocabulary import STAGES

MAX_SLOTS: Final = 10_000
MAX_REWARD_FEN: Final = 10**9
MAX_REWARD_IMPRESSIONS: Final = 10**9
MAX_WINDOW_DAYS: Final = 366
#: How long a new task is open only to creators holding ``priority_tasks``.
PRIORITY_HOURS: Final = 24


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a sponsor posts. Validated on construction (:class:`InvalidInput`).

    Empty ``vertical_ids`` or ``stages`` mean "any". ``min_plays`` must be reached within
    ``plays_within_days`` of the work's publication; ``accept_hours`` is how long an
    acceptance holds its slot before a work must be submitted.
    """

    kind: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    slots: int
    reward_fen: int = 0
    reward_impressions: int = 0
    description: str = ""
    vertical_ids: tuple[int, ...] = ()
    stages: tuple[str, ...] = ()
    min_followers: int = 0
    max_followers: int | None = None
    hashtag: str | None = None
    min_plays: int = 0
    plays_within_days: int = 7
    accept_hours: int = 72
    agent_commission_fen: int = 0

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise InvalidInput("; ".join(problems))

    def _problems(self) -> list[str]:
        found = []
        if self.kind not in TASK_KINDS:
            found.append(f"kind is one of {TASK_KINDS}")
        if not 1 <= len(self.title.strip()) <= 120:
            found.append("title is 1 to 120 characters")
        if len(self.description) > 2_000:
            found.append("description is at most 2000 characters")
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            found.append("starts_at and ends_at need a time zone")
        elif not dt.timedelta(0) < self.ends_at - self.starts_at <= dt.timedelta(MAX_WINDOW_DAYS):
            found.append(f"ends_at is after starts_at, within {MAX_WINDOW_DAYS} days")
        if not 1 <= self.slots <= MAX_SLOTS:
            found.append(f"slots is 1 to {MAX_SLOTS}")
        if not 0 <= self.reward_fen <= MAX_REWARD_FEN:
            found.append(f"reward_fen is 0 to {MAX_REWARD_FEN}")
        if not 0 <= self.reward_impressions <= MAX_REWARD_IMPRESSIONS:
            found.append(f"reward_impressions is 0 to {MAX_REWARD_IMPRESSIONS}")
        if not 0 <= self.agent_commission_fen <= MAX_REWARD_FEN:
            found.append(f"agent_commission_fen is 0 to {MAX_REWARD_FEN}")
        if self.reward_fen + self.reward_impressions == 0:
            found.append("a task rewards reward_fen and / or reward_impressions")
        if unknown := set(self.stages) - set(STAGES):
            found.append(f"unknown stages {sorted(unknown)}")
        if self.min_followers < 0 or (
            self.max_followers is not None and self.max_followers < self.min_followers
        ):
            found.append("follower range must satisfy 0 <= min_followers <= max_followers")
        if self.hashtag is not None and not 2 <= len(normal_tag(self.hashtag)) <= 60:
            found.append("hashtag is 1 to 59 characters after '#'")
        if not 0 <= self.min_plays <= 10**12:
            found.append("min_plays is 0 to 10^12")
        if not 1 <= self.plays_within_days <= 90:
            found.append("plays_within_days is 1 to 90")
        if not 1 <= self.accept_hours <= 24 * 30:
            found.append("accept_hours is 1 to 720")
        return found


def normal_tag(tag: str) -> str:
    """``"Food"``, ``"#food"`` → ``"#food"``: how hashtags are compared."""
    return "#" + tag.strip().lstrip("#").lower()


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task with its fill: slots held now (accepted to checked), approved, and free."""

    id: int
    sponsor_kind: str
    sponsor_id: int
    kind: str
    title: str
    description: str
    vertical_ids: list[int]
    stages: list[str]
    min_followers: int
    max_followers: int | None
    hashtag: str | None
    min_plays: int
    plays_within_days: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    priority_until: dt.datetime
    accept_hours: int
    reward_fen: int
    reward_impressions: int
    slots: int
    status: str
    created_at: dt.datetime
    held: int = 0
    approved: int = 0
    submitted: int = 0
    ended_at: dt.datetime | None = None
    reserved_fen: int = field(default=0)
    agent_id: int | None = None
    agent_commission_fen: int = 0

    @property
    def free(self) -> int:
        return max(self.slots - self.held - self.approved, 0)

    @property
    def fill_rate(self) -> float:
        """Share of slots taken (held or approved)."""
        return (self.held + self.approved) / self.slots


def sponsor_of(principal: Principal, sponsor: tuple[str, int] | None) -> tuple[str, int]:
    """Who sponsors a task the caller posts: an advertiser itself; operators the platform or
    any sponsor they name; :class:`Forbidden` for other roles."""
    if principal.role == "operator":
        if sponsor is None:
            return ("platform", 0)
        if sponsor[0] not in SPONSOR_KINDS:
            raise InvalidInput(f"sponsor kind is one of {SPONSOR_KINDS}")
        return ("platform", 0) if sponsor[0] == "platform" else sponsor
    if principal.role == "advertiser" and principal.subject_id is not None:
        if sponsor is not None and sponsor != ("advertiser", principal.subject_id):
            raise Forbidden("an advertiser posts tasks for itself only")
        return ("advertiser", principal.subject_id)
    raise Forbidden(f"the {principal.role} role cannot post tasks")


def create_task(
    session: Session,
    principal: Principal,
    spec: TaskSpec,
    *,
    sponsor: tuple[str, int] | None = None,
    agent_id: int | None = None,
    now: dt.datetime,
) -> TaskView:
    """Post ``spec`` and reserve ``slots x (reward + agent commission)`` from the sponsor's
    budget, in the caller's transaction: with too little budget, :class:`Conflict` and nothing
    written; :class:`NotFound` for an advertiser sponsor that is not registered or an
    ``agent_id`` that is no agent. Only operators name the agent who brought a brand's task
    (:class:`Forbidden` otherwise); a commission needs an agent."""
    kind, sponsor_id = sponsor_of(principal, sponsor)
    if kind == "advertiser":
        require_party(session, kind, sponsor_id)
    if agent_id is not None:
        if principal.role != "operator":
            raise Forbidden("only operators name the agent who brought a task")
        agent_institution(session, agent_id)
    elif spec.agent_commission_fen:
        raise InvalidInput("an agent commission needs the agent_id who earns it")
    row = Task(
        sponsor_kind=kind,
        sponsor_id=sponsor_id,
        kind=spec.kind,
        title=spec.title.strip(),
        description=spec.description.strip(),
        vertical_ids=sorted(set(spec.vertical_ids)),
        stages=sorted(set(spec.stages)),
        min_followers=spec.min_followers,
        max_followers=spec.max_followers,
        hashtag=None if spec.hashtag is None else normal_tag(spec.hashtag),
        min_plays=spec.min_plays,
        plays_within_days=spec.plays_within_days,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        priority_until=max(now, spec.starts_at) + dt.timedelta(hours=PRIORITY_HOURS),
        accept_hours=spec.accept_hours,
        reward_fen=spec.reward_fen,
        reward_impressions=spec.reward_impressions,
        slots=spec.slots,
        status="open",
        created_by=f"{principal.role}:{principal.user_id}",
        created_at=now,
        agent_id=agent_id,
        agent_commission_fen=spec.agent_commission_fen,
    )
    session.add(row)
    session.flush()
    reserve_slots(
        session,
        row.id,
        (kind, sponsor_id),
        rewards(spec.reward_fen, spec.reward_impressions, spec.agent_commission_fen),
        spec.slots,
        now=now,
    )
    return task_views(session, [row])[0]


def get_task(session: Session, principal: Principal, task_id: int, *, now: dt.datetime) -> TaskView:
    """One task as the caller may see it: :class:`NotFound` for no such task,
    :class:`Forbidden` for one the caller may not see (another sponsor's, or not open)."""
    if principal.role not in ("operator", "advertiser", "creator", "institution", "agent"):
        raise Forbidden(f"the {principal.role} role has no tasks")
    row = session.get(Task, task_id)
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    if not _visible(principal, row, now):
        raise Forbidden(f"task {task_id} is another sponsor's or agent's, or not open")
    return task_views(session, [row])[0]


def list_tasks(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    now: dt.datetime,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[TaskView]:
    """Tasks the caller may see, in id order a page at a time: operators every task,
    sponsors their own, an agent those it brought, creators and institutions the open ones."""
    check_limit(limit)
    query: Select[Task] = select(Task).order_by(Task.id).limit(limit + 1)
    if principal.role == "advertiser":
        query = query.where(
            Task.sponsor_kind == "advertiser", Task.sponsor_id == principal.subject_id
        )
    elif principal.role == "agent":
        query = query.where(Task.agent_id == principal.user_id)
    elif principal.role in ("creator", "institution"):
        query = query.where(Task.status == "open", Task.ends_at > now)
    elif principal.role != "operator":
        raise Forbidden(f"the {principal.role} role has no tasks")
    if status is not None:
        if status not in ("open", "ended"):
            raise InvalidInput("status is open or ended")
        query = query.where(Task.status == status)
    after = after_id(cursor)
    if after is not None:
        query = query.where(Task.id > after)
    rows = [r for r in session.scalars(query) if _visible(principal, r, now)]
    page = page_of(rows, limit, lambda r: [r.id])
    return Page(task_views(session, page.items), page.next_cursor)


def _visible(principal: Principal, row: Task, now: dt.datetime) -> bool:
    if principal.role == "operator":
        return True
    if principal.role == "advertiser":
        return (row.sponsor_kind, row.sponsor_id) == ("advertiser", principal.subject_id)
    if principal.role == "agent":
        return row.agent_id == principal.user_id
    return principal.role in ("creator", "institution") and row.status == "open"


def task_views(session: Session, rows: list[Task]) -> list[TaskView]:
    """Views of ``rows`` with their claims counted (one query)."""
    counts: dict[tuple[int, str], int] = {}
    if rows:
        for task_id, status, n in session.execute(
            select(TaskClaim.task_id, TaskClaim.status, func.count())
            .where(TaskClaim.task_id.in_([r.id for r in rows]))
            .group_by(TaskClaim.task_id, TaskClaim.status)
        ):
            counts[(int(task_id), str(status))] = int(n)
    views = []
    for r in rows:
        held = sum(counts.get((r.id, s), 0) for s in HOLDING_STATUSES if s != "approved")
        views.append(
            TaskView(
                id=r.id,
                sponsor_kind=r.sponsor_kind,
                sponsor_id=r.sponsor_id,
                kind=r.kind,
                title=r.title,
                description=r.description,
                vertical_ids=list(r.vertical_ids),
                stages=list(r.stages),
                min_followers=r.min_followers,
                max_followers=r.max_followers,
                hashtag=r.hashtag,
                min_plays=r.min_plays,
                plays_within_days=r.plays_within_days,
                starts_at=r.starts_at,
                ends_at=r.ends_at,
                priority_until=r.priority_until,
                accept_hours=r.accept_hours,
                reward_fen=r.reward_fen,
                reward_impressions=r.reward_impressions,
                slots=r.slots,
                status=r.status,
                created_at=r.created_at,
                held=held,
                approved=counts.get((r.id, "approved"), 0),
                submitted=counts.get((r.id, "submitted"), 0) + counts.get((r.id, "checked"), 0),
                ended_at=r.ended_at,
                reserved_fen=r.slots * (r.reward_fen + r.agent_commission_fen),
                agent_id=r.agent_id,
                agent_commission_fen=r.agent_commission_fen,
            )
        )
    return views
