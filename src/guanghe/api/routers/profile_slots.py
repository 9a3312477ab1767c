"""``GET /v1/profile-slots/{creator_id}``: what one view of a creator's profile page shows.

The hot path of profile pages: the servable campaigns come from the app's
:class:`~guanghe.monetize.slots.CampaignCache` and the response is written as JSON directly
(the models below document it).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from guanghe import monetize
from guanghe.access import authenticate
from guanghe.api.deps import recent_principal, remember_principal
from guanghe.api.fields import IdPath
from guanghe.errors import Forbidden
from guanghe.http.deps import SESSION_COOKIE, get_runtime
from guanghe.runtime import Runtime

router = APIRouter(prefix="/v1/profile-slots", tags=["monetization"])

#: Platform services that render profile pages for viewers; their views commit ad spend.
SERVING_ROLES = ("operator", "ranker")
_SQLITE_VIEWS = threading.Lock()
_bearer = HTTPBearer(auto_error=False, description="An API token from `guanghe token create`")


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
    why: str = Field(description="Why this product is shown, with its figures")


class ProfileSlotOut(BaseModel):
    creator_id: int
    decided_at: dt.datetime
    profile_ads: bool
    product_display: bool
    preview: bool
    ad: AdOut | None
    products: list[ProductOut]


def campaign_cache(request: Request) -> monetize.slots.CampaignCache:
    """The app's cache of servable campaigns (one per app and process, made when the app is
    assembled)."""
    cache = request.app.state.campaign_cache
    assert isinstance(cache, monetize.slots.CampaignCache)
    return cache


CampaignCacheDep = Annotated[monetize.slots.CampaignCache, Depends(campaign_cache)]


@router.get("/{creator_id}", response_model=ProfileSlotOut)
def profile_slot(
    request: Request,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    campaigns: CampaignCacheDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    creator_id: IdPath,
    preview: Annotated[bool, Query(description="Decide without committing spend")] = False,
    products: Annotated[int, Query(ge=1, le=monetize.slots.MAX_PRODUCTS)] = 10,
) -> Response:
    """Decide the ad and the products of one profile view. Serving roles commit the ad's
    price against its campaign's budget; a creator may preview their own page.

    A caller seen in the last few seconds is known without the store (as on the other hot
    paths); otherwise it is authenticated inside the decision's transaction: one connection
    per view, never a second one taken while the first is held (which exhausts the pool
    under load).
    """
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)
    now = dt.datetime.now(dt.UTC)
    known = recent_principal(request, token)

    def decide(session: Session) -> monetize.ProfileSlot:
        principal = known or remember_principal(request, token, authenticate(session, token))
        as_preview = preview
        if principal.role == "creator":
            if principal.subject_id != creator_id:
                raise Forbidden(f"this creator token previews only creator {principal.subject_id}")
            as_preview = True
        elif principal.role not in SERVING_ROLES:
            raise Forbidden(f"the {principal.role} role does not serve profile pages")
        return monetize.decide_profile_slot(
            session,
            creator_id,
            now=now,
            preview=as_preview,
            product_limit=products,
            campaigns=campaigns,
        )

    with _one_view_writing(runtime):
        slot = runtime.write(decide)
    return Response(slot_json(slot), media_type="application/json")


def _one_view_writing(runtime: Runtime) -> AbstractContextManager[object]:
    """On SQLite, this process's views take the database's write lock one at a time, queued
    on a Python lock: threads left to wait in SQLite's busy handler sleep in steps of up to
    100 ms, which turns a short queue into tails of hundreds of milliseconds. (The GIL runs
    one view at a time anyway.) PostgreSQL needs no such queue: views lock campaign rows."""
    return _SQLITE_VIEWS if runtime.engine.dialect.name == "sqlite" else nullcontext()


def slot_json(slot: monetize.ProfileSlot) -> str:
    """The slot's JSON as :class:`ProfileSlotOut` serialises it, written by hand (the hot path
    skips building and validating the model; a test holds the two equal)."""
    return json.dumps(_slot_fields(slot), separators=(",", ":"), ensure_ascii=False)


def _slot_fields(slot: monetize.ProfileSlot) -> dict[str, Any]:
    ad = slot.ad
    return {
        "creator_id": slot.creator_id,
        "decided_at": slot.decided_at.isoformat().replace("+00:00", "Z"),
        "profile_ads": slot.profile_ads,
        "product_display": slot.product_display,
        "preview": slot.preview,
        "ad": None
        if ad is None
        else {
            "campaign_id": ad.campaign_id,
            "advertiser_id": ad.advertiser_id,
            "billing": ad.billing,
            "title": ad.title,
            "url": ad.url,
            "image_url": ad.image_url,
            "price_millifen": ad.price_millifen,
            "click_price_fen": ad.click_price_fen,
        },
        "products": [
            {
                "rank": p.rank,
                "product_id": p.product_id,
                "title": p.title,
                "category": p.category,
                "price_fen": p.price_fen,
                "commission_bp": p.commission_bp,
                "why": p.why,
            }
            for p in slot.products
        ],
    }
