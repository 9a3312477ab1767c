"""Traffic support: boost decisions and deliveries for the feed ranker, budgets and plans for
operators, and each creator's own support."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, Strict
from typing_extensions import TypedDict

from guanghe.access import Principal
from guanghe.api.deps import require_role_cached
from guanghe.api.fields import Day, IdPath, StorableText
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime, require_role
from guanghe.originality import blocked_work_ids
from guanghe.runtime import Runtime
from guanghe.traffic import views
from guanghe.traffic.budgets import set_budget
from guanghe.traffic.planning import Period
from guanghe.traffic.programs import load_programs, programs_path
from guanghe.traffic.serving import MAX_CANDIDATES, BoostService, PlanStatus, counters_for

router = APIRouter(tags=["traffic"])

Ranker = Annotated[Principal, require_role("ranker")]
FastRanker = Annotated[Principal, require_role_cached("ranker")]
Operator = Annotated[Principal, require_role("operator")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
BigId = Annotated[int, Strict(), Field(ge=1, le=2**63 - 1)]


def make_boost_service(runtime: Runtime) -> BoostService:
    """The boost service of an app (one per app and process: its counters are the in-process
    quotas when no Redis is configured); made when the app is assembled."""
    return BoostService(
        runtime.settings.snapshots_dir,
        runtime.sessions,
        counters_for(
            runtime.settings.redis_url,
            timeout_seconds=runtime.settings.redis_timeout_ms / 1000,
        ),
        excluded_works=blocked_work_ids,
    )


async def boost_service(request: Request) -> BoostService:
    """The app's boost service (see :func:`make_boost_service`)."""
    service = request.app.state.boost_service
    assert isinstance(service, BoostService)
    return service


ServiceDep = Annotated[BoostService, Depends(boost_service)]


class Candidate(TypedDict):
    work_id: BigId
    creator_id: BigId


class BoostRequest(BaseModel):
    candidates: Annotated[list[Candidate], Field(max_length=MAX_CANDIDATES)]


class BoostResponse(BaseModel):
    plan_day: dt.date | None
    plan_status: PlanStatus = Field(
        description="current: the plan is today's; expired: it is an earlier day's and boosts "
        "nothing; none: there is no plan"
    )
    weights: list[float] = Field(description="One weight per candidate, in request order")


@router.post("/v1/boost", response_model=BoostResponse)
async def boost(body: BoostRequest, _: FastRanker, service: ServiceDep) -> Response:
    """A boost weight per candidate (0: no boost), from the pacing plan and remaining quota.

    ``weights[k]`` multiplies the ranker's score of ``candidates[k]``. A 503 with
    ``Retry-After`` when the shared quota counters do not answer in time.
    """
    count = len(body.candidates)
    creators = np.fromiter((c["creator_id"] for c in body.candidates), np.int64, count)
    works = np.fromiter((c["work_id"] for c in body.candidates), np.int64, count)
    # A reload reads files and the store, and shared counters are a network call: both wait
    # off the event loop, so a stalled Redis is a quick 503 that holds up no other request.
    if service.reload_due:
        await run_in_threadpool(service.plan)
    weights = await service.weights_async(creators, works)
    plan = service.plan()
    content = {
        "plan_day": str(plan.day) if plan else None,
        "plan_status": service.plan_status(plan),
        "weights": weights.tolist(),
    }
    return Response(json.dumps(content, separators=(",", ":")), media_type="application/json")


class BoostServingOut(BaseModel):
    plan_day: dt.date | None
    plan_status: PlanStatus
    calls_current: int = Field(description="Boost calls answered from today's plan")
    calls_expired: int = Field(description="Boost calls that found only an expired plan")
    calls_without_plan: int
    deliveries_without_current_plan: int = Field(
        description="Deliveries booked while only an expired plan was in force"
    )


@router.get("/v1/boost/serving")
async def boost_serving(_: Operator, service: ServiceDep) -> BoostServingOut:
    """This server process's boost serving: the plan in force, its status, and counts of the
    calls and deliveries served by plan status since the process started (operators)."""
    plan = await run_in_threadpool(service.plan)
    return BoostServingOut(
        plan_day=plan.day if plan else None,
        plan_status=service.plan_status(plan),
        **asdict(service.counts),
    )


class DeliveryIn(BaseModel):
    delivery_id: Annotated[StorableText, Field(min_length=1, max_length=120)]
    work_id: BigId
    creator_id: BigId
    impressions: Annotated[int, Strict(), Field(ge=1, le=10**9)]


class DeliveriesRequest(BaseModel):
    deliveries: Annotated[list[DeliveryIn], Field(min_length=1, max_length=MAX_CANDIDATES)]


class DeliveryResult(BaseModel):
    delivery_id: str
    status: str


class DeliveriesResponse(BaseModel):
    results: list[DeliveryResult]


