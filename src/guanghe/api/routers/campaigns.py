"""``/v1/advertisers`` and ``/v1/campaigns``: advertisers (registered by operators, funded by
deposits) and their profile-page ad campaigns. An advertiser token sees only its own."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from guanghe import monetize
from guanghe.access import Principal
from guanghe.api.deps import PrincipalDep, SessionDep, get_runtime, require_role
from guanghe.api.routers.profile_slots import CampaignCacheDep
from guanghe.errors import Forbidden, InvalidInput
from guanghe.runtime import Runtime

router = APIRouter(tags=["campaigns"])

EntityId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Operator = Annotated[Principal, require_role("operator")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class PartyIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)


class PartyOut(BaseModel):
    kind: str
    id: int
    name: str
    created_at: dt.datetime


class DepositIn(BaseModel):
    key: str = Field(min_length=1, max_length=100, description="Idempotency key")
    amount_fen: int = Field(gt=0, le=monetize.campaigns.MAX_BUDGET_FEN)


class BalanceOut(BaseModel):
    advertiser_id: int
    prepaid_fen: int


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    billing: Literal["cpm", "cpc"]
    bid_fen: int = Field(gt=0, le=monetize.campaigns.MAX_BID_FEN, description="Per mille or click")
    budget_fen: int = Field(gt=0, le=monetize.campaigns.MAX_BUDGET_FEN)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    pacing: Literal["even", "asap"] = "even"
    target_verticals: list[Annotated[int, Field(ge=1, le=999)]] = Field(default=[], max_length=64)
    target_stages: list[Literal["novice", "growing", "mature"]] = Field(default=[], max_length=3)
    min_followers: int = Field(default=0, ge=0, le=2**62)
    max_followers: int | None = Field(default=None, ge=0, le=2**62)
    excluded_verticals: list[Annotated[int, Field(ge=1, le=999)]] = Field(default=[], max_length=64)
    excluded_keywords: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default=[], max_length=monetize.campaigns.MAX_KEYWORDS
    )
    creative_title: str = Field(min_length=1, max_length=80)
    creative_url: str = Field(min_length=8, max_length=400)
    creative_image_url: str | None = Field(default=None, max_length=400)
    advertiser_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="Operators only: whose campaign"
    )


class CampaignOut(BaseModel):
    id: int
    advertiser_id: int
    name: str
    status: str
    billing: str
    bid_fen: int
    budget_fen: int
    pacing: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    target_verticals: list[int]
    target_stages: list[str]
    min_followers: int
    max_followers: int | None
    excluded_verticals: list[int]
    excluded_keywords: list[str]
    creative_title: str
    creative_url: str
    creative_image_url: str | None
    impressions: int
    clicks: int
    committed_fen: int
    spent_fen: int
    refunded_fen: int
    remaining_fen: int
    budget_account_id: int | None


class StatusIn(BaseModel):
    status: Literal["active", "paused", "ended"]


def _out(view: monetize.CampaignView) -> CampaignOut:
    return CampaignOut.model_validate(view, from_attributes=True)


@router.post("/v1/advertisers", status_code=201)
def register_advertiser(runtime: RuntimeDep, principal: Operator, body: PartyIn) -> PartyOut:
    """Register an advertiser (operators); advertiser tokens then act for its id."""
    now = dt.datetime.now(dt.UTC)
    party = runtime.write(lambda s: monetize.register_party(s, "advertiser", body.name, now=now))
    return PartyOut.model_validate(party, from_attributes=True)


@router.get("/v1/advertisers/{advertiser_id}")
def get_advertiser(
    session: SessionDep, principal: PrincipalDep, advertiser_id: EntityId
) -> PartyOut:
    """One advertiser (operators, or the advertiser itself)."""
    party = monetize.get_party(session, principal, "advertiser", advertiser_id)
    return PartyOut.model_validate(party, from_attributes=True)


@router.post("/v1/advertisers/{advertiser_id}/deposits", status_code=201)
def deposit(
    runtime: RuntimeDep, principal: Operator, advertiser_id: EntityId, body: DepositIn
) -> BalanceOut:
    """Record money paid in by the advertiser to its prepaid account (operators; idempotent
    on ``key``)."""
    now = dt.datetime.now(dt.UTC)
    balance = runtime.write(
        lambda s: monetize.deposit(
            s, advertiser_id, key=body.key, amount_fen=body.amount_fen, now=now
        ),
    )
    return BalanceOut(advertiser_id=advertiser_id, prepaid_fen=balance)


@router.post("/v1/campaigns", status_code=201)
def create_campaign(
    runtime: RuntimeDep, principal: PrincipalDep, campaigns: CampaignCacheDep, body: CampaignIn
) -> CampaignOut:
    """Create a campaign; its budget is moved from the advertiser's prepaid account to the
    campaign's budget account in the same transaction (409 if the prepaid is short). It can
    win profile views at once in this process, within a second in others."""
    if principal.role == "advertiser":
        if body.advertiser_id not in (None, principal.subject_id):
            raise Forbidden("an advertiser creates campaigns only for itself")
        advertiser_id = principal.subject_id
    elif principal.role == "operator":
        if body.advertiser_id is None:
            raise InvalidInput("advertiser_id: operators name the advertiser")
        advertiser_id = body.advertiser_id
    else:
        raise Forbidden(f"the {principal.role} role cannot create campaigns")
    assert advertiser_id is not None
    spec = monetize.CampaignSpec(
        name=body.name,
        billing=body.billing,
        bid_fen=body.bid_fen,
        budget_fen=body.budget_fen,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        pacing=body.pacing,
        target_verticals=tuple(body.target_verticals),
        target_stages=tuple(body.target_stages),
        min_followers=body.min_followers,
        max_followers=body.max_followers,
        excluded_verticals=tuple(body.excluded_verticals),
        excluded_keywords=tuple(body.excluded_keywords),
        creative_title=body.creative_title,
        creative_url=body.creative_url,
        creative_image_url=body.creative_image_url,
    )
    now = dt.datetime.now(dt.UTC)
    view = runtime.write(
        lambda s: monetize.create_campaign(s, principal, advertiser_id, spec, now=now),
    )
    campaigns.invalidate()
    return _out(view)


@router.get("/v1/campaigns")
def list_campaigns(
    session: SessionDep,
    principal: PrincipalDep,
    advertiser_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[CampaignOut]:
    """Campaigns with delivery and spend: an advertiser's own, or all for operators."""
    views = monetize.list_campaigns(session, principal, advertiser_id=advertiser_id)
    return [_out(v) for v in views]


@router.get("/v1/campaigns/{campaign_id}")
def get_campaign(
    session: SessionDep, principal: PrincipalDep, campaign_id: EntityId
) -> CampaignOut:
    """One campaign (404 for another advertiser's)."""
    return _out(monetize.get_campaign(session, principal, campaign_id))


@router.patch("/v1/campaigns/{campaign_id}")
def set_status(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    campaigns: CampaignCacheDep,
    campaign_id: EntityId,
    body: StatusIn,
) -> CampaignOut:
    """Pause, resume or end a campaign. A paused or ended campaign commits no further
    impression; a resumed one serves again at once in this process, within a second in
    others."""
    view = runtime.write(
        lambda s: monetize.set_campaign_status(s, principal, campaign_id, body.status),
    )
    campaigns.invalidate()
    return _out(view)
