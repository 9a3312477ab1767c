"""Counting topics per hour in the store and keeping hotspots (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import sqlalchemy as sa

from guanghe import hotspots
from guanghe.access import Principal
from guanghe.events import EVENT_SCHEMA
from guanghe.runtime import Runtime
from guanghe.store import Hotspot, TopicHourlyCount, transaction
from tests.hotspots.conftest import BURST_TOPIC, NOW, count_and_detect

OPERATOR = Principal(user_id=1, role="operator", subject_id=None)


def test_a_burst_becomes_one_hotspot_with_its_examples(runtime: Runtime, burst: list[int]) -> None:
    summary = count_and_detect(runtime)
    assert [(n.vertical_id, n.topic) for n in summary.new] == [(1, BURST_TOPIC)]
    with transaction(runtime.sessions) as session:
        (spot,) = hotspots.list_hotspots(session, OPERATOR, vertical="food")
    assert spot.topic == BURST_TOPIC
    assert {"冬至", "饺子"} <= set(spot.aliases)  # the title's words of the same works
    assert spot.state == "rising"
    assert spot.recent_works == len(burst)
    assert {e.id for e in spot.examples} <= set(burst)
    assert len(spot.examples) == 3
    assert spot.onset_at >= NOW - dt.timedelta(hours=7)
    assert len(spot.curve) == 72
    assert spot.curve[-1] > 0
    assert spot.verticals == ["food"]


def test_detection_is_idempotent_and_a_burst_that_ends_turns_inactive(
    runtime: Runtime, burst: list[int]
) -> None:
    count_and_detect(runtime)
    again = count_and_detect(runtime)
    assert again.new == ()
    assert again.active == 1
    later = count_and_detect(runtime, NOW + dt.timedelta(days=3))
    assert later.active == 0
    assert later.ended == 1
    with transaction(runtime.sessions) as session:
        rows = session.scalars(sa.select(Hotspot)).all()
        assert [(r.topic, r.active) for r in rows] == [(BURST_TOPIC, False)]
        assert hotspots.list_hotspots(session, OPERATOR) == []
        (ended,) = hotspots.list_hotspots(session, OPERATOR, ended=True)
        assert hotspots.list_hotspots(session, OPERATOR, vertical="gaming", ended=True) == []
    assert (ended.topic, ended.active) == (BURST_TOPIC, False)
    assert ended.updated_at == NOW + dt.timedelta(days=3)  # when the detection ended it


def test_ingested_engagement_is_counted_in_its_hour(runtime: Runtime, burst: list[int]) -> None:
    count_and_detect(runtime, NOW - dt.timedelta(hours=1))  # the cycle ran an hour ago
    at = NOW - dt.timedelta(minutes=30)
    rows = [
        {
            "event_id": f"e{n}",
            "type": kind,
            "ts": at,
            "creator_id": 1,
            "work_id": burst[0],
            "count": 4,
        }
        for n, kind in enumerate(("like", "share", "play"))
    ]
    events = pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)
    runtime.event_log.append(events)
    done = runtime.write(lambda s: hotspots.recount_after_ingest(s, runtime.event_log, events))
    assert done.hours == 1
    assert done.engagement == 8
    with transaction(runtime.sessions) as session:
        engagement = session.scalar(
            sa.select(TopicHourlyCount.engagement).where(
                TopicHourlyCount.topic == BURST_TOPIC,
                TopicHourlyCount.hour == NOW - dt.timedelta(hours=1),
            )
        )
    assert engagement == 8
    found = runtime.write(lambda s: hotspots.detect_after_ingest(s, runtime.event_log, events))
    assert found is not None
    assert found.active == 1
    assert found.new == ()
    # a later detection already ran: an ingest of older events does not roll it back
    count_and_detect(runtime, NOW + dt.timedelta(hours=2))
    assert (
        runtime.write(lambda s: hotspots.detect_after_ingest(s, runtime.event_log, events)) is None
    )


def test_the_cycle_step_counts_the_day_and_detects(runtime: Runtime, burst: list[int]) -> None:
    from guanghe.pipelines import hotspots_step
    from guanghe.pipelines.context import CycleContext

    day = NOW.date()
    report = hotspots_step.run(CycleContext.for_date(runtime, day, now=NOW))
    assert report.counts["hours_counted"] == 8 * 24  # a first cycle counts its baseline too
    assert report.counts["hotspots_new"] == 1
    assert report.problems == ()
    again = hotspots_step.run(CycleContext.for_date(runtime, day, now=NOW))
    assert again.counts["hours_counted"] < 3 * 24  # the day, and the hours without a work
    assert again.counts["hotspots_new"] == 0
    assert again.counts["hotspots_active"] == 1
