"""``/dashboard/hotspots``: the hotspots of a vertical, each with its hourly curve, and the
event calendar. Operators, creators and institutions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from guanghe import creators, hotspots
from guanghe.errors import GuangheError
from guanghe.http.deps import SessionDep
from guanghe.http.statuses import status_of
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()

#: Ended hotspots listed under the active ones.
RECENTLY_ENDED = 10

VerticalParam = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9-]+$")]


@router.get("/dashboard/hotspots")
def hotspots_page(
    request: Request, session: SessionDep, vertical: VerticalParam = None
) -> Response:
    """The hotspots of one vertical (all when none is chosen), the last ones to end, and the
    next two months of events."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    verticals = creators.list_verticals(session)
    context: dict[str, Any] = {"principal": principal, "error": None, "vertical": vertical}
    context["verticals"] = verticals
    today = dt.datetime.now(dt.UTC).date()
    try:
        spots = hotspots.list_hotspots(session, principal, vertical=vertical)
        ended = hotspots.list_hotspots(
            session, principal, vertical=vertical, ended=True, limit=RECENTLY_ENDED
        )
        hotspots.check_calendar_reader(principal)
        events = hotspots.events_for_vertical(
            session, vertical, today - dt.timedelta(days=7), today + dt.timedelta(days=60)
        )
    except GuangheError as exc:
        context["error"] = exc.detail
        return templates.TemplateResponse(request, "hotspots.html", context, status_of(exc))
    context |= {
        "hotspots": [(spot, curve_chart(spot)) for spot in spots],
        "ended": ended,
        "events": events,
    }
    return templates.TemplateResponse(request, "hotspots.html", context)


def curve_chart(spot: hotspots.HotspotView) -> dict[str, Any]:
    """A hotspot's hourly activity (works plus weighted engagement) over its curve."""
    hours = [spot.curve_start + dt.timedelta(hours=h) for h in range(len(spot.curve))]
    return {
        "labels": [h.strftime("%m-%d %H:00") for h in hours],
        "datasets": [{"label": f"#{spot.topic}", "data": spot.curve}],
    }
