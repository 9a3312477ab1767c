"""``/dashboard``: the overview each role may see, and the creators table's htmx fragment."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from guanghe import analytics, creators
from guanghe.access import Principal
from guanghe.http.deps import SessionDep
from guanghe.web import growth, incentives, institutions, monetize
from guanghe.web.charts import stage_chart, works_chart
from guanghe.web.roles import CAPABILITIES
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()

PAGE_SIZE = 20
VerticalParam = Annotated[str, Query(max_length=40, pattern="^[a-z0-9-]*$")]
StageParam = Annotated[str, Query(pattern="^(novice|growing|mature)?$")]
CursorParam = Annotated[str | None, Query(max_length=200)]


@router.get("/dashboard")
def dashboard(
    request: Request, session: SessionDep, vertical: VerticalParam = "", stage: StageParam = ""
) -> Response:
    """The signed-in principal's overview; the sign-in form for anyone else."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    context: dict[str, Any] = {"principal": principal}
    if principal.role in ("advertiser", "merchant"):
        return monetize.party_page(request, session, principal)
    if principal.role in CAPABILITIES:
        context["capabilities"] = CAPABILITIES[principal.role]
        return templates.TemplateResponse(request, "role.html", context)
    overview = analytics.platform_overview(session, principal)
    context |= {
        "overview": overview,
        "stage_chart": stage_chart(overview),
        "works_chart": works_chart(overview),
    }
    if principal.role == "creator":
        assert principal.subject_id is not None
        context["me"] = creators.get_creator(session, principal, principal.subject_id)
        context |= growth.creator_context(request, session, principal)
        context |= monetize.creator_context(session, principal.subject_id)
        context |= incentives.creator_context(session, principal)
        return templates.TemplateResponse(request, "creator.html", context)
    if principal.role == "institution":
        context |= institutions.institution_context(request, session, principal)
    if principal.role == "operator":
        context |= _creator_table(session, principal, vertical or None, stage or None, None)
        context["verticals"] = creators.list_verticals(session)
        context["filters"] = {"vertical": vertical, "stage": stage}
        context |= growth.operator_context(request, principal)
        context |= monetize.operator_context(session)
        context |= incentives.operator_context(request, session, principal)
    return templates.TemplateResponse(request, f"{principal.role}.html", context)


@router.get("/dashboard/creators")
def creator_rows(
    request: Request,
    session: SessionDep,
    vertical: VerticalParam = "",
    stage: StageParam = "",
    cursor: CursorParam = None,
) -> Response:
    """Rows of the creators table (an htmx fragment), filtered, with a "load more" row."""
    principal = signed_in(request, session)
    if principal is None:
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    context = _creator_table(session, principal, vertical or None, stage or None, cursor)
    return templates.TemplateResponse(request, "partials/creator_rows.html", context)


def _creator_table(
    session: Session,
    principal: Principal,
    vertical: str | None,
    stage: str | None,
    cursor: str | None,
) -> dict[str, Any]:
    filters = creators.CreatorFilter(vertical=vertical, stage=stage)
    page = creators.list_creators(session, principal, filters, cursor=cursor, limit=PAGE_SIZE)
    more_url = None
    if page.next_cursor is not None:
        query = {"vertical": vertical or "", "stage": stage or "", "cursor": page.next_cursor}
        more_url = "/dashboard/creators?" + urlencode(query)
    return {"rows": page.items, "more_url": more_url}
