"""Detecting hotspots from the hourly topic counts and keeping them in ``hotspots``.

:func:`detect_hotspots` reads the counts of the detector's span of hours up to ``now`` (the
baseline plus the longest window), scores every (vertical, topic) with enough works, merges the
near-identical hot topics of each vertical (:mod:`guanghe.hotspots.merging`) and upserts one
row per hotspot: a topic already active in its vertical is refreshed (state, score, curve,
examples), a new one is added, and an active one no longer hot is marked inactive. It runs in
the cycle's ``hotspots`` step and after each ingest.

Notifications: the hotspots a run adds (:attr:`DetectionSummary.new`) are told to the creators
of their vertical in the same transaction, through the notifications outbox, one notice per
creator per run under a daily cap (:mod:`guanghe.hotspots.notices`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.creators import works_published
from guanghe.events import EventLog
from guanghe.hotspots.activity import (
    HOUR,
    TOTAL,
    engagement_by_work_hour,
    floor_hour,
    touched_hours,
)
from guanghe.hotspots.detector import STATES, HotspotDetector, TopicCounts, hourly_counts
from guanghe.hotspots.merging import merge_topics
from guanghe.hotspots.notices import notify_new_hotspots
from guanghe.hotspots.topics import topic_key, work_topics
from guanghe.store import Hotspot, TopicHourlyCount, as_stored, select_rows

#: Hours of activity kept as a hotspot's curve.
CURVE_HOURS: Final = 72
#: Example works kept per hotspot.
EXAMPLES: Final = 3


@dataclass(frozen=True, slots=True)
class NewHotspot:
    """A hotspot a detection run added."""

    id: int
    vertical_id: int
    topic: str
    state: str
    onset_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DetectionSummary:
    """What a run did: keys scored, hotspots active after it, added, ended, and the notices
    written about the added ones."""

    keys_scored: int
    active: int
    new: tuple[NewHotspot, ...]
    ended: int
    notices: int


@dataclass(frozen=True, slots=True)
class _Found:
    """One merged hot topic of one vertical, ready to be stored."""

    vertical_id: int
    topic: str
    aliases: list[str]
    state: str
    score: float
    lift: float
    recent_works: int
    onset_at: dt.datetime
    peak_at: dt.datetime
    curve: list[float]
    example_work_ids: list[int]


def last_detection(session: Session) -> dt.datetime | None:
    """When hotspots were last refreshed (the newest ``updated_at``), if ever."""
    return session.scalar(select(func.max(Hotspot.updated_at)))


def detect_hotspots(
    session: Session,
    log: EventLog,
    *,
    now: dt.datetime,
    detector: HotspotDetector | None = None,
) -> DetectionSummary:
    """Score the counts up to ``now`` and upsert the hotspots; see the module docstring."""
    detector = detector or HotspotDetector()
    last = floor_hour(now - dt.timedelta(microseconds=1))
    span = detector.baseline_hours + max(detector.windows_hours)
    first = last - (span - 1) * HOUR
    counts, keys = _load_counts(session, first, last, span, detector.min_support)
    found: list[_Found] = []
    if keys:
        detector.fit(counts)
        found = _found(session, log, detector, counts, keys, first, last)
    kept, new, ended = _store(session, found, now)
    notices = notify_new_hotspots(session, new, now=now)
    return DetectionSummary(len(keys), kept, new, ended, notices)


def detect_after_ingest(
    session: Session, log: EventLog, events: pa.Table
) -> DetectionSummary | None:
    """Detect as of the end of the latest hour of an ingested batch of ``events``, unless a
    detection as late or later already ran (a backfill of old events leaves today's hotspots
    alone); None when it does not run."""
    hours = touched_hours(events)
    if not hours:
        return None
    now = hours[-1] + HOUR
    latest = last_detection(session)
    if latest is not None and latest >= now:
        return None
    return detect_hotspots(session, log, now=now)


def _load_counts(
    session: Session, first: dt.datetime, last: dt.datetime, span: int, min_support: int
) -> tuple[TopicCounts, list[tuple[int, str]]]:
    rows = select_rows(
        session,
        select(
            TopicHourlyCount.vertical_id,
            TopicHourlyCount.topic,
            # A span's few hundred hours are made UTC hours once each below, not once per row.
            as_stored(TopicHourlyCount.hour),
            TopicHourlyCount.works,
            TopicHourlyCount.engagement,
        ).where(TopicHourlyCount.hour >= first, TopicHourlyCount.hour <= last),
    ).all()
    offsets: dict[dt.datetime, int] = {}

    def offset(stored: dt.datetime) -> int:
        """Hours from ``first`` to the stored hour (naive on SQLite: UTC)."""
        at = offsets.get(stored)
        if at is None:
            utc = stored.replace(tzinfo=dt.UTC) if stored.tzinfo is None else stored
            at = offsets[stored] = (floor_hour(utc) - first) // HOUR
        return at

    verticals = sorted({int(r[0]) for r in rows})
    group = {v: i for i, v in enumerate(verticals)}
    totals = [r for r in rows if r[1] == TOTAL]
    support: dict[tuple[int, str], int] = defaultdict(int)
    for r in rows:
        if r[1] != TOTAL:
            support[int(r[0]), str(r[1])] += int(r[3])
    keys = sorted(k for k, n in support.items() if n >= min_support)
    index = {k: i for i, k in enumerate(keys)}
    topic_rows = [r for r in rows if (int(r[0]), str(r[1])) in index]

    key_of = np.array([index[int(r[0]), str(r[1])] for r in topic_rows], dtype=np.int64)
    group_of = np.array([group[int(r[0])] for r in totals], dtype=np.int64)
    at = np.array([offset(r[2]) for r in topic_rows], dtype=np.int64)
    total_at = np.array([offset(r[2]) for r in totals], dtype=np.int64)
    works = np.array([r[3] for r in topic_rows], dtype=np.float64)
    engaged = np.array([r[4] for r in topic_rows], dtype=np.float64)
    counts = TopicCounts(
        works=hourly_counts(key_of, at, len(keys), span, works),
        engagement=hourly_counts(key_of, at, len(keys), span, engaged),
        key_group=np.array([group[v] for v, _ in keys], dtype=np.int64),
        group_works=hourly_counts(
            group_of, total_at, len(verticals), span, np.array([r[3] for r in totals], float)
        ),
        group_engagement=hourly_counts(
            group_of, total_at, len(verticals), span, np.array([r[4] for r in totals], float)
        ),
    )
    return counts, keys


def _found(
    session: Session,
    log: EventLog,
    detector: HotspotDetector,
    counts: TopicCounts,
    keys: list[tuple[int, str]],
    first: dt.datetime,
    last: dt.datetime,
) -> list[_Found]:
    """The reported keys, merged per vertical, with examples and curves."""
    reported = np.flatnonzero(detector.states_ > 0)
    if reported.size == 0:
        return []
    recent_from = last - (detector.recent_hours - 1) * HOUR
    wanted = {keys[i] for i in reported}
    carriers: dict[tuple[int, str], set[int]] = defaultdict(set)
    hashtags: set[str] = set()
    for work in works_published(session, recent_from, last + HOUR):
        hashtags.update(topic_key(t) for t in work.hashtags)
        for topic in work_topics(work.title, work.hashtags):
            if (work.vertical_id, topic) in wanted:
                carriers[work.vertical_id, topic].add(work.id)
    engagement = {
        w: sum(per_hour.values())
        for w, per_hour in engagement_by_work_hour(log, recent_from, last + HOUR).items()
    }
    offset = max(counts.shape[1] - detector.recent_hours, 0)
    recent = slice(offset, None)
    weight = detector.engagement_weights(counts)
    activity = counts.works + weight[counts.key_group, None] * counts.engagement
    by_vertical: dict[int, list[int]] = defaultdict(list)
    for i in reported.tolist():
        by_vertical[keys[i][0]].append(i)
    found = []
    for vertical_id, members in sorted(by_vertical.items()):
        scores = [float(detector.scores_[i, recent].max()) for i in members]
        sets = [carriers[keys[i]] for i in members]
        names = [keys[i][1] for i in members]
        for group in merge_topics(names, scores, sets, [n in hashtags for n in names]):
            lead = members[group[0]]
            best = offset + int(np.argmax(detector.scores_[lead, recent]))
            works = set().union(*(sets[g] for g in group))
            examples = sorted(works, key=lambda w: (-engagement.get(w, 0), -w))[:EXAMPLES]
            found.append(
                _Found(
                    vertical_id=vertical_id,
                    topic=keys[lead][1],
                    aliases=[keys[members[g]][1] for g in group[1:]],
                    state=STATES[int(detector.states_[lead])],
                    score=round(max(scores[g] for g in group), 3),
                    lift=round(float(detector.lifts_[lead, best]), 3),
                    recent_works=len(works),
                    onset_at=first + int(detector.onset_hour_[lead]) * HOUR,
                    peak_at=first + int(detector.peak_hour_[lead]) * HOUR,
                    curve=[round(float(a), 2) for a in activity[lead, -CURVE_HOURS:]],
                    example_work_ids=examples,
                )
            )
    return found


def _store(
    session: Session, found: list[_Found], now: dt.datetime
) -> tuple[int, tuple[NewHotspot, ...], int]:
    """Upsert ``found``; mark the active hotspots not in it inactive. Returns how many are
    active, the new ones, and how many ended."""
    active = {
        (row.vertical_id, row.topic): row
        for row in session.scalars(select(Hotspot).where(Hotspot.active.is_(True)))
    }
    hot_in: dict[str, set[int]] = defaultdict(set)
    for f in found:
        for topic in (f.topic, *f.aliases):
            hot_in[topic].add(f.vertical_id)
    curve_start = floor_hour(now - dt.timedelta(microseconds=1)) - (CURVE_HOURS - 1) * HOUR
    new: list[NewHotspot] = []
    kept: set[int] = set()
    for f in found:
        row = _match(session, active, f)
        created = row is None
        if row is None:
            row = Hotspot(vertical_id=f.vertical_id, topic=f.topic, onset_at=f.onset_at)
            row.detected_at = now
            session.add(row)
        verticals = set().union(*(hot_in[t] for t in (f.topic, *f.aliases)))
        row.aliases, row.state, row.active = f.aliases, f.state, True
        row.score, row.lift, row.recent_works = f.score, f.lift, f.recent_works
        row.peak_at, row.updated_at, row.curve_start = f.peak_at, now, curve_start
        row.curve, row.example_work_ids = f.curve, f.example_work_ids
        row.vertical_ids = sorted(verticals)
        session.flush()
        kept.add(row.id)
        if created:
            new.append(NewHotspot(row.id, f.vertical_id, f.topic, f.state, f.onset_at))
    ended = [row for row in active.values() if row.id not in kept]
    for row in ended:
        row.active, row.updated_at = False, now
    session.flush()
    return len(kept), tuple(new), len(ended)


def _match(session: Session, active: dict[tuple[int, str], Hotspot], f: _Found) -> Hotspot | None:
    """The stored hotspot ``f`` continues: active under one of its names, or the same burst."""
    for topic in (f.topic, *f.aliases):
        row = active.get((f.vertical_id, topic))
        if row is not None:
            if row.topic != f.topic:
                del active[f.vertical_id, row.topic]
                active[f.vertical_id, f.topic] = row
                row.topic = f.topic
            return row
    return session.scalar(
        select(Hotspot).where(
            Hotspot.vertical_id == f.vertical_id,
            Hotspot.topic == f.topic,
            Hotspot.onset_at == f.onset_at,
        )
    )
