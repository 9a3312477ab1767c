"""The event calendar: platform events, campaigns and holidays, managed by operators, imported
and exported as iCalendar (RFC 5545, with ``icalendar``), and a per-creator feed behind a
revocable token (calendar applications send no bearer header).

An event is all-day over ``starts_on..ends_on``; in iCalendar ``DTEND`` is exclusive (the day
after). Guanghe's own fields travel as ``CATEGORIES`` (the kind) and ``X-GUANGHE-VERTICALS``
(vertical slugs, comma separated; absent: every vertical). Import is all or nothing: every
VEVENT is checked, and any bad one rejects the file with a report of each bad VEVENT (its
position, UID and why); events are upserted by UID.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import icalendar
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.creators import get_creator, list_verticals
from guanghe.errors import Forbidden, InvalidInput, NotFound, RejectedBatch
from guanghe.pagination import Page, check_limit, decode_cursor, encode_cursor
from guanghe.store import CalendarEvent, CalendarFeedToken
from guanghe.text import text_problem

#: The calendar's own reads (feeds, inspiration), after the caller was checked.
_READER: Final = Principal(user_id=0, role="operator", subject_id=None)
KINDS: Final = ("platform_event", "campaign", "holiday")
PRODID: Final = "-//Guanghe//Event calendar//EN"
MAX_ICS_BYTES: Final = 2_000_000
MAX_EVENTS: Final = 5_000


@dataclass(frozen=True, slots=True)
class EventSpec:
    """What an operator says of an event."""

    title: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    verticals: tuple[str, ...] = ()
    url: str | None = None
    description: str = ""
    uid: str | None = None


@dataclass(frozen=True, slots=True)
class CalendarEventView:
    id: int
    uid: str
    title: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    verticals: list[str]
    url: str | None
    description: str


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """A bad VEVENT: its position in the file (from 1), its UID if any, and why."""

    vevent: int
    uid: str
    error: str


@dataclass(frozen=True, slots=True)
class FeedToken:
    """A new feed token (shown once) and its id."""

    id: int
    creator_id: int
    token: str


def _slugs(session: Session) -> dict[int, str]:
    return {v.id: v.slug for v in list_verticals(session)}


def _view(row: CalendarEvent, slugs: dict[int, str]) -> CalendarEventView:
    return CalendarEventView(
        row.id,
        row.uid,
        row.title,
        row.kind,
        row.starts_on,
        row.ends_on,
        [slugs[v] for v in row.vertical_ids],
        row.url,
        row.description,
    )


def check_calendar_reader(principal: Principal) -> None:
    """Operators, creators and institutions read the calendar."""
    if principal.role not in ("operator", "creator", "institution"):
        raise Forbidden(f"the {principal.role} role has no access to the calendar")


def check_operator(principal: Principal) -> None:
    """Only operators manage the calendar."""
    if principal.role != "operator":
        raise Forbidden(f"managing the calendar needs the operator role, not {principal.role}")


def check_event(session: Session, spec: EventSpec) -> list[int]:
    """The vertical ids of a valid ``spec``; :class:`InvalidInput` naming what is wrong."""
    if spec.kind not in KINDS:
        raise InvalidInput(f"kind: expected one of {', '.join(KINDS)}, not {spec.kind!r}")
    if not 1 <= len(spec.title.strip()) <= 200:
        raise InvalidInput("title: 1 to 200 characters")
    for field, value in (("title", spec.title), ("description", spec.description)):
        problem = text_problem(value)
        if problem is not None:
            raise InvalidInput(f"{field}: {problem}")
    if spec.ends_on < spec.starts_on:
        raise InvalidInput("ends_on: the event ends before it starts")
    if spec.url is not None and (
        not spec.url.startswith(("https://", "http://")) or len(spec.url) > 500
    ):
        raise InvalidInput("url: an http(s) URL of at most 500 characters")
    if spec.uid is not None and not 1 <= len(spec.uid) <= 255:
        raise InvalidInput("uid: 1 to 255 characters")
    known = {slug: vid for vid, slug in _slugs(session).items()}
    unknown = sorted({v for v in spec.verticals if v not in known})
    if unknown:
        raise InvalidInput(f"verticals: unknown verticals {unknown}")
    return sorted({known[v] for v in spec.verticals})


def create_event(
    session: Session, principal: Principal, spec: EventSpec, *, now: dt.datetime
) -> CalendarEventView:
    """Add an event (or replace the one with the same UID)."""
    check_operator(principal)
    return _upsert(session, spec, check_event(session, spec), now)


def _upsert(
    session: Session, spec: EventSpec, vertical_ids: list[int], now: dt.datetime
) -> CalendarEventView:
    uid = spec.uid or f"{secrets.token_hex(12)}@guanghe"
    row = session.scalar(select(CalendarEvent).where(CalendarEvent.uid == uid))
    if row is None:
        row = CalendarEvent(uid=uid, created_at=now)
        session.add(row)
    row.title, row.kind = spec.title.strip(), spec.kind
    row.starts_on, row.ends_on, row.vertical_ids = spec.starts_on, spec.ends_on, vertical_ids
    row.url, row.description, row.updated_at = spec.url, spec.description, now
    session.flush()
    return _view(row, _slugs(session))


def list_events(
    session: Session,
    principal: Principal,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    vertical: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CalendarEventView]:
    """Events overlapping ``start..end`` (inclusive), of ``vertical`` (or for every vertical),
    by start day then id."""
    check_calendar_reader(principal)
    check_limit(limit)
    slugs = _slugs(session)
    query = select(CalendarEvent)
    if start is not None:
        query = query.where(CalendarEvent.ends_on >= start)
    if end is not None:
        query = query.where(CalendarEvent.starts_on <= end)
    if cursor is not None:
        day_text, after = decode_cursor(cursor, 2)
        try:
            day = dt.date.fromisoformat(str(day_text))
        except ValueError as exc:
            raise InvalidInput("cursor is malformed") from exc
        query = query.where(
            or_(
                CalendarEvent.starts_on > day,
                (CalendarEvent.starts_on == day) & (CalendarEvent.id > after),
            )
        )
    if vertical is not None and vertical not in slugs.values():
        raise InvalidInput(f"vertical: unknown vertical {vertical!r}")
    items: list[CalendarEventView] = []
    rows = session.scalars(query.order_by(CalendarEvent.starts_on, CalendarEvent.id))
    for row in rows:
        view = _view(row, slugs)
        if vertical is None or not view.verticals or vertical in view.verticals:
            items.append(view)
            if len(items) > limit:
                break
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if items else None
    return Page(
        items, encode_cursor([last.starts_on.isoformat(), last.id]) if more and last else None
    )


def events_for_vertical(
    session: Session, vertical: str | None, start: dt.date, end: dt.date
) -> list[CalendarEventView]:
    """Every event of ``vertical`` (or for all verticals; every event if None) overlapping
    ``start..end``."""
    found: list[CalendarEventView] = []
    cursor: str | None = None
    while True:
        page = list_events(
            session, _READER, start=start, end=end, vertical=vertical, cursor=cursor, limit=200
        )
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        cursor = page.next_cursor


def to_ics(events: Sequence[CalendarEventView], *, name: str, now: dt.datetime) -> bytes:
    """``events`` as an iCalendar document named ``name``."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for event in events:
        vevent = icalendar.Event()
        vevent.add("uid", event.uid)
        vevent.add("dtstamp", now)
        vevent.add("summary", event.title)
        vevent.add("dtstart", event.starts_on)
        vevent.add("dtend", event.ends_on + dt.timedelta(days=1))
        vevent.add("categories", [event.kind])
        if event.verticals:
            vevent.add("x-guanghe-verticals", ",".join(event.verticals))
        if event.url:
            vevent.add("url", event.url)
        if event.description:
            vevent.add("description", event.description)
        calendar.add_component(vevent)
    return bytes(calendar.to_ical())


