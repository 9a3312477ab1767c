"""Merchants' products for commodity distribution: listed, updated and read back with the
orders and commission they brought."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden, InvalidInput, NotFound
from guanghe.monetize.parties import check_acts_for, require_party
from guanghe.pagination import Page, after_id, check_limit, page_of
from guanghe.store import Product

MAX_PRICE_FEN = 10**10
MAX_STOCK = 10**9


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """A product as a merchant lists it. Validated on construction (:class:`InvalidInput`)."""

    title: str
    category: str
    price_fen: int
    commission_bp: int
    stock: int
    description: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= len(self.title.strip()) <= 200:
            problems.append("title is 1 to 200 characters")
        if not 1 <= len(self.category.strip()) <= 60:
            problems.append("category is 1 to 60 characters")
        if not 0 < self.price_fen <= MAX_PRICE_FEN:
            problems.append(f"price_fen is 1 to {MAX_PRICE_FEN}")
        if not 0 < self.commission_bp <= 10_000:
            problems.append("commission_bp is 1 to 10000 (basis points of the price)")
        if not 0 <= self.stock <= MAX_STOCK:
            problems.append(f"stock is 0 to {MAX_STOCK}")
        if len(self.description) > 4_000:
            problems.append("description is at most 4000 characters")
        if problems:
            raise InvalidInput("; ".join(problems))


@dataclass(frozen=True, slots=True)
class ProductView:
    id: int
    merchant_id: int
    title: str
    description: str
    category: str
    price_fen: int
    commission_bp: int
    stock: int
    active: bool
    created_at: dt.datetime

    @property
    def commission_fen(self) -> int:
        """Commission on one sale at the list price."""
        return self.price_fen * self.commission_bp // 10_000


@dataclass(frozen=True, slots=True)
class ProductChange:
    """Fields a merchant may change; None leaves a field as it is."""

    price_fen: int | None = None
    commission_bp: int | None = None
    stock: int | None = None
    active: bool | None = None


def create_product(
    session: Session, principal: Principal, merchant_id: int, spec: ProductSpec, *, now: dt.datetime
) -> ProductView:
    """List a product for ``merchant_id``."""
    check_acts_for(principal, "merchant", merchant_id)
    require_party(session, "merchant", merchant_id)
    row = Product(
        merchant_id=merchant_id,
        title=spec.title.strip(),
        description=spec.description,
        category=spec.category.strip().lower(),
        price_fen=spec.price_fen,
        commission_bp=spec.commission_bp,
        stock=spec.stock,
        active=True,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _view(row)


def list_products(
    session: Session,
    principal: Principal,
    *,
    merchant_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ProductView]:
    """Products the caller may see, a merchant's own or every one for operators, in id order
    a page at a time (:mod:`guanghe.pagination`)."""
    check_limit(limit)
    query: Select[Product] = select(Product).order_by(Product.id).limit(limit + 1)
    if principal.role == "merchant":
        query = query.where(Product.merchant_id == principal.subject_id)
    elif principal.role != "operator":
        raise Forbidden(f"the {principal.role} role has no products")
    if merchant_id is not None:
        query = query.where(Product.merchant_id == merchant_id)
    after = after_id(cursor)
    if after is not None:
        query = query.where(Product.id > after)
    return page_of([_view(r) for r in session.scalars(query)], limit, lambda v: [v.id])


def get_product(session: Session, principal: Principal, product_id: int) -> ProductView:
    """One product; another merchant's is :class:`Forbidden`."""
    return _view(_owned(session, principal, product_id))


def update_product(
    session: Session, principal: Principal, product_id: int, change: ProductChange
) -> ProductView:
    """Change price, commission, stock or whether the product is on offer."""
    row = _owned(session, principal, product_id, for_update=True)
    merged = ProductSpec(
        title=row.title,
        category=row.category,
        price_fen=row.price_fen if change.price_fen is None else change.price_fen,
        commission_bp=row.commission_bp if change.commission_bp is None else change.commission_bp,
        stock=row.stock if change.stock is None else change.stock,
        description=row.description,
    )
    row.price_fen, row.commission_bp, row.stock = (
        merged.price_fen,
        merged.commission_bp,
        merged.stock,
    )
    if change.active is not None:
        row.active = change.active
    session.flush()
    return _view(row)


def _owned(
    session: Session, principal: Principal, product_id: int, *, for_update: bool = False
) -> Product:
    if principal.role not in ("merchant", "operator"):
        raise Forbidden(f"the {principal.role} role has no products")
    row = session.get(Product, product_id, with_for_update=for_update)
    if row is None:
        raise NotFound(f"product {product_id} does not exist")
    if principal.role == "merchant" and row.merchant_id != principal.subject_id:
        raise Forbidden(f"product {product_id} is another merchant's")
    return row


def _view(row: Product) -> ProductView:
    return ProductView(
        id=row.id,
        merchant_id=row.merchant_id,
        title=row.title,
        description=row.description,
        category=row.category,
        price_fen=row.price_fen,
        commission_bp=row.commission_bp,
        stock=row.stock,
        active=row.active,
        created_at=row.created_at,
    )


@dataclass(frozen=True, slots=True)
class ProductSales:
    """Orders of one product in the event log: count, refunds, value and commission (fen)."""

    orders: int = 0
    refunds: int = 0
    order_value_fen: int = 0
    commission_fen: int = 0


def product_sales(
    events: duckdb.DuckDBPyConnection, product_ids: list[int]
) -> dict[int, ProductSales]:
    """Sales of ``product_ids`` from an event-log connection (a view named ``events``)."""
    if not product_ids:
        return {}
    rows = events.execute(
        "SELECT product_id, count(*) FILTER (WHERE type = 'order'), "
        "count(*) FILTER (WHERE type = 'refund'), "
        "coalesce(sum(amount_fen) FILTER (WHERE type = 'order'), 0), "
        "coalesce(sum(commission_fen) FILTER (WHERE type = 'order'), 0) "
        "FROM events WHERE type IN ('order', 'refund') AND product_id IN "
        "(SELECT unnest(?::BIGINT[])) GROUP BY product_id",
        [product_ids],
    ).fetchall()
    return {int(p): ProductSales(int(o), int(r), int(v), int(c)) for p, o, r, v, c in rows}
