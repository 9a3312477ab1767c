"""Hourly topic counts: what the detector reads, kept in ``topic_hourly_counts``.

An hour's counts are always recomputed whole from the works in the store and the engagement in
the event log (never incremented), so a recount is idempotent and repairs a missed one: the
cycle recounts its day's 24 hours (and the hours of the detector's span never counted), and
:func:`recount_after_ingest` the hours an ingested batch touched, right after
``guanghe ingest`` appends it. Engagement counts likes, comments and shares
logged in the hour on works carrying the topic, whatever the hour the work was published.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final
from typing import cast as type_cast

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Table, Text, cast, delete, insert, select
from sqlalchemy.orm import Session

from guanghe.creators import works_published
from guanghe.events import EventLog
from guanghe.hotspots.topics import work_topics
from guanghe.store import TopicHourlyCount, Work, select_rows
from guanghe.store.bulk import execute_many

#: Event types that count as engagement with a work.
ENGAGEMENT_TYPES: Final = ("like", "comment", "share")
#: The topic of the row that holds a vertical's totals.
TOTAL: Final = ""
HOUR: Final = dt.timedelta(hours=1)
_INSERT_CHUNK: Final = 5_000
#: Works read per statement (a bound parameter each).
_READ_CHUNK: Final = 1_000
#: Rows are inserted through the table (Core executemany), not the ORM's bulk insert.
_COUNTS = type_cast(Table, TopicHourlyCount.__table__)


@dataclass(frozen=True, slots=True)
class RecountSummary:
    """Hours recounted, the rows written for them, works and engagement actions counted."""

    hours: int
    rows: int
    works: int
    engagement: int


def floor_hour(moment: dt.datetime) -> dt.datetime:
    """The UTC hour holding ``moment``."""
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def day_hours(day: dt.date) -> list[dt.datetime]:
    """The 24 UTC hours of ``day``."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return [start + i * HOUR for i in range(24)]


def hours_to_count(session: Session, day: dt.date, *, span_hours: int) -> list[dt.datetime]:
    """``day``'s 24 hours, and every hour of the ``span_hours`` before its end never counted
    (a first cycle, or days the cycle skipped): what a detection as of ``day`` reads."""
    day_end = day_hours(day)[-1] + HOUR
    first = day_end - span_hours * HOUR
    counted = {
        floor_hour(h)
        for h in session.scalars(
            select(TopicHourlyCount.hour)
            .where(TopicHourlyCount.hour >= first, TopicHourlyCount.hour < day_end)
            .distinct()
        )
    }
    missing = [first + i * HOUR for i in range(span_hours) if first + i * HOUR not in counted]
    return sorted(set(missing) | set(day_hours(day)))


def recount_hours(session: Session, log: EventLog, hours: Iterable[dt.datetime]) -> RecountSummary:
    """Recompute the counts of each UTC hour in ``hours`` (replacing what was there)."""
    wanted = sorted({floor_hour(h) for h in hours})
    if not wanted:
        return RecountSummary(0, 0, 0, 0)
    start, end = wanted[0], wanted[-1] + HOUR
    keep = set(wanted)
    counts: dict[tuple[int, str, dt.datetime], list[int]] = defaultdict(lambda: [0, 0])
    published = [
        w for w in works_published(session, start, end) if floor_hour(w.published_at) in keep
    ]
    for work in published:
        hour = floor_hour(work.published_at)
        for topic in (TOTAL, *work_topics(work.title, work.hashtags)):
            counts[work.vertical_id, topic, hour][0] += 1
    engaged = engagement_by_work_hour(log, start, end)
    actions = 0
    for work_id, vertical_id, topics in _topics_of_works(session, list(engaged)):
        for hour, count in engaged[work_id].items():
            if hour not in keep:
                continue
            actions += count
            for topic in (TOTAL, *topics):
                counts[vertical_id, topic, hour][1] += count
    session.execute(delete(TopicHourlyCount).where(TopicHourlyCount.hour.in_(wanted)))
    rows = [
        {"vertical_id": v, "topic": t[:80], "hour": h, "works": c[0], "engagement": c[1]}
        for (v, t, h), c in counts.items()
    ]
    for i in range(0, len(rows), _INSERT_CHUNK):
        execute_many(session.connection(), insert(_COUNTS), rows[i : i + _INSERT_CHUNK])
    return RecountSummary(len(wanted), len(rows), len(published), actions)


def engagement_by_work_hour(
    log: EventLog, start: dt.datetime, end: dt.datetime
) -> dict[int, dict[dt.datetime, int]]:
    """Likes, comments and shares logged in ``[start, end)``, per work and UTC hour."""
    con = log.connect()
    try:
        rows = con.execute(
            """
            SELECT work_id, epoch_us(ts) // 3600000000 AS hour,
                   CAST(sum("count") AS BIGINT) AS actions
            FROM events
            WHERE type IN ('like', 'comment', 'share') AND work_id IS NOT NULL
              AND date BETWEEN ?::DATE AND ?::DATE AND ts >= ? AND ts < ?
            GROUP BY 1, 2
            """,
            [start.date(), end.date(), start, end],
        ).fetchall()
    finally:
        con.close()
    hours: dict[int, dt.datetime] = {}  # each hour's datetime made once, not once per row
    found: dict[int, dict[dt.datetime, int]] = defaultdict(dict)
    for work_id, hour, actions in rows:
        at = hours.get(hour)
        if at is None:
            at = hours[hour] = dt.datetime.fromtimestamp(hour * 3600, dt.UTC)
        found[work_id][at] = actions
    return found


def _topics_of_works(
    session: Session, work_ids: Sequence[int]
) -> Iterator[tuple[int, int, tuple[str, ...]]]:
    """``(work id, vertical id, topics)`` of each of ``work_ids`` in the store (a day's
    engaged works: the same works day after day, so a work's topics come from a cache keyed
    by its title and hashtags as stored)."""
    ids = sorted(set(work_ids))
    for at in range(0, len(ids), _READ_CHUNK):
        rows = select_rows(
            session,
            select(Work.id, Work.vertical_id, Work.title, cast(Work.hashtags, Text)).where(
                Work.id.in_(ids[at : at + _READ_CHUNK])
            ),
        )
        for work_id, vertical_id, title, hashtags in rows:
            yield work_id, vertical_id, _stored_work_topics(title, hashtags)


@lru_cache(maxsize=262_144)
def _stored_work_topics(title: str, hashtags: str | None) -> tuple[str, ...]:
    """:func:`work_topics` of a work's title and its hashtags as stored (JSON text)."""
    tags = json.loads(hashtags) if hashtags else []
    return work_topics(title, [str(t) for t in tags] if isinstance(tags, list) else [])


def touched_hours(events: pa.Table) -> list[dt.datetime]:
    """The UTC hours of the engagement rows of an ingested batch (:data:`EVENT_SCHEMA`)."""
    mask = pc.is_in(events["type"], value_set=pa.array(ENGAGEMENT_TYPES))
    stamps = pc.filter(events["ts"], mask)
    hours = pc.unique(pc.floor_temporal(stamps, unit="hour"))
    return sorted(floor_hour(h) for h in hours.to_pylist())


def recount_after_ingest(session: Session, log: EventLog, events: pa.Table) -> RecountSummary:
    """The ingest hook: recount the hours an appended batch of ``events`` touched."""
    return recount_hours(session, log, touched_hours(events))