def import_ics(
    session: Session, principal: Principal, data: bytes, *, now: dt.datetime
) -> list[CalendarEventView]:
    """Upsert every VEVENT of ``data`` by UID, or none: :class:`RejectedBatch` with one
    :class:`ImportProblem` per bad VEVENT (``problems``) when any is bad."""
    check_operator(principal)
    if len(data) > MAX_ICS_BYTES:
        raise InvalidInput(f"file: an .ics file of at most {MAX_ICS_BYTES:,} bytes")
    try:
        calendar = icalendar.Calendar.from_ical(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, IndexError, KeyError) as exc:
        raise InvalidInput(f"file: not an iCalendar document ({exc})") from exc
    vevents = list(calendar.walk("VEVENT"))
    if not vevents:
        raise InvalidInput("file: the calendar holds no VEVENT")
    if len(vevents) > MAX_EVENTS:
        raise InvalidInput(f"file: at most {MAX_EVENTS:,} VEVENTs per import")
    parsed: list[tuple[EventSpec, list[int]]] = []
    problems: list[ImportProblem] = []
    seen: set[str] = set()
    for n, vevent in enumerate(vevents, start=1):
        uid = str(vevent.get("uid", ""))
        try:
            spec = _spec(vevent)
            if spec.uid in seen:
                raise InvalidInput("uid: repeated in this file")
            seen.add(str(spec.uid))
            parsed.append((spec, check_event(session, spec)))
        except InvalidInput as exc:
            problems.append(ImportProblem(n, uid, str(exc)))
    if problems:
        raise ImportRejected(problems)
    return [_upsert(session, spec, verticals, now) for spec, verticals in parsed]


