"""``GET /v1/profile-slots/{creator_id}``: what one view of a creator's profile page shows."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from guanghe import monetize
from guanghe.api.deps import PrincipalDep, get_runtime
from guanghe.errors import Forbidden, NotFound
from guanghe.ledger import in_writer_transaction
from guanghe.runtime import Runtime

router = APIRouter(prefix="/v1/profile-slots", tags=["monetization"])

#: Platform services that render profile pages for viewers; their views commit ad spend.
SERVING_ROLES = ("operator", "ranker")


class AdOut(BaseModel):
    campaign_id: int
    advertiser_id: int
    billing: str
    title: str
    url: str
    image_url: str | None
    price_millifen: int = Field(description="Committed for this impression (fen / 1000)")
    click_price_fen: int | None = Field(description="Charge per click (CPC campaigns)")


class ProductOut(BaseModel):
    rank: int
    product_id: int
    title: str
    category: str
    price_fen: int
    commission_bp: int


class ProfileSlotOut(BaseModel):
    creator_id: int
    decided_at: dt.datetime
    profile_ads: bool
    product_display: bool
    preview: bool
    ad: AdOut | None
    products: list[ProductOut]


@router.get("/{creator_id}")
def profile_slot(
    principal: PrincipalDep,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    creator_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    preview: Annotated[bool, Query(description="Decide without committing spend")] = False,
    products: Annotated[int, Query(ge=1, le=monetize.slots.MAX_PRODUCTS)] = 10,
) -> ProfileSlotOut:
    """Decide the ad and the products of one profile view. Serving roles commit the ad's
    price against its campaign's budget; a creator may preview their own page."""
    if principal.role == "creator":
        if principal.subject_id != creator_id:
            raise NotFound(f"creator {creator_id} does not exist")
        preview = True
    elif principal.role not in SERVING_ROLES:
        raise Forbidden(f"the {principal.role} role does not serve profile pages")
    now = dt.datetime.now(dt.UTC)
    slot = in_writer_transaction(
        runtime.engine,
        lambda s: monetize.decide_profile_slot(
            s, creator_id, now=now, preview=preview, product_limit=products
        ),
    )
    return ProfileSlotOut(
        creator_id=slot.creator_id,
        decided_at=slot.decided_at,
        profile_ads=slot.profile_ads,
        product_display=slot.product_display,
        preview=slot.preview,
        ad=AdOut.model_validate(slot.ad, from_attributes=True) if slot.ad else None,
        products=[ProductOut.model_validate(p, from_attributes=True) for p in slot.products],
    )
