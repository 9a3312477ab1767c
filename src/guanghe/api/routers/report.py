"""``/v1/report/ecosystem``: the ecosystem report for operators."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from guanghe import analytics
from guanghe.access import Principal
from guanghe.api.fields import Day
from guanghe.http.deps import SessionDep, get_runtime, require_role
from guanghe.runtime import Runtime

router = APIRouter(prefix="/v1/report", tags=["report"])


class FigureOut(BaseModel):
    value: int | None
    unavailable: str | None


class MetricOut(BaseModel):
    key: str
    label: str
    current: FigureOut
    previous: FigureOut
    change: float | None


class PeriodOut(BaseModel):
    start: dt.date
    end: dt.date


class ReportOut(BaseModel):
    period: PeriodOut
    previous: PeriodOut
    metrics: list[MetricOut]


@router.get("/ecosystem")
def ecosystem(
    session: SessionDep,
    _operator: Annotated[Principal, require_role("operator")],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    start: Annotated[Day, Query(alias="from", description="First day, YYYY-MM-DD")],
    end: Annotated[Day, Query(alias="to", description="Last day, YYYY-MM-DD")],
) -> ReportOut:
    """The period against the same days a year earlier; unavailable metrics say why."""
    period = analytics.parse_period(start, end)
    report = analytics.ecosystem_report(session, runtime.event_log, period)
    return ReportOut(
        period=PeriodOut(start=report.period.start, end=report.period.end),
        previous=PeriodOut(start=report.previous.start, end=report.previous.end),
        metrics=[
            MetricOut(
                key=m.key,
                label=m.label,
                current=FigureOut(value=m.current.value, unavailable=m.current.unavailable),
                previous=FigureOut(value=m.previous.value, unavailable=m.previous.unavailable),
                change=m.change,
            )
            for m in report.metrics
        ],
    )
