"""The demo's event calendar: the fixed-date holidays of the next two months, a platform event
running now and a campaign for each of two verticals starting soon, dated from ``today`` (the
dashboard's and the inspiration's calendar look from the real day). Written by UID, so a demo
run again updates its events instead of adding more."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy.orm import Session

from guanghe import hotspots
from guanghe.access import Principal
from guanghe.creators import list_verticals

OPERATOR: Final = Principal(user_id=0, role="operator", subject_id=None)
#: (month, day, title) of the holidays whose date does not move.
HOLIDAYS: Final = (
    (1, 1, "元旦 New Year's Day"),
    (2, 14, "情人节 Valentine's Day"),
    (3, 8, "妇女节 Women's Day"),
    (5, 1, "劳动节 Labour Day"),
    (6, 1, "儿童节 Children's Day"),
    (10, 1, "国庆节 National Day"),
    (11, 11, "双十一 Singles' Day"),
    (12, 12, "双十二 Double Twelve"),
    (12, 25, "圣诞节 Christmas"),
)
#: How far ahead the demo's calendar reaches (the dashboard shows two months).
HORIZON: Final = dt.timedelta(days=60)


def demo_events(today: dt.date, verticals: list[tuple[str, str]]) -> list[hotspots.EventSpec]:
    """The demo's events as of ``today``; the two campaigns go to the first two of
    ``verticals`` (``(slug, name)``; none when there are none)."""
    events = []
    for year in (today.year, today.year + 1):
        for month, day, title in HOLIDAYS:
            on = dt.date(year, month, day)
            if today <= on <= today + HORIZON:
                uid = f"demo-holiday-{on.isoformat()}@guanghe"
                events.append(hotspots.EventSpec(title, "holiday", on, on, uid=uid))
    events.append(
        hotspots.EventSpec(
            "Creator growth week",
            "platform_event",
            today - dt.timedelta(days=2),
            today + dt.timedelta(days=5),
            description="Boosted traffic for works that follow the growth rules' advice.",
            uid="demo-growth-week@guanghe",
        )
    )
    for n, (slug, name) in enumerate(verticals[:2]):
        starts = today + dt.timedelta(days=5 + 7 * n)
        events.append(
            hotspots.EventSpec(
                f"{name} challenge",
                "campaign",
                starts,
                starts + dt.timedelta(days=6),
                (slug,),
                description=f"A week of {name.lower()} works with a prize pool for the best.",
                uid=f"demo-{slug}-challenge@guanghe",
            )
        )
    return events


def seed_calendar(session: Session, today: dt.date, *, now: dt.datetime) -> int:
    """Write (or update) the demo's events as of ``today``; how many."""
    events = demo_events(today, [(v.slug, v.name) for v in list_verticals(session)])
    for spec in events:
        hotspots.create_event(session, OPERATOR, spec, now=now)
    return len(events)
