"""Reading hotspots, and inspiration for one creator: the hotspots and upcoming calendar
events that fit their vertical and audience, each with why it was chosen, ranked by expected
benefit.

Expected benefit (0..1) of a hotspot for a creator: how fresh it is (``rising`` 1.0,
``peaking`` 0.7, ``fading`` 0.3) times its strength ``min(1, lift / 10)`` (lift: observed over
expected activity) times how well it fits the creator (1.0 in their vertical, 0.6 in another
vertical on a topic their own works used) times how open it is
``1 / (1 + recent works / 50)`` (a crowded topic gives each newcomer less). Of an event: its
kind (campaign 1.0, platform event 0.9, holiday 0.6) times its fit (1.0 for the creator's
vertical, 0.8 for every vertical) times its timing (running now 0.8; starting within 3 to 14
days, the time to prepare, 1.0; sooner 0.9; later, decreasing to 0.3 at the horizon).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.creators import get_creator, list_verticals, works_published, works_with_ids
from guanghe.errors import Forbidden, InvalidInput
from guanghe.hotspots.calendar import CalendarEventView, events_for_vertical
from guanghe.hotspots.topics import title_terms, work_topics
from guanghe.store import Hotspot

_FRESHNESS: Final = {"rising": 1.0, "peaking": 0.7, "fading": 0.3}
_EVENT_KIND: Final = {"campaign": 1.0, "platform_event": 0.9, "holiday": 0.6}
HORIZON_DAYS: Final = 45
_ROLES: Final = ("operator", "creator", "institution")


@dataclass(frozen=True, slots=True)
class ExampleWork:
    id: int
    creator_id: int
    title: str


@dataclass(frozen=True, slots=True)
class HotspotView:
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
    curve: list[float]
    examples: list[ExampleWork]
    verticals: list[str]


@dataclass(frozen=True, slots=True)
class InspirationItem:
    """One suggestion: a ``hotspot`` or an ``event``, its benefit and the reasons."""

    kind: str
    title: str
    benefit: float
    why: list[str]
    examples: list[ExampleWork]
    hotspot: HotspotView | None = None
    event: CalendarEventView | None = None


def list_hotspots(
    session: Session,
    principal: Principal,
    *,
    vertical: str | None = None,
    ended: bool = False,
    limit: int | None = None,
) -> list[HotspotView]:
    """The active hotspots (of ``vertical`` if given), highest score first; with ``ended``,
    those no longer hot instead, the most recently ended first (``updated_at``: when the
    detection ended it). At most ``limit`` when given."""
    if principal.role not in _ROLES:
        raise Forbidden(f"the {principal.role} role has no access to hotspots")
    if limit is not None and limit < 1:
        raise InvalidInput("limit: at least 1")
    slugs = {v.id: v.slug for v in list_verticals(session)}
    query = select(Hotspot).where(Hotspot.active.is_(not ended))
    if vertical is not None:
        ids = [vid for vid, slug in slugs.items() if slug == vertical]
        if not ids:
            raise InvalidInput(f"vertical: unknown vertical {vertical!r}")
        query = query.where(Hotspot.vertical_id == ids[0])
    order = (
        (Hotspot.updated_at.desc(), Hotspot.id.desc())
        if ended
        else (Hotspot.score.desc(), Hotspot.id)
    )
    rows = session.scalars(query.order_by(*order).limit(limit)).all()
    works = {
        w.id: w for w in works_with_ids(session, [i for r in rows for i in r.example_work_ids])
    }
    return [
        HotspotView(
            row.id,
            slugs[row.vertical_id],
            row.topic,
            list(row.aliases),
            row.state,
            row.active,
            row.score,
            row.lift,
            row.recent_works,
            row.onset_at,
            row.peak_at,
            row.detected_at,
            row.updated_at,
            row.curve_start,
            [float(v) for v in row.curve],
            [
                ExampleWork(works[i].id, works[i].creator_id, works[i].title)
                for i in row.example_work_ids
                if i in works
            ],
            [slugs[v] for v in row.vertical_ids if v in slugs],
        )
        for row in rows
    ]


def creator_inspiration(
    session: Session, principal: Principal, creator_id: int, *, now: dt.datetime, limit: int = 20
) -> list[InspirationItem]:
    """Hotspots and upcoming events for the creator, best expected benefit first."""
    creator = get_creator(session, principal, creator_id)
    own_topics = {
        t
        for w in works_published(session, now - dt.timedelta(days=90), now, creator_id=creator_id)
        for t in work_topics(w.title, w.hashtags)
    }
    items = [
        item
        for spot in list_hotspots(session, principal)
        if (item := _hotspot_item(spot, creator.vertical, own_topics)) is not None
    ]
    hot_terms = {
        t: h
        for h in list_hotspots(session, principal, vertical=creator.vertical)
        for t in (h.topic, *h.aliases)
    }
    today = now.date()
    events = events_for_vertical(
        session, creator.vertical, today, today + dt.timedelta(days=HORIZON_DAYS)
    )
    items.extend(_event_item(e, creator.vertical, today, hot_terms) for e in events)
    items.sort(key=lambda i: (-i.benefit, i.kind, i.title))
    return items[:limit]


def _hotspot_item(spot: HotspotView, vertical: str, own_topics: set[str]) -> InspirationItem | None:
    names = {spot.topic, *spot.aliases}
    used = sorted(names & own_topics)
    if spot.vertical == vertical:
        fit, why = 1.0, [f"trending in your vertical ({vertical})"]
    elif used:
        fit, why = 0.6, [f"trending in {spot.vertical}, a topic your works used"]
    else:
        return None
    if used and spot.vertical == vertical:
        why.append(f"your works already used #{used[0]}")
    freshness = _FRESHNESS[spot.state]
    strength = min(1.0, spot.lift / 10.0)
    openness = 1.0 / (1.0 + spot.recent_works / 50.0)
    why.append(
        f"{spot.state}: {spot.lift:.1f}x its usual activity, "
        f"{spot.recent_works} works in the last day"
    )
    return InspirationItem(
        "hotspot",
        spot.topic,
        round(freshness * strength * fit * openness, 4),
        why,
        spot.examples,
        hotspot=spot,
    )


def _event_item(
    event: CalendarEventView, vertical: str, today: dt.date, hot: dict[str, HotspotView]
) -> InspirationItem:
    fit = 1.0 if event.verticals else 0.8
    why = [
        f"a {event.kind.replace('_', ' ')} for your vertical ({vertical})"
        if event.verticals
        else f"a {event.kind.replace('_', ' ')} for every vertical"
    ]
    days = (event.starts_on - today).days
    if days <= 0:
        timing = 0.8
        why.append(f"running now, until {event.ends_on.isoformat()}")
    else:
        timing = 1.0 if 3 <= days <= 14 else 0.9 if days < 3 else max(0.3, 1 - days / 60)
        why.append(f"starts in {days} days ({event.starts_on.isoformat()})")
    related = [hot[t] for t in title_terms(event.title) if t in hot]
    examples = related[0].examples if related else []
    if related:
        why.append(f"its topic is trending now: {related[0].topic}")
    return InspirationItem(
        "event",
        event.title,
        round(_EVENT_KIND[event.kind] * fit * timing, 4),
        why,
        examples,
        event=event,
    )
