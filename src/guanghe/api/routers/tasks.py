"""``/v1/tasks``: the task center. Sponsors (operators for the platform, advertisers for
themselves) post tasks, operators naming the institution agent who brought a brand's task and
its commission; creators see their recommended tasks with ``why``, accept a slot and submit a
work; operators review. Sponsors and agents see only their tasks' submissions, creators only
their own."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from guanghe import creators, tasks
from guanghe.access import Principal
from guanghe.api.fields import BodyId, Cursor, IdPath, Instant, StorableText, StrictInt
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime, require_role
from guanghe.originality import blocked_work_ids
from guanghe.pagination import MAX_PAGE
from guanghe.runtime import Runtime

router = APIRouter(tags=["tasks"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Operator = Annotated[Principal, require_role("operator")]
VerticalName = Annotated[
    StorableText, Field(min_length=1, max_length=40, description="A name from /v1/verticals")
]


class SponsorIn(BaseModel):
    kind: Literal["platform", "advertiser"]
    id: StrictInt = Field(default=0, ge=0, le=2**62)


class TaskIn(BaseModel):
    kind: Literal["shooting", "promotion", "topic"]
    title: StorableText = Field(min_length=1, max_length=120)
    description: StorableText = Field(default="", max_length=2_000)
    verticals: list[VerticalName] = Field(default=[], max_length=64)
    stages: list[Literal["novice", "growing", "mature"]] = Field(default=[], max_length=3)
    min_followers: StrictInt = Field(default=0, ge=0, le=2**62)
    max_followers: StrictInt | None = Field(default=None, ge=0, le=2**62)
    hashtag: StorableText | None = Field(default=None, min_length=1, max_length=60)
    min_plays: StrictInt = Field(default=0, ge=0, le=10**12)
    plays_within_days: StrictInt = Field(default=7, ge=1, le=90)
    starts_at: Instant
    ends_at: Instant
    accept_hours: StrictInt = Field(default=72, ge=1, le=720)
    reward_fen: StrictInt = Field(default=0, ge=0, le=tasks.catalog.MAX_REWARD_FEN)
    reward_impressions: StrictInt = Field(default=0, ge=0, le=tasks.catalog.MAX_REWARD_IMPRESSIONS)
    slots: StrictInt = Field(ge=1, le=tasks.catalog.MAX_SLOTS)
    sponsor: SponsorIn | None = Field(default=None, description="Operators only: who sponsors")
    agent_id: BodyId | None = Field(
        default=None, description="Operators only: the agent user who brought the task"
    )
    agent_commission_fen: StrictInt = Field(
        default=0,
        ge=0,
        le=tasks.catalog.MAX_REWARD_FEN,
        description="Paid to the agent per approved slot (reserved with the reward)",
    )


class TaskOut(BaseModel):
    id: int
    sponsor_kind: str
    sponsor_id: int
    kind: str
    title: str
    description: str
    verticals: list[str]
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
    held: int
    approved: int
    free: int
    fill_rate: float
    status: str
    created_at: dt.datetime
    ended_at: dt.datetime | None
    agent_id: int | None
    agent_commission_fen: int


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


class RecommendationOut(BaseModel):
    rank: int
    offered_on: dt.date
    p_accept: float
    p_complete: float
    value_fen: float
    why: dict[str, Any]
    task: TaskOut


class RecommendationList(BaseModel):
    items: list[RecommendationOut]


class AcceptIn(BaseModel):
    creator_id: BodyId


class SubmissionIn(BaseModel):
    creator_id: BodyId
    work_id: BodyId


class ReviewIn(BaseModel):
    decision: Literal["approve", "reject"]
    reason: StorableText = Field(default="", max_length=400)


class SubmissionOut(BaseModel):
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


class SubmissionPage(BaseModel):
    items: list[SubmissionOut]
    next_cursor: str | None


def _names(session: Session) -> dict[int, str]:
    return {v.id: v.slug for v in creators.list_verticals(session)}


def _out(view: tasks.TaskView, names: dict[int, str]) -> TaskOut:
    fields = {f: getattr(view, f) for f in TaskOut.model_fields if f != "verticals"}
    return TaskOut.model_validate(
        {**fields, "verticals": [names.get(v, str(v)) for v in view.vertical_ids]}
    )


def _sub(view: tasks.ClaimView) -> SubmissionOut:
    return SubmissionOut.model_validate(view, from_attributes=True)


@router.post("/v1/tasks", status_code=201)
def create_task(runtime: RuntimeDep, principal: PrincipalDep, body: TaskIn) -> TaskOut:
    """Post a task; ``slots x reward`` is reserved from the sponsor's budget in the same
    transaction (409 when the budget is short). Verticals by ``GET /v1/verticals`` names."""
    now = dt.datetime.now(dt.UTC)
    sponsor = None if body.sponsor is None else (body.sponsor.kind, body.sponsor.id)

    def post(session: Session) -> tuple[tasks.TaskView, dict[int, str]]:
        spec = tasks.TaskSpec(
            kind=body.kind,
            title=body.title,
            description=body.description,
            vertical_ids=creators.vertical_ids(session, body.verticals, field="verticals"),
            stages=tuple(body.stages),
            min_followers=body.min_followers,
            max_followers=body.max_followers,
            hashtag=body.hashtag,
            min_plays=body.min_plays,
            plays_within_days=body.plays_within_days,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            accept_hours=body.accept_hours,
            reward_fen=body.reward_fen,
            reward_impressions=body.reward_impressions,
            slots=body.slots,
            agent_commission_fen=body.agent_commission_fen,
        )
        view = tasks.create_task(
            session, principal, spec, sponsor=sponsor, agent_id=body.agent_id, now=now
        )
        return view, _names(session)

    view, names = runtime.write(post)
    return _out(view, names)


@router.get("/v1/tasks")
def list_tasks(
    session: SessionDep,
    principal: PrincipalDep,
    status: Literal["open", "ended"] | None = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> TaskPage:
    """Tasks the caller may see: operators all, an advertiser its own, an agent those it
    brought, creators open ones."""
    page = tasks.list_tasks(
        session, principal, status=status, now=dt.datetime.now(dt.UTC), cursor=cursor, limit=limit
    )
    names = _names(session)
    return TaskPage(items=[_out(v, names) for v in page.items], next_cursor=page.next_cursor)


@router.get("/v1/tasks/{task_id}")
def get_task(session: SessionDep, principal: PrincipalDep, task_id: IdPath) -> TaskOut:
    """One task with its fill."""
    view = tasks.get_task(session, principal, task_id, now=dt.datetime.now(dt.UTC))
    return _out(view, _names(session))


@router.get("/v1/creators/{creator_id}/tasks")
def recommended_tasks(
    session: SessionDep, principal: PrincipalDep, creator_id: IdPath
) -> RecommendationList:
    """The creator's recommended tasks, best first, each with ``why`` (the creator, or
    operators)."""
    offers = tasks.creator_offers(session, principal, creator_id, now=dt.datetime.now(dt.UTC))
    names = _names(session)
    return RecommendationList(
        items=[
            RecommendationOut(
                rank=o.rank,
                offered_on=o.offered_on,
                p_accept=o.p_accept,
                p_complete=o.p_complete,
                value_fen=o.value_fen,
                why=o.why,
                task=_out(o.task, names),
            )
            for o in offers
        ]
    )


@router.post("/v1/tasks/{task_id}/accept", status_code=201)
def accept_task(
    runtime: RuntimeDep, principal: PrincipalDep, task_id: IdPath, body: AcceptIn
) -> SubmissionOut:
    """Hold a slot for the creator until the acceptance deadline (409 when no slot is left or
    the creator already holds one)."""
    now = dt.datetime.now(dt.UTC)
    rules = creators.load_rules(creators.rules_path(runtime.settings.data_dir))
    claim = runtime.write(
        lambda s: tasks.accept_task(
            s,
            principal,
            task_id,
            body.creator_id,
            holds_priority=tasks.priority_holder(s, rules),
            now=now,
        )
    )
    return _sub(claim)


@router.post("/v1/tasks/{task_id}/submissions", status_code=201)
def submit(
    runtime: RuntimeDep, principal: PrincipalDep, task_id: IdPath, body: SubmissionIn
) -> SubmissionOut:
    """Submit one of the creator's works for their slot; the daily cycle checks it."""
    now = dt.datetime.now(dt.UTC)
    claim = runtime.write(
        lambda s: tasks.submit_work(s, principal, task_id, body.creator_id, body.work_id, now=now)
    )
    return _sub(claim)


@router.get("/v1/tasks/{task_id}/submissions")
def list_submissions(
    session: SessionDep,
    principal: PrincipalDep,
    task_id: IdPath,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> SubmissionPage:
    """A task's submissions: operators, the sponsor and the agent all of them, a creator
    their own."""
    page = tasks.list_submissions(session, principal, task_id, cursor=cursor, limit=limit)
    return SubmissionPage(items=[_sub(c) for c in page.items], next_cursor=page.next_cursor)


@router.post("/v1/tasks/{task_id}/submissions/{submission_id}/review")
def review(
    runtime: RuntimeDep,
    principal: Operator,
    task_id: IdPath,
    submission_id: IdPath,
    body: ReviewIn,
) -> SubmissionOut:
    """Approve a checked submission (its reward is paid once) or reject it with a reason."""
    now = dt.datetime.now(dt.UTC)
    claim = runtime.write(
        lambda s: tasks.review_submission(
            s,
            principal,
            task_id,
            submission_id,
            body.decision,
            body.reason,
            duplicates=blocked_work_ids(s),
            now=now,
        )
    )
    return _sub(claim)
