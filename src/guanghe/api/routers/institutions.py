"""``/v1/institutions``, ``/v1/contracts`` and ``/v1/torch``: MCN institutions, their level
and creators, contracts between them, and the Torch programme's support.

Operators see and do everything; an institution (and its agents, read-only) sees only
itself; a creator sees and answers only its own contracts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from guanghe import institutions as inst
from guanghe.access import Principal
from guanghe.api.fields import (
    MAX_INT63,
    BodyId,
    Cursor,
    Day,
    IdPath,
    StorableText,
    StrictBool,
)
from guanghe.errors import Forbidden, InvalidInput
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime, require_role
from guanghe.institutions import overview, standing, support, torch
from guanghe.institutions.pools import PoolRules
from guanghe.pagination import MAX_PAGE, after_id, encode_cursor
from guanghe.runtime import Runtime

router = APIRouter(tags=["institutions"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Operator = Annotated[Principal, require_role("operator")]
Bp = Annotated[int, Field(ge=0, le=10_000, strict=True)]
Fen = Annotated[int, Field(ge=0, le=MAX_INT63, strict=True)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]


def _today() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SplitsIn(BaseModel):
    ads: Bp = 0
    commerce: Bp = 0
    tasks: Bp = 0
    incentives: Bp = 0


class ContractIn(BaseModel):
    creator_id: BodyId
    splits: SplitsIn
    valid_from: Day
    valid_to: Day | None = None
    exclusive: StrictBool = False
    notice_days: Annotated[int, Field(ge=0, le=365, strict=True)] = 30


class ContractOut(BaseModel):
    id: int
    institution_id: int
    creator_id: int
    splits: dict[str, int]
    valid_from: dt.date
    valid_to: dt.date | None
    exclusive: bool
    notice_days: int
    status: str


class StepOut(BaseModel):
    action: str
    actor_role: str
    effective_on: dt.date | None
    at: dt.datetime


class ContractDetailOut(ContractOut):
    history: list[StepOut]


class EndIn(BaseModel):
    last_day: Day | None = Field(
        default=None, description="The last day in force; at least today plus the notice"
    )


class InstitutionOut(BaseModel):
    id: int
    name: str
    founded_on: dt.date
    level: str | None
    level_month: dt.date | None
    metrics: dict[str, float]
    next_level: str | None
    shortfalls: list[dict[str, Any]]
    creators: int


class InstitutionPage(BaseModel):
    items: list[InstitutionOut]
    next_cursor: str | None


class CreatorOut(BaseModel):
    creator_id: int
    handle: str
    stage: str
    follower_count: int
    contract_id: int | None
    splits: dict[str, int]
    exclusive: bool
    valid_to: dt.date | None


class CreatorPage(BaseModel):
    items: list[CreatorOut]
    next_cursor: str | None


class BudgetLineIn(BaseModel):
    level: Literal["S", "A", "B", "C"] | None = None
    institution_id: BodyId | None = None
    cash_fen: Fen
    traffic_impressions: Fen


class BudgetsIn(BaseModel):
    starts_on: Day
    ends_on: Day
    budgets: list[BudgetLineIn] = Field(min_length=1, max_length=1_000)
    min_new_share_bp: Bp = 0
    max_creator_share_bp: Annotated[int, Field(ge=1, le=10_000, strict=True)] = 10_000
    nomination_slots: Annotated[int, Field(ge=0, le=10_000, strict=True)] = 0


class BudgetsOut(BaseModel):
    starts_on: dt.date
    ends_on: dt.date
    budgets: list[dict[str, Any]]


class PreferenceIn(BaseModel):
    creator_id: BodyId
    weight: Annotated[float, Field(ge=0, le=1_000, allow_inf_nan=False)] = 1.0
    guarantee_impressions: Fen = 0


class PreferencesIn(BaseModel):
    preferences: list[PreferenceIn] = Field(max_length=10_000)


class PreferencesOut(BaseModel):
    institution_id: int
    preferences: list[PreferenceIn]


class RewardIn(BaseModel):
    creator_id: BodyId
    amount_fen: Annotated[int, Field(gt=0, le=MAX_INT63, strict=True)]
    key: StorableText = Field(min_length=1, max_length=80, description="Idempotency key")


class NominationIn(BaseModel):
    creator_id: BodyId
    starts_on: Day


class DecisionIn(BaseModel):
    approve: StrictBool


class SupportOut(BaseModel):
    institution_id: int
    budget: dict[str, Any] | None
    cash_spent_fen: int
    allocation_solved_on: dt.date | None
    allocation: list[dict[str, Any]]
    nominations: list[dict[str, Any]]
    preferences: list[dict[str, Any]]


def _contract(contract: inst.Contract) -> ContractOut:
    return ContractOut.model_validate(dataclasses.asdict(contract))


@router.get("/v1/institutions")
def list_institutions(
    session: SessionDep, principal: PrincipalDep, cursor: Cursor = None, limit: Limit = 50
) -> InstitutionPage:
    """Institutions by id: operators all, an institution or agent its own."""
    if principal.role not in ("operator", "institution", "agent"):
        raise Forbidden(f"the {principal.role} role sees no institutions")
    views = standing.list_institutions(
        session, principal, after_id=after_id(cursor) or 0, limit=limit + 1
    )
    more = len(views) > limit
    views = views[:limit]
    return InstitutionPage(
        items=[InstitutionOut.model_validate(dataclasses.asdict(v)) for v in views],
        next_cursor=encode_cursor([views[-1].id]) if more and views else None,
    )


@router.get("/v1/institutions/{institution_id}")
def get_institution(
    session: SessionDep, principal: PrincipalDep, institution_id: IdPath
) -> InstitutionOut:
    """An institution's level, metrics, and the metrics short of the next level."""
    view = standing.institution_view(session, principal, institution_id)
    return InstitutionOut.model_validate(dataclasses.asdict(view))


