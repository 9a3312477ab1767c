"""``/v1/advertisers`` and ``/v1/campaigns``: advertisers (registered by operators, funded by
deposits) and their profile-page ad campaigns. An advertiser token sees only its own."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from guanghe import creators, monetize
from guanghe.access import Principal
from guanghe.api.fields import (
    BodyId,
    Cursor,
    IdPath,
    IdQuery,
    Instant,
    StorableText,
    StrictInt,
)
from guanghe.api.routers.profile_slots import CampaignCacheDep
from guanghe.errors import Forbidden, InvalidInput
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime, require_role
from guanghe.pagination import MAX_PAGE
from guanghe.runtime import Runtime

router = APIRouter(tags=["campaigns"])

EntityId = IdPath
VerticalName = Annotated[
    StorableText, Field(min_length=1, max_length=40, description="A name from /v1/verticals")
]
Operator = Annotated[Principal, require_role("operator")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class PartyIn(BaseModel):
    name: StorableText = Field(min_length=1, max_length=120)


class PartyOut(BaseModel):
    kind: str
    id: int
    name: str
    created_at: dt.datetime


class DepositIn(BaseModel):
    key: StorableText = Field(min_length=1, max_length=100, description="Idempotency key")
    amount_fen: StrictInt = Field(gt=0, le=monetize.campaigns.MAX_BUDGET_FEN)


class BalanceOut(BaseModel):
    advertiser_id: int
    prepaid_fen: int


class CampaignIn(BaseModel):
    name: StorableText = Field(min_length=1, max_length=120)
    billing: Literal["cpm", "cpc"]
    bid_fen: StrictInt = Field(
        gt=0, le=monetize.campaigns.MAX_BID_FEN, description="Per mille or click"
    )
    budget_fen: StrictInt = Field(gt=0, le=monetize.campaigns.MAX_BUDGET_FEN)
    starts_at: Instant
    ends_at: Instant
    pacing: Literal["even", "asap"] = "even"
    target_verticals: list[VerticalName] = Field(default=[], max_length=64)
    target_stages: list[Literal["novice", "growing", "mature"]] = Field(default=[], max_length=3)
    min_followers: StrictInt = Field(default=0, ge=0, le=2**62)
    max_followers: StrictInt | None = Field(default=None, ge=0, le=2**62)
    excluded_verticals: list[VerticalName] = Field(default=[], max_length=64)
    excluded_keywords: list[Annotated[StorableText, Field(min_length=1, max_length=40)]] = Field(
        default=[], max_length=monetize.campaigns.MAX_KEYWORDS
    )
    creative_title: StorableText = Field(min_length=1, max_length=80)
    creative_url: StorableText = Field(min_length=8, max_length=400)
    creative_image_url: StorableText | None = Field(default=None, max_length=400)
    advertiser_id: BodyId | None = Field(default=None, description="Operators only: whose campaign")


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
    target_verticals: list[str]
    target_stages: list[str]
    min_followers: int
    max_followers: int | None
    excluded_verticals: list[str]
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


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    next_cursor: str | None


class StatusIn(BaseModel):
    status: Literal["active", "paused", "ended"]


def _vertical_names(session: Session) -> dict[int, str]:
    return {v.id: v.slug for v in creators.list_verticals(session)}


def _out(view: monetize.CampaignView, names: dict[int, str]) -> CampaignOut:
    """The campaign as the API shows it: verticals by name, the one vocabulary."""
    fields = {f: getattr(view, f) for f in CampaignOut.model_fields}
    fields["target_verticals"] = [names.get(v, str(v)) for v in view.target_verticals]
    fields["excluded_verticals"] = [names.get(v, str(v)) for v in view.excluded_verticals]
    return CampaignOut.model_validate(fields)


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


def _spec(session: Session, body: CampaignIn) -> monetize.CampaignSpec:
    """The domain's campaign spec of ``body``, its vertical names resolved to ids."""
    return monetize.CampaignSpec(
        name=body.name,
        billing=body.billing,
        bid_fen=body.bid_fen,
        budget_fen=body.budget_fen,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        pacing=body.pacing,
        target_verticals=creators.vertical_ids(
            session, body.target_verticals, field="target_verticals"
        ),
        target_stages=tuple(body.target_stages),
        min_followers=body.min_followers,
        max_followers=body.max_followers,
        excluded_verticals=creators.vertical_ids(
            session, body.excluded_verticals, field="excluded_verticals"
        ),
        excluded_keywords=tuple(body.excluded_keywords),
        creative_title=body.creative_title,
        creative_url=body.creative_url,
        creative_image_url=body.creative_image_url,
    )


@router.post("/v1/campaigns", status_code=201)
def create_campaign(
    runtime: RuntimeDep, principal: PrincipalDep, campaigns: CampaignCacheDep, body: CampaignIn
) -> CampaignOut:
    """Create a campaign; its budget is moved from the advertiser's prepaid account to the
    campaign's budget account in the same transaction (409 if the prepaid is short). It can
    win profile views at once in this process, within a second in others. Verticals are
    named as ``GET /v1/verticals`` lists them."""
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
    now = dt.datetime.now(dt.UTC)

    def create(session: Session) -> CampaignOut:
        spec = _spec(session, body)
        view = monetize.create_campaign(session, principal, advertiser_id, spec, now=now)
        return _out(view, _vertical_names(session))

    created = runtime.write(create)
    campaigns.invalidate()
    return created


@router.get("/v1/campaigns")
def list_campaigns(
    session: SessionDep,
    principal: PrincipalDep,
    advertiser_id: IdQuery = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> CampaignPage:
    """Campaigns with delivery and spend, an advertiser's own or all for operators, in id
    order a page at a time (as ``/v1/creators``)."""
    page = monetize.list_campaigns(
        session, principal, advertiser_id=advertiser_id, cursor=cursor, limit=limit
    )
    names = _vertical_names(session)
    return CampaignPage(items=[_out(v, names) for v in page.items], next_cursor=page.next_cursor)


@router.get("/v1/campaigns/{campaign_id}")
def get_campaign(
    session: SessionDep, principal: PrincipalDep, campaign_id: EntityId
) -> CampaignOut:
    """One campaign (404 for another advertiser's)."""
    view = monetize.get_campaign(session, principal, campaign_id)
    return _out(view, _vertical_names(session))


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

    def change(session: Session) -> CampaignOut:
        view = monetize.set_campaign_status(session, principal, campaign_id, body.status)
        return _out(view, _vertical_names(session))

    changed = runtime.write(change)
    campaigns.invalidate()
    return changed
