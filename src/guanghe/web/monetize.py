"""The dashboard's monetization views: the creator's earnings by source, what their profile
page shows with the opt-in toggles and the estimate; the advertisers' and merchants' own
dashboards; the operators' totals."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanghe import monetize
from guanghe.access import Principal
from guanghe.http.deps import SessionDep, get_runtime
from guanghe.pagination import MAX_PAGE
from guanghe.web.roles import CAPABILITIES
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()


def creator_context(session: Session, creator_id: int) -> dict[str, Any]:
    """What the creator's dashboard shows about monetization."""
    return {
        "authorised": monetize.authorisations(session, creator_id),
        "estimate": monetize.earnings_estimate(session, creator_id),
        "earnings": monetize.creator_earnings(session, creator_id),
        "slot": monetize.decide_profile_slot(
            session, creator_id, now=dt.datetime.now(dt.UTC), preview=True
        ),
    }


def operator_context(session: Session) -> dict[str, Any]:
    """The operators' monetization totals."""
    return {"totals": monetize.monetization_totals(session)}


def party_page(request: Request, session: Session, principal: Principal) -> Response:
    """The advertiser's campaigns, or the merchant's products, with spend and results."""
    context: dict[str, Any] = {
        "principal": principal,
        "capabilities": CAPABILITIES[principal.role],
    }
    if principal.role == "advertiser":
        context["campaigns"] = monetize.list_campaigns(session, principal, limit=MAX_PAGE).items
        return templates.TemplateResponse(request, "advertiser.html", context)
    products = monetize.list_products(session, principal, limit=MAX_PAGE).items
    con = get_runtime(request).event_log.connect()
    try:
        sales = monetize.product_sales(con, [p.id for p in products])
    finally:
        con.close()
    context["rows"] = [(p, sales.get(p.id, monetize.ProductSales())) for p in products]
    return templates.TemplateResponse(request, "merchant.html", context)


@router.post("/dashboard/authorisations/{kind}")
def toggle(
    request: Request,
    session: SessionDep,
    kind: Literal["profile_ads", "product_display"],
    granted: Annotated[bool, Form()],
) -> Response:
    """The creator's opt-in/out toggle; back to the dashboard."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    if principal.role != "creator" or principal.subject_id is None:
        return Response("only creators authorise their own profile page", status_code=403)
    creator_id = principal.subject_id
    now = dt.datetime.now(dt.UTC)
    get_runtime(request).write(
        lambda s: monetize.set_authorisation(
            s, creator_id, kind, granted, changed_by=principal.user_id, now=now
        ),
    )
    return RedirectResponse("/dashboard#monetization", status_code=303)
