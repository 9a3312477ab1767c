"""``/dashboard/experiments``: operators' experiments, and one experiment's report with each
metric's effect, interval and verdict."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from guanghe import experiments
from guanghe.errors import Forbidden, GuangheError, NotFound
from guanghe.http.deps import SessionDep, get_runtime
from guanghe.http.statuses import status_of
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()

ExperimentId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/dashboard/experiments")
def experiments_page(request: Request, session: SessionDep) -> Response:
    """Every experiment with its policy, arms and status (operators)."""
    return _page(request, session, None)


@router.get("/dashboard/experiments/{experiment_id}")
def experiment_page(request: Request, session: SessionDep, experiment_id: ExperimentId) -> Response:
    """One experiment's report (operators); the list beside it."""
    return _page(request, session, experiment_id)


def _page(request: Request, session: SessionDep, experiment_id: int | None) -> Response:
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    today = dt.datetime.now(dt.UTC).date()
    context: dict[str, Any] = {"principal": principal, "error": None, "report": None}
    try:
        if principal.role != "operator":
            raise Forbidden("experiments are for operators")
        context["experiments"] = experiments.list_experiments(session)
        context["today"] = today
        if experiment_id is not None:
            context["selected"] = experiments.get_experiment(session, experiment_id)
            log = get_runtime(request).event_log
            try:
                context["report"] = experiments.experiment_report(session, log, experiment_id)
            except NotFound as exc:  # it has no day of events yet: the page says so
                context["report_missing"] = exc.detail
    except GuangheError as exc:
        context["error"] = exc.detail
        return templates.TemplateResponse(request, "experiments.html", context, status_of(exc))
    return templates.TemplateResponse(request, "experiments.html", context)