class ImportRejected(InvalidInput):
    """An .ics file with bad VEVENTs (each in ``problems``); nothing was imported."""

    code = RejectedBatch.code
    title = RejectedBatch.title

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} VEVENTs are invalid; nothing was imported")
        self.problems = problems


def _spec(vevent: icalendar.cal.Component) -> EventSpec:
    """The event a VEVENT describes; :class:`InvalidInput` naming the property at fault."""
    uid = str(vevent.get("uid", "")).strip()
    if not uid:
        raise InvalidInput("UID: missing")
    title = str(vevent.get("summary", "")).strip()
    start = _day(vevent, "dtstart")
    end = _day(vevent, "dtend") - dt.timedelta(days=1) if "dtend" in vevent else start
    categories = vevent.get("categories")
    kind = "platform_event"
    if categories is not None:
        cats = categories if isinstance(categories, list) else [categories]
        names = [str(c) for cat in cats for c in cat.cats]
        kind = next((c.lower() for c in names if c.lower() in KINDS), "platform_event")
    verticals = str(vevent.get("x-guanghe-verticals", "")).strip()
    url = vevent.get("url")
    return EventSpec(
        title=title,
        kind=kind,
        starts_on=start,
        ends_on=end,
        verticals=tuple(v.strip() for v in verticals.split(",") if v.strip()),
        url=str(url) if url else None,
        description=str(vevent.get("description", "")),
        uid=uid,
    )


def _day(vevent: icalendar.cal.Component, name: str) -> dt.date:
    prop = vevent.get(name)
    if prop is None:
        raise InvalidInput(f"{name.upper()}: missing")
    value = prop.dt
    day = value.date() if isinstance(value, dt.datetime) else value
    if not isinstance(day, dt.date) or not dt.date(2000, 1, 1) <= day <= dt.date(2099, 12, 31):
        raise InvalidInput(f"{name.upper()}: a day from 2000 to 2099")
    return day


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_creator_access(session: Session, principal: Principal, creator_id: int) -> str:
    """The creator's vertical slug, if ``principal`` may act for them (operators, the
    creator, their institution)."""
    return get_creator(session, principal, creator_id).vertical


def create_feed_token(
    session: Session, principal: Principal, creator_id: int, *, now: dt.datetime
) -> FeedToken:
    """A new calendar-feed token for the creator (their own, or an operator)."""
    if principal.role not in ("operator", "creator"):
        raise Forbidden(f"the {principal.role} role cannot make a creator's feed token")
    check_creator_access(session, principal, creator_id)
    token = secrets.token_urlsafe(32)
    row = CalendarFeedToken(creator_id=creator_id, token_sha256=_digest(token), created_at=now)
    session.add(row)
    session.flush()
    return FeedToken(row.id, creator_id, token)


def revoke_feed_tokens(
    session: Session, principal: Principal, creator_id: int, *, now: dt.datetime
) -> int:
    """Revoke every live feed token of the creator; returns how many."""
    if principal.role not in ("operator", "creator"):
        raise Forbidden(f"the {principal.role} role cannot revoke a creator's feed token")
    check_creator_access(session, principal, creator_id)
    rows = session.scalars(
        select(CalendarFeedToken).where(
            CalendarFeedToken.creator_id == creator_id, CalendarFeedToken.revoked_at.is_(None)
        )
    ).all()
    for row in rows:
        row.revoked_at = now
    session.flush()
    return len(rows)


def creator_feed(
    session: Session, creator_id: int, token: str, *, today: dt.date, now: dt.datetime
) -> bytes:
    """The creator's calendar feed (events of their vertical from 30 days ago on), if
    ``token`` is one of their live feed tokens; :class:`NotFound` otherwise (a wrong token
    says nothing of whether the creator exists)."""
    row = session.scalar(
        select(CalendarFeedToken).where(CalendarFeedToken.token_sha256 == _digest(token))
    )
    if row is None or row.revoked_at is not None or row.creator_id != creator_id:
        raise NotFound("no calendar feed at this address")
    as_creator = Principal(user_id=0, role="creator", subject_id=creator_id)
    slug = check_creator_access(session, as_creator, creator_id)
    events = events_for_vertical(
        session, slug, today - dt.timedelta(days=30), dt.date(2099, 12, 31)
    )
    return to_ics(events, name=f"Guanghe events for {slug}", now=now)
