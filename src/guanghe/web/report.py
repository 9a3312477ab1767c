"""``/dashboard/report``: the ecosystem report page for operators, with charts."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from guanghe import analytics
from guanghe.errors import InvalidInput
from guanghe.http.deps import SessionDep, get_runtime
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()

DateParam = Annotated[str, Query(max_length=10)]
#: Metrics drawn in the chart (counts of creators); the rest are shown in the table only.
CHARTED = (
    "active_authors",
    "monthly_continuous_authors",
    "supported_creators",
    "creators_earning",
    "creators_two_income_sources",
)


@router.get("/dashboard/report")
def report_page(
    request: Request, session: SessionDep, start: DateParam = "", end: DateParam = ""
) -> Response:
    """The report for ``from``..``to`` (default: the last 28 days of events) vs a year before."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    context: dict[str, Any] = {"principal": principal, "error": None, "report": None}
    if principal.role != "operator":
        context["error"] = "The ecosystem report is for operators."
        return templates.TemplateResponse(request, "report.html", context, status_code=403)
    runtime = get_runtime(request)
    start = request.query_params.get("from", start)
    end = request.query_params.get("to", end)
    if not start or not end:
        dates = runtime.event_log.dates()
        last = dt.date.fromisoformat(dates[-1]) if dates else dt.datetime.now(dt.UTC).date()
        start, end = str(last - dt.timedelta(days=27)), str(last)
    context["filters"] = {"from": start, "to": end}
    try:
        period = analytics.parse_period(start, end)
    except InvalidInput as exc:
        context["error"] = exc.detail
        return templates.TemplateResponse(request, "report.html", context, status_code=422)
    report = analytics.ecosystem_report(session, runtime.event_log, period)
    context |= {"report": report, "report_chart": comparison_chart(report)}
    return templates.TemplateResponse(request, "report.html", context)


def comparison_chart(report: analytics.EcosystemReport) -> dict[str, Any]:
    """Creator counts, this period next to a year earlier (unavailable values are gaps)."""
    shown = [m for m in report.metrics if m.key in CHARTED]
    return {
        "labels": [m.label for m in shown],
        "datasets": [
            {
                "label": f"{report.period.start} → {report.period.end}",
                "data": [m.current.value for m in shown],
            },
            {
                "label": f"{report.previous.start} → {report.previous.end}",
                "data": [m.previous.value for m in shown],
            },
        ],
    }
