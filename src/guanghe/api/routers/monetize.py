"""``/v1/authorisations``, ``/v1/earnings`` and ``/v1/monetization``: creators' opt-in and
opt-out of profile ads and product display, their history, the estimate shown before opting
in, earnings by source, and the operators' totals."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from guanghe import monetize
from guanghe.access import Principal
from guanghe.api.fields import IdPath, StrictBool
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime, require_role
from guanghe.runtime import Runtime

router = APIRouter(tags=["monetization"])

CreatorId = IdPath
Kind = Annotated[Literal["profile_ads", "product_display"], Path()]
Operator = Annotated[Principal, require_role("operator")]


class EstimateOut(BaseModel):
    as_of: dt.date | None
    profile_views_28d: int
    profile_ads_fen_28d: int = Field(description="Your ad revenue share over 28 days, fen")
    product_display_fen_28d: int = Field(description="Commission over 28 days, fen")
    basis: str


class AuthorisationsOut(BaseModel):
    creator_id: int
    profile_ads: bool
    product_display: bool
    updated_at: dt.datetime | None
    estimate: EstimateOut


class AuthorisationIn(BaseModel):
    granted: StrictBool


class ConsentChangeOut(BaseModel):
    kind: str
    granted: bool
    changed_at: dt.datetime
    changed_by: int | None


class EarningsOut(BaseModel):
    creator_id: int
    account_id: int | None
    by_source: dict[str, int] = Field(description="Posted fen by source; splits negative")
    pending_commission_fen: int
    balance_fen: int
    owed_fen: int = Field(
        description="Refunded commission the earnings could not cover, repaid from the next "
        "payouts before anything is paid"
    )


class TotalsOut(BaseModel):
    creators_with_ads: int
    creators_with_products: int
    active_campaigns: int
    campaign_budget_fen: int
    committed_fen: int
    ad_spend_fen: int
    creator_ad_share_fen: int
    active_products: int
    commission_posted_fen: int
    commission_pending_fen: int


def _authorisations_out(
    current: monetize.Authorisations, estimate: monetize.Estimate
) -> AuthorisationsOut:
    return AuthorisationsOut(
        creator_id=current.creator_id,
        profile_ads=current.profile_ads,
        product_display=current.product_display,
        updated_at=current.updated_at,
        estimate=EstimateOut.model_validate(estimate, from_attributes=True),
    )


@router.get("/v1/authorisations/{creator_id}")
def get_authorisations(
    session: SessionDep, principal: PrincipalDep, creator_id: CreatorId
) -> AuthorisationsOut:
    """The creator's current authorisations and what authorising is worth to them."""
    monetize.check_creator_access(session, principal, creator_id)
    return _authorisations_out(
        monetize.authorisations(session, creator_id),
        monetize.earnings_estimate(session, creator_id),
    )


@router.put("/v1/authorisations/{creator_id}/{kind}")
def put_authorisation(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    creator_id: CreatorId,
    kind: Kind,
    body: AuthorisationIn,
) -> AuthorisationsOut:
    """Grant or withdraw one authorisation; it applies from the next profile view."""
    monetize.check_creator_access(session, principal, creator_id)
    now = dt.datetime.now(dt.UTC)
    current = runtime.write(
        lambda s: monetize.set_authorisation(
            s, creator_id, kind, body.granted, changed_by=principal.user_id, now=now
        ),
    )
    return _authorisations_out(current, monetize.earnings_estimate(session, creator_id))


@router.get("/v1/authorisations/{creator_id}/history")
def authorisation_history(
    session: SessionDep,
    principal: PrincipalDep,
    creator_id: CreatorId,
    limit: Annotated[int, Query(ge=1, le=monetize.consents.MAX_HISTORY)] = 100,
) -> list[ConsentChangeOut]:
    """Every change of the creator's authorisations, newest first."""
    monetize.check_creator_access(session, principal, creator_id)
    changes = monetize.authorisation_history(session, creator_id, limit=limit)
    return [ConsentChangeOut.model_validate(c, from_attributes=True) for c in changes]


@router.get("/v1/earnings/{creator_id}")
def creator_earnings(
    session: SessionDep, principal: PrincipalDep, creator_id: CreatorId
) -> EarningsOut:
    """The creator's earnings by source, from the ledger."""
    monetize.check_creator_access(session, principal, creator_id)
    return EarningsOut.model_validate(
        monetize.creator_earnings(session, creator_id), from_attributes=True
    )


@router.get("/v1/monetization/totals")
def totals(session: SessionDep, principal: Operator) -> TotalsOut:
    """Platform-wide monetization totals (operators)."""
    return TotalsOut.model_validate(monetize.monetization_totals(session), from_attributes=True)
