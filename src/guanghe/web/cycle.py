"""``/dashboard/cycle``: the daily cycle's runs for operators, and one run's step table with
every problem."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from guanghe import pipelines
from guanghe.errors import GuangheError
from guanghe.http.deps import SessionDep, get_runtime
from guanghe.http.statuses import status_of
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()


@router.get("/dashboard/cycle")
def cycle_page(
    request: Request,
    session: SessionDep,
    date: Annotated[str | None, Query(max_length=10)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The runs, newest first; with ``date``, that run's steps and problems."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    context: dict[str, Any] = {"principal": principal, "error": None, "runs": None, "run": None}
    if principal.role != "operator":
        context["error"] = "The cycle's runs are for operators."
        return templates.TemplateResponse(request, "cycle.html", context, status_code=403)
    snapshots = get_runtime(request).settings.snapshots_dir
    try:
        context["runs"] = pipelines.list_runs(snapshots, cursor=cursor)
        if date is not None:
            context["run"] = pipelines.load_run(snapshots, pipelines.parse_day(date))
    except GuangheError as exc:
        context["error"] = exc.detail
        return templates.TemplateResponse(request, "cycle.html", context, status_of(exc))
    return templates.TemplateResponse(request, "cycle.html", context)
