"""``/v1/merchants`` and ``/v1/products``: merchants (registered by operators) and the products
they list for commodity distribution. A merchant token sees only its own."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from guanghe import monetize
from guanghe.access import Principal
from guanghe.api.fields import BodyId, Cursor, IdPath, IdQuery, StorableText, StrictBool, StrictInt
from guanghe.api.routers.campaigns import PartyIn, PartyOut
from guanghe.errors import Forbidden, InvalidInput
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime, require_role
from guanghe.pagination import MAX_PAGE
from guanghe.runtime import Runtime

router = APIRouter(tags=["products"])

EntityId = IdPath
Operator = Annotated[Principal, require_role("operator")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class ProductIn(BaseModel):
    title: StorableText = Field(min_length=1, max_length=200)
    category: StorableText = Field(min_length=1, max_length=60)
    price_fen: StrictInt = Field(gt=0, le=monetize.products.MAX_PRICE_FEN)
    commission_bp: StrictInt = Field(gt=0, le=10_000, description="Basis points of the price")
    stock: StrictInt = Field(ge=0, le=monetize.products.MAX_STOCK)
    description: StorableText = Field(default="", max_length=4_000)
    merchant_id: BodyId | None = Field(default=None, description="Operators only: whose product")


class ProductPatch(BaseModel):
    price_fen: StrictInt | None = Field(default=None, gt=0, le=monetize.products.MAX_PRICE_FEN)
    commission_bp: StrictInt | None = Field(default=None, gt=0, le=10_000)
    stock: StrictInt | None = Field(default=None, ge=0, le=monetize.products.MAX_STOCK)
    active: StrictBool | None = None


class ProductOut(BaseModel):
    id: int
    merchant_id: int
    title: str
    description: str
    category: str
    price_fen: int
    commission_bp: int
    commission_fen: int
    stock: int
    active: bool
    created_at: dt.datetime


class ProductPage(BaseModel):
    items: list[ProductOut]
    next_cursor: str | None


def _out(view: monetize.ProductView) -> ProductOut:
    return ProductOut.model_validate(view, from_attributes=True)


@router.post("/v1/merchants", status_code=201)
def register_merchant(runtime: RuntimeDep, principal: Operator, body: PartyIn) -> PartyOut:
    """Register a merchant (operators); merchant tokens then act for its id."""
    now = dt.datetime.now(dt.UTC)
    party = runtime.write(lambda s: monetize.register_party(s, "merchant", body.name, now=now))
    return PartyOut.model_validate(party, from_attributes=True)


@router.get("/v1/merchants/{merchant_id}")
def get_merchant(session: SessionDep, principal: PrincipalDep, merchant_id: EntityId) -> PartyOut:
    """One merchant (operators, or the merchant itself)."""
    party = monetize.get_party(session, principal, "merchant", merchant_id)
    return PartyOut.model_validate(party, from_attributes=True)


@router.post("/v1/products", status_code=201)
def create_product(runtime: RuntimeDep, principal: PrincipalDep, body: ProductIn) -> ProductOut:
    """List a product; the next daily cycle matches it to creators."""
    if principal.role == "merchant":
        if body.merchant_id not in (None, principal.subject_id):
            raise Forbidden("a merchant lists products only for itself")
        merchant_id = principal.subject_id
    elif principal.role == "operator":
        if body.merchant_id is None:
            raise InvalidInput("merchant_id: operators name the merchant")
        merchant_id = body.merchant_id
    else:
        raise Forbidden(f"the {principal.role} role cannot list products")
    assert merchant_id is not None
    spec = monetize.ProductSpec(
        title=body.title,
        category=body.category,
        price_fen=body.price_fen,
        commission_bp=body.commission_bp,
        stock=body.stock,
        description=body.description,
    )
    now = dt.datetime.now(dt.UTC)
    view = runtime.write(
        lambda s: monetize.create_product(s, principal, merchant_id, spec, now=now),
    )
    return _out(view)


@router.get("/v1/products")
def list_products(
    session: SessionDep,
    principal: PrincipalDep,
    merchant_id: IdQuery = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> ProductPage:
    """Products, a merchant's own or all for operators, in id order a page at a time (as
    ``/v1/creators``)."""
    page = monetize.list_products(
        session, principal, merchant_id=merchant_id, cursor=cursor, limit=limit
    )
    return ProductPage(items=[_out(v) for v in page.items], next_cursor=page.next_cursor)


@router.get("/v1/products/{product_id}")
def get_product(session: SessionDep, principal: PrincipalDep, product_id: EntityId) -> ProductOut:
    """One product (404 for another merchant's)."""
    return _out(monetize.get_product(session, principal, product_id))


@router.patch("/v1/products/{product_id}")
def update_product(
    runtime: RuntimeDep, principal: PrincipalDep, product_id: EntityId, body: ProductPatch
) -> ProductOut:
    """Change price, commission, stock or whether it is on offer (out of stock or inactive
    products leave profile pages on the next view)."""
    change = monetize.ProductChange(body.price_fen, body.commission_bp, body.stock, body.active)
    view = runtime.write(lambda s: monetize.update_product(s, principal, product_id, change))
    return _out(view)
