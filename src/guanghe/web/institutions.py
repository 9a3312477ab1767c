"""The dashboard's institution views: an institution's level and what it needs for the next,
its creators with their contracts' splits, and its Torch pool and how it was allocated; and
``/dashboard/institutions``, operators' view of the Torch programme by level (the figures of
``GET /v1/torch/levels``) with the institutions behind them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import GuangheError, InvalidInput
from guanghe.http.deps import SessionDep, get_runtime
from guanghe.http.statuses import status_of
from guanghe.institutions import overview, standing, support
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()
#: The most institutions the operators' page lists (the levels' figures count them all).
MAX_LISTED: Final = 200

#: How the page names each level metric.
METRIC_LABELS = {
    "active_creators": "Active creators",
    "follower_growth": "Follower growth",
    "quality": "Mean quality",
    "originality": "Originality",
    "earnings_fen": "Earnings (fen)",
    "retention": "Retention",
}


def institution_context(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    """``standing`` (level, metrics, shortfalls), ``signed`` (creators with splits),
    ``support`` and ``allocation`` of the signed-in institution."""
    assert principal.subject_id is not None
    institution_id = principal.subject_id
    today = dt.datetime.now(dt.UTC).date()
    solved, allocation = support.pool_allocation(
        get_runtime(request).settings.snapshots_dir, institution_id, today
    )
    return {
        "standing": standing.institution_view(session, principal, institution_id),
        "signed": standing.institution_creators(
            session, principal, institution_id, today, limit=50
        ),
        "support": support.support_of(session, principal, institution_id, today),
        "allocation_solved_on": solved,
        "allocation": sorted(allocation, key=lambda r: -int(r["impressions"]))[:50],
        "metric_labels": METRIC_LABELS,
    }


@router.get("/dashboard/institutions")
def institutions_page(
    request: Request,
    session: SessionDep,
    day: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """Operators: the programme by level on ``day`` (default today) and its institutions."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    context: dict[str, Any] = {
        "principal": principal,
        "error": None,
        "overview": None,
        "metric_labels": METRIC_LABELS,
        "max_listed": MAX_LISTED,
    }
    try:
        on = dt.datetime.now(dt.UTC).date() if not day else _day(day)
        context["overview"] = overview.levels_overview(session, principal, on)
    except GuangheError as exc:
        context["error"] = exc.detail
        return templates.TemplateResponse(request, "institutions.html", context, status_of(exc))
    return templates.TemplateResponse(request, "institutions.html", context)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"day {text!r} is not a date (YYYY-MM-DD)") from None
