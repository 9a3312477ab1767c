"""``/v1/hotspots``, ``/v1/calendar`` and the creator's inspiration and calendar feed."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from guanghe import hotspots
from guanghe.api.fields import Cursor, Day, IdPath, StorableText
from guanghe.api.problems import problem
from guanghe.errors import TooLarge
from guanghe.http.deps import PrincipalDep, SessionDep

router = APIRouter(tags=["hotspots"])

ICS = "text/calendar; charset=utf-8"
Slug = Annotated[str | None, Query(min_length=1, max_length=40, pattern=r"^[a-z0-9-]+$")]


class ExampleWorkOut(BaseModel):
    id: int
    creator_id: int
    title: str


class HotspotOut(BaseModel):
    id: int
    vertical: str
    topic: str
    aliases: list[str]
    state: str
    active: bool
    score: float
    lift: float
    recent_works: int
    onset_at: dt.datetime
    peak_at: dt.datetime
    detected_at: dt.datetime
    updated_at: dt.datetime
    curve_start: dt.datetime
    curve: list[float] = Field(description="hourly activity, from curve_start")
    examples: list[ExampleWorkOut]
    verticals: list[str] = Field(description="the verticals where this topic is hot")


class EventOut(BaseModel):
    id: int
    uid: str
    title: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    verticals: list[str]
    url: str | None
    description: str


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


class EventIn(BaseModel):
    title: StorableText = Field(min_length=1, max_length=200)
    kind: Literal["platform_event", "campaign", "holiday"]
    starts_on: Day
    ends_on: Day
    verticals: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=16, description="empty: every vertical"
    )
    url: Annotated[str, Field(max_length=500, pattern=r"^https?://\S+$")] | None = None
    description: StorableText = Field(default="", max_length=4_000)
    uid: Annotated[str, Field(min_length=1, max_length=255)] | None = None


class ImportOut(BaseModel):
    imported: int
    events: list[EventOut]


class InspirationOut(BaseModel):
    kind: Literal["hotspot", "event"]
    title: str
    benefit: float = Field(description="expected benefit to this creator, 0..1")
    why: list[str]
    examples: list[ExampleWorkOut]
    hotspot: HotspotOut | None
    event: EventOut | None


class FeedTokenOut(BaseModel):
    id: int
    creator_id: int
    token: str = Field(description="shown once; put it in the feed URL's token parameter")
    url: str


class RevokedOut(BaseModel):
    revoked: int


def _event(view: hotspots.CalendarEventView) -> EventOut:
    return EventOut.model_validate(view, from_attributes=True)


@router.get("/v1/hotspots")
def list_hotspots(
    session: SessionDep,
    principal: PrincipalDep,
    vertical: Slug = None,
    ended: Annotated[
        bool, Query(description="the hotspots no longer hot, most recently ended first")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[HotspotOut]:
    """The active hotspots (of one vertical), highest score first; ``ended=true``: those that
    have ended, the most recent first."""
    views = hotspots.list_hotspots(session, principal, vertical=vertical, ended=ended, limit=limit)
    return [HotspotOut.model_validate(v, from_attributes=True) for v in views]


@router.get("/v1/creators/{creator_id}/inspiration")
def inspiration(
    session: SessionDep,
    principal: PrincipalDep,
    creator_id: IdPath,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[InspirationOut]:
    """Hotspots and upcoming events for the creator, best expected benefit first."""
    items = hotspots.creator_inspiration(
        session, principal, creator_id, now=dt.datetime.now(dt.UTC), limit=limit
    )
    return [InspirationOut.model_validate(i, from_attributes=True) for i in items]


@router.get("/v1/calendar/events")
def list_events(
    session: SessionDep,
    principal: PrincipalDep,
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    vertical: Slug = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EventPage:
    """Events overlapping ``from..to``, of a vertical (or for every vertical)."""
    page = hotspots.list_events(
        session, principal, start=start, end=end, vertical=vertical, cursor=cursor, limit=limit
    )
    return EventPage(items=[_event(v) for v in page.items], next_cursor=page.next_cursor)


@router.post("/v1/calendar/events", status_code=201)
def create_event(session: SessionDep, principal: PrincipalDep, event: EventIn) -> EventOut:
    """Operators: add an event (or replace the one with the same ``uid``)."""
    spec = hotspots.EventSpec(
        title=event.title,
        kind=event.kind,
        starts_on=event.starts_on,
        ends_on=event.ends_on,
        verticals=tuple(event.verticals),
        url=event.url,
        description=event.description,
        uid=event.uid,
    )
    return _event(hotspots.create_event(session, principal, spec, now=dt.datetime.now(dt.UTC)))


@router.post("/v1/calendar/import", response_model=ImportOut)
def import_calendar(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="an iCalendar (.ics) file")],
) -> ImportOut | JSONResponse:
    """Operators: upsert every VEVENT of an .ics file by UID, or none (a 422 problem whose
    ``rows`` name each bad VEVENT)."""
    data = file.file.read(hotspots.MAX_ICS_BYTES + 1)
    if len(data) > hotspots.MAX_ICS_BYTES:
        raise TooLarge(f"file: at most {hotspots.MAX_ICS_BYTES:,} bytes")
    try:
        views = hotspots.import_ics(session, principal, data, now=dt.datetime.now(dt.UTC))
    except hotspots.ImportRejected as exc:
        rows = [{"vevent": p.vevent, "uid": p.uid, "error": p.error} for p in exc.problems]
        return problem(422, exc.code, exc.title, exc.detail, request.url.path, rows=rows)
    return ImportOut(imported=len(views), events=[_event(v) for v in views])


@router.get("/v1/calendar.ics", response_class=Response)
def calendar_ics(session: SessionDep, principal: PrincipalDep) -> Response:
    """The whole calendar as iCalendar."""
    hotspots.check_calendar_reader(principal)
    events = hotspots.events_for_vertical(session, None, dt.date(2000, 1, 1), dt.date(2099, 12, 31))
    body = hotspots.to_ics(events, name="Guanghe events", now=dt.datetime.now(dt.UTC))
    return Response(body, media_type=ICS)


@router.get(
    "/v1/creators/{creator_id}/calendar.ics",
    response_class=Response,
    responses={404: {"description": "No feed at this address (unknown or revoked token)"}},
)
def creator_calendar(
    session: SessionDep,
    creator_id: IdPath,
    token: Annotated[str, Query(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
) -> Response:
    """A creator's calendar feed for calendar applications: the ``token`` of
    ``POST /v1/creators/{creator_id}/calendar-feed-token``, no bearer header."""
    now = dt.datetime.now(dt.UTC)
    body = hotspots.creator_feed(session, creator_id, token, today=now.date(), now=now)
    return Response(body, media_type=ICS)


@router.post("/v1/creators/{creator_id}/calendar-feed-token", status_code=201)
def create_feed_token(
    request: Request, session: SessionDep, principal: PrincipalDep, creator_id: IdPath
) -> FeedTokenOut:
    """A new feed token for the creator (the creator or an operator); shown once."""
    made = hotspots.create_feed_token(session, principal, creator_id, now=dt.datetime.now(dt.UTC))
    url = str(request.url_for("creator_calendar", creator_id=creator_id))
    return FeedTokenOut(
        id=made.id, creator_id=made.creator_id, token=made.token, url=f"{url}?token={made.token}"
    )


@router.delete("/v1/creators/{creator_id}/calendar-feed-token")
def revoke_feed_tokens(
    session: SessionDep, principal: PrincipalDep, creator_id: IdPath
) -> RevokedOut:
    """Revoke every live feed token of the creator; their feed URLs stop working."""
    revoked = hotspots.revoke_feed_tokens(
        session, principal, creator_id, now=dt.datetime.now(dt.UTC)
    )
    return RevokedOut(revoked=revoked)