@router.post("/v1/boost/deliveries")
def record_deliveries(
    body: DeliveriesRequest, _: Ranker, session: SessionDep, service: ServiceDep
) -> DeliveriesResponse:
    """Record delivered boosted impressions, once per ``delivery_id``: each result is
    ``recorded``, ``duplicate``, ``conflict`` (the id was used with other content),
    ``not_planned`` or ``unknown_work``. A 503 with ``Retry-After`` (and nothing recorded) when
    the shared quota counters do not answer in time."""
    reports = service.record(
        session, [(d.delivery_id, d.creator_id, d.work_id, d.impressions) for d in body.deliveries]
    )
    return DeliveriesResponse(
        results=[DeliveryResult(delivery_id=r.delivery_id, status=r.status) for r in reports]
    )


class BudgetIn(BaseModel):
    pool: Annotated[StorableText, Field(min_length=1, max_length=40)]
    starts_on: Day
    ends_on: Day
    impressions: Annotated[int, Strict(), Field(ge=0, le=10**15)]


class BudgetOut(BaseModel):
    pool: str
    starts_on: dt.date
    ends_on: dt.date
    impressions: int
    created_by: str
    created_at: dt.datetime


@router.put("/v1/traffic/budgets")
def put_budget(
    body: BudgetIn, principal: Operator, session: SessionDep, runtime: RuntimeDep
) -> BudgetOut:
    """Set a pool's impression budget for a period (operators)."""
    programs = load_programs(programs_path(runtime.settings.data_dir))
    row = set_budget(
        session,
        programs,
        pool=body.pool,
        period=Period(body.starts_on, body.ends_on),
        impressions=body.impressions,
        actor=f"{principal.role}:{principal.user_id}",
        now=dt.datetime.now(dt.UTC),
    )
    return BudgetOut(
        pool=row.pool,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        impressions=row.impressions,
        created_by=row.created_by,
        created_at=row.created_at,
    )


class PlanGroupOut(BaseModel):
    key: str
    creators: int
    allocated: int
    delivered: int
    quota: int
    expected_follows: float


class PlanOut(BaseModel):
    day: dt.date
    period_starts_on: dt.date
    period_ends_on: dt.date
    by: str
    objective: float | None
    duality_gap: float | None
    delivered_today: int
    unplannable: dict[str, int] = Field(
        description="Budget (impressions) of each pool that has one and no member to plan it for"
    )
    groups: list[PlanGroupOut]


@router.get("/v1/traffic/plan", responses={404: {"description": "No plan for that day"}})
def get_plan(
    _: Operator,
    session: SessionDep,
    runtime: RuntimeDep,
    by: Literal["pool", "vertical", "stage"] = "pool",
    day: Annotated[Day | None, Query()] = None,
) -> PlanOut:
    """A day's traffic plan (default: the newest) summed by pool, vertical or stage."""
    summary = views.plan_summary(session, runtime.settings.snapshots_dir, day, by)
    return PlanOut(
        day=summary.day,
        period_starts_on=summary.period_starts_on,
        period_ends_on=summary.period_ends_on,
        by=summary.by,
        objective=summary.objective,
        duality_gap=summary.duality_gap,
        delivered_today=summary.delivered_today,
        unplannable=summary.unplannable,
        groups=[PlanGroupOut(**asdict(g)) for g in summary.groups],
    )


class AllocationWhyOut(BaseModel):
    sentence: str
    allocated_per_day: float
    explored_per_day: float = Field(
        description="Of the allocation, the impressions spent learning the creator's curve"
    )
    saturation_follows: float = Field(description="Estimated curve: follows a day at most")
    scale_impressions: float = Field(description="Estimated curve: impressions scale")
    expected_follows_per_day: float
    marginal_follows_per_1000: float = Field(
        description="At the allocation less the explored impressions"
    )
    pool_price_per_1000: float = Field(description="The pool's dual price, in weighted follows")
    vertical_price_per_1000: float = Field(description="The vertical cap's dual price")
    floor_per_day: float
    cap_per_day: float
    bound: str = Field(
        description=(
            "floor, cap, vertical cap, pool budget, curve saturated, priced out, explored or "
            "no boostable work"
        )
    )
    weight: float | None = Field(description="Operators: the value of one follow in the pool")


class CreatorTrafficOut(BaseModel):
    creator_id: int
    day: dt.date
    pool: str | None
    allocated: int
    delivered_in_period: int
    quota: int
    delivered_today: int
    expected_follows: float
    period_starts_on: dt.date
    period_ends_on: dt.date
    why: AllocationWhyOut | None = Field(
        description="Why this allocation: a sentence and the figures behind it (null when the "
        "creator is not supported this period)"
    )


@router.get("/v1/creators/{creator_id}/traffic")
def get_creator_traffic(
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    creator_id: IdPath,
    day: Annotated[Day | None, Query()] = None,
) -> CreatorTrafficOut:
    """A creator's traffic support: creators see their own, institutions their creators',
    operators everyone's."""
    programs = load_programs(programs_path(runtime.settings.data_dir))
    view = views.creator_traffic(
        session, principal, runtime.settings.snapshots_dir, creator_id, day, programs
    )
    return CreatorTrafficOut.model_validate(view, from_attributes=True)
