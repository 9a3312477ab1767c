"""The demo's event calendar: dated from the real day, written by UID (a second demo run
updates its events), and shown by the calendar readers of each vertical."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from guanghe import hotspots
from guanghe.runtime import Runtime
from guanghe.sim.calendar import HORIZON, demo_events, seed_calendar
from guanghe.store import CalendarEvent
from tests.seed import SeedPlatform

TODAY = dt.date(2026, 12, 7)
NOW = dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC)


def test_the_holidays_of_the_next_two_months_and_a_campaign_per_vertical() -> None:
    events = demo_events(TODAY, [("food", "Food"), ("dance", "Dance"), ("pets", "Pets")])
    holidays = [(e.title, e.starts_on) for e in events if e.kind == "holiday"]
    assert holidays == [
        ("双十二 Double Twelve", dt.date(2026, 12, 12)),
        ("圣诞节 Christmas", dt.date(2026, 12, 25)),
        ("元旦 New Year's Day", dt.date(2027, 1, 1)),
    ]
    assert all(TODAY <= e.starts_on <= TODAY + HORIZON for e in events if e.kind == "holiday")
    campaigns = [(e.title, e.verticals, e.starts_on) for e in events if e.kind == "campaign"]
    assert campaigns == [
        ("Food challenge", ("food",), dt.date(2026, 12, 12)),
        ("Dance challenge", ("dance",), dt.date(2026, 12, 19)),
    ]
    (running,) = [e for e in events if e.kind == "platform_event"]
    assert running.starts_on <= TODAY <= running.ends_on
    assert len({e.uid for e in events}) == len(events)
    assert demo_events(TODAY, []) == [e for e in events if e.kind != "campaign"]


def test_a_second_run_updates_the_events_instead_of_adding(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    written = runtime.write(lambda s: seed_calendar(s, TODAY, now=NOW))
    later = TODAY + dt.timedelta(days=1)
    again = runtime.write(lambda s: seed_calendar(s, later, now=NOW + dt.timedelta(days=1)))
    assert written == again
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CalendarEvent)) == written
        food = hotspots.events_for_vertical(session, "food", later, later + HORIZON)
    titles = {e.title for e in food}
    assert {"Food challenge", "Creator growth week", "圣诞节 Christmas"} <= titles
    assert "Dance challenge" not in titles
