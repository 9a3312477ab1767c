"""``/dashboard/traffic``: traffic support — operators see the day's plan by pool, vertical and
stage; creators (and institutions, for their creators) see a creator's own support."""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from guanghe.errors import Forbidden, GuangheError
from guanghe.http.deps import SessionDep, get_runtime
from guanghe.http.statuses import status_of
from guanghe.traffic import views
from guanghe.traffic.programs import load_programs, programs_path
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()

DimensionParam = Annotated[str, Query(pattern="^(pool|vertical|stage)$")]
CreatorParam = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


@router.get("/dashboard/traffic")
def traffic_page(
    request: Request, session: SessionDep, by: DimensionParam = "pool", creator: CreatorParam = None
) -> Response:
    """Operators: the newest plan summed ``by`` one dimension. Creators: their own support
    (institutions pass ``creator``)."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    snapshots = get_runtime(request).settings.snapshots_dir
    context: dict[str, Any] = {"principal": principal, "error": None, "by": by}
    try:
        if principal.role == "operator":
            summary = views.plan_summary(session, snapshots, None, cast("views.Dimension", by))
            context |= {"summary": summary, "plan_chart": plan_chart(summary)}
        elif principal.role not in ("creator", "institution"):
            raise Forbidden(f"the {principal.role} role has no traffic support to see")
        else:
            subject = creator if principal.role == "institution" else principal.subject_id
            if subject is None:
                context["error"] = "Choose a creator: /dashboard/traffic?creator=ID"
                return templates.TemplateResponse(request, "traffic.html", context, 422)
            programs = load_programs(programs_path(get_runtime(request).settings.data_dir))
            context["mine"] = views.creator_traffic(
                session, principal, snapshots, subject, None, programs
            )
    except GuangheError as exc:
        context["error"] = exc.detail
        return templates.TemplateResponse(request, "traffic.html", context, status_of(exc))
    return templates.TemplateResponse(request, "traffic.html", context)


def plan_chart(summary: views.PlanSummary) -> dict[str, Any]:
    """Planned (period allocation) and delivered impressions per group."""
    return {
        "labels": [g.key for g in summary.groups],
        "datasets": [
            {"label": "Allocated this period", "data": [g.allocated for g in summary.groups]},
            {"label": "Delivered so far", "data": [g.delivered for g in summary.groups]},
            {"label": f"Quota on {summary.day}", "data": [g.quota for g in summary.groups]},
        ],
    }