@router.get("/v1/institutions/{institution_id}/creators")
def list_institution_creators(
    session: SessionDep,
    principal: PrincipalDep,
    institution_id: IdPath,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> CreatorPage:
    """The institution's creators by id, with the contract binding each today."""
    rows = standing.institution_creators(
        session,
        principal,
        institution_id,
        _today().date(),
        after_id=after_id(cursor) or 0,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return CreatorPage(
        items=[CreatorOut.model_validate(dataclasses.asdict(r)) for r in rows],
        next_cursor=encode_cursor([rows[-1].creator_id]) if more and rows else None,
    )


@router.post("/v1/institutions/{institution_id}/contracts", status_code=201)
def propose_contract(
    runtime: RuntimeDep, principal: PrincipalDep, institution_id: IdPath, body: ContractIn
) -> ContractOut:
    """Propose a contract to a creator (the institution, or operators); 409 names a contract
    in force it would overlap (an exclusive one, or one splitting the same source)."""
    now = _today()
    contract = runtime.write(
        lambda s: inst.propose_contract(
            s,
            principal,
            institution_id,
            creator_id=body.creator_id,
            splits=body.splits.model_dump(),
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            exclusive=body.exclusive,
            notice_days=body.notice_days,
            now=now,
        )
    )
    return _contract(contract)


@router.get("/v1/contracts/{contract_id}")
def get_contract(
    session: SessionDep, principal: PrincipalDep, contract_id: IdPath
) -> ContractDetailOut:
    """A contract and its whole history (its two parties, operators)."""
    contract, steps = inst.get_contract(session, principal, contract_id)
    return ContractDetailOut.model_validate(
        dataclasses.asdict(contract) | {"history": [dataclasses.asdict(s) for s in steps]}
    )


@router.post("/v1/contracts/{contract_id}/accept")
def accept_contract(
    runtime: RuntimeDep, principal: PrincipalDep, contract_id: IdPath
) -> ContractOut:
    """The creator accepts a proposed contract (409 if it now overlaps one in force)."""
    now = _today()
    return _contract(
        runtime.write(lambda s: inst.accept_contract(s, principal, contract_id, now=now))
    )


@router.post("/v1/contracts/{contract_id}/decline")
def decline_contract(
    runtime: RuntimeDep, principal: PrincipalDep, contract_id: IdPath
) -> ContractOut:
    """The creator declines a proposed contract."""
    now = _today()
    return _contract(
        runtime.write(lambda s: inst.decline_contract(s, principal, contract_id, now=now))
    )


@router.post("/v1/contracts/{contract_id}/end")
def end_contract(
    runtime: RuntimeDep, principal: PrincipalDep, contract_id: IdPath, body: EndIn | None = None
) -> ContractOut:
    """Either party ends an active contract, with its notice."""
    now = _today()
    last_day = body.last_day if body else None
    return _contract(
        runtime.write(
            lambda s: inst.end_contract(s, principal, contract_id, last_day=last_day, now=now)
        )
    )


@router.put("/v1/torch/budgets")
def put_budgets(runtime: RuntimeDep, _: Operator, body: BudgetsIn) -> BudgetsOut:
    """Set the Torch budgets of a period per level (each institution of the level gets it) or
    per institution (replacing its level's), in cash (fen) and traffic (impressions)."""
    lines = []
    for line in body.budgets:
        if (line.level is None) == (line.institution_id is None):
            raise InvalidInput("each budget names exactly one of level and institution_id")
        target = f"level:{line.level}" if line.level else f"institution:{line.institution_id}"
        lines.append(torch.BudgetLine(target, line.cash_fen, line.traffic_impressions))
    rules = PoolRules(body.min_new_share_bp, body.max_creator_share_bp)
    now = _today()
    written = runtime.write(
        lambda s: torch.set_budgets(
            s,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            lines=lines,
            rules=rules,
            nomination_slots=body.nomination_slots,
            now=now,
        )
    )
    return BudgetsOut(
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        budgets=[dataclasses.asdict(line) for line in written],
    )


class LevelOut(BaseModel):
    level: str = Field(description="S, A, B, C, or unjudged")
    institutions: int
    creators: int
    mean_metrics: dict[str, float] = Field(description="Means of the level metrics")
    cash_budget_fen: int
    cash_spent_fen: int
    traffic_budget: int
    traffic_delivered: int


class LevelsOut(BaseModel):
    day: dt.date
    levels: list[LevelOut]


@router.get("/v1/torch/levels")
def get_levels(
    session: SessionDep, principal: Operator, day: Annotated[Day | None, Query()] = None
) -> LevelsOut:
    """The programme by level on ``day`` (default today): institutions, creators, mean
    results, and the Torch cash and traffic budgets with what was spent of them."""
    found = overview.levels_overview(session, principal, day or _today().date())
    return LevelsOut(
        day=found.day,
        levels=[LevelOut.model_validate(v, from_attributes=True) for v in found.levels],
    )


@router.put("/v1/institutions/{institution_id}/traffic-preferences")
def put_traffic_preferences(
    runtime: RuntimeDep, principal: PrincipalDep, institution_id: IdPath, body: PreferencesIn
) -> PreferencesOut:
    """Replace how the institution directs its Torch traffic pool: a weight and a guaranteed
    number of impressions per creator of its own; 409 when the guarantees break the pool or
    the operators' most per creator."""
    now = _today()
    prefs = [
        torch.Preference(p.creator_id, p.weight, p.guarantee_impressions) for p in body.preferences
    ]
    written = runtime.write(
        lambda s: torch.set_preferences(
            s, principal, institution_id, prefs, day=now.date(), now=now
        )
    )
    return PreferencesOut(
        institution_id=institution_id,
        preferences=[PreferenceIn.model_validate(dataclasses.asdict(p)) for p in written],
    )


@router.get("/v1/institutions/{institution_id}/support")
def get_support(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    institution_id: IdPath,
    day: Annotated[Day | None, Query()] = None,
) -> SupportOut:
    """The institution's Torch support on ``day`` (default today): its budget and rules, the
    cash spent, its pool's latest allocation, nominations and preferences."""
    on = day or _today().date()
    view = support.support_of(session, principal, institution_id, on)
    solved, rows = support.pool_allocation(runtime.settings.snapshots_dir, institution_id, on)
    return SupportOut(
        institution_id=institution_id,
        budget=dataclasses.asdict(view.budget) if view.budget else None,
        cash_spent_fen=view.cash_spent_fen,
        allocation_solved_on=solved,
        allocation=rows,
        nominations=view.nominations,
        preferences=view.preferences,
    )


@router.post("/v1/institutions/{institution_id}/rewards", status_code=201)
def reward_creator(
    runtime: RuntimeDep, principal: PrincipalDep, institution_id: IdPath, body: RewardIn
) -> dict[str, str]:
    """Pay one of the institution's creators a reward from its Torch cash budget (409 past
    the budget; a replay of ``key`` pays nothing more)."""
    now = _today()
    status = runtime.write(
        lambda s: torch.reward_creator(
            s,
            principal,
            institution_id,
            creator_id=body.creator_id,
            amount_fen=body.amount_fen,
            key=body.key,
            day=now.date(),
            now=now,
        )
    )
    return {"status": status}


@router.post("/v1/institutions/{institution_id}/nominations", status_code=201)
def nominate_author(
    runtime: RuntimeDep, principal: PrincipalDep, institution_id: IdPath, body: NominationIn
) -> dict[str, int]:
    """Nominate one of the institution's creators as an influential author of a period."""
    now = _today()
    nomination = runtime.write(
        lambda s: torch.nominate(
            s,
            principal,
            institution_id,
            creator_id=body.creator_id,
            starts_on=body.starts_on,
            now=now,
        )
    )
    return {"id": nomination}


@router.post("/v1/torch/nominations/{nomination_id}/decision")
def decide_nomination(
    runtime: RuntimeDep, _: Operator, nomination_id: IdPath, body: DecisionIn
) -> dict[str, str]:
    """Approve (within the period's places) or reject a nomination (operators)."""
    now = _today()
    status = runtime.write(
        lambda s: torch.decide_nomination(s, nomination_id, approve=body.approve, now=now)
    )
    return {"status": status}
