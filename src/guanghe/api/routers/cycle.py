"""``/v1/cycle/runs``: what each run of the daily cycle did, for operators."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from guanghe import pipelines
from guanghe.access import Principal
from guanghe.http.deps import get_runtime, require_role
from guanghe.runtime import Runtime

router = APIRouter(prefix="/v1/cycle", tags=["cycle"])


class ProblemOut(BaseModel):
    kind: str
    id: str
    reason: str
    affects_money: bool


class StepReportOut(BaseModel):
    step: str
    duration_s: float
    counts: dict[str, int]
    problems: list[ProblemOut]


class CycleRunOut(BaseModel):
    date: dt.date
    now: dt.datetime
    batch_engine: str
    duration_s: float
    problems: int
    money_problems: int
    steps: list[StepReportOut]


class CycleRunPage(BaseModel):
    items: list[CycleRunOut]
    next_cursor: str | None


def _out(run: pipelines.CycleRun) -> CycleRunOut:
    return CycleRunOut(
        date=run.date,
        now=run.now,
        batch_engine=run.batch_engine,
        duration_s=run.duration_s,
        problems=len(run.problems),
        money_problems=len(run.money_problems),
        steps=[
            StepReportOut(
                step=r.step,
                duration_s=r.duration_s,
                counts=dict(r.counts),
                problems=[ProblemOut.model_validate(p, from_attributes=True) for p in r.problems],
            )
            for r in run.reports
        ],
    )


@router.get("/runs")
def list_runs(
    _operator: Annotated[Principal, require_role("operator")],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=pipelines.reports.MAX_PAGE)] = 50,
) -> CycleRunPage:
    """Runs of the cycle, newest date first, a page at a time."""
    page = pipelines.list_runs(runtime.settings.snapshots_dir, cursor=cursor, limit=limit)
    return CycleRunPage(items=[_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/runs/{date}")
def get_run(
    _operator: Annotated[Principal, require_role("operator")],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    date: str,
) -> CycleRunOut:
    """The run of ``date`` (YYYY-MM-DD) with every step's counts and problems."""
    day = pipelines.parse_day(date)
    return _out(pipelines.load_run(runtime.settings.snapshots_dir, day))
