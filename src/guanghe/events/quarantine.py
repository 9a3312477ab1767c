"""Quarantine: the supported way to take a logged event out of use without editing the log.

A logged event that must not count (its text poisons a store, it was sent in error, it is
fraud) gets a tombstone saying who quarantined it, when and why. Tombstones are appended, one
file per quarantine, under the log's lock, and never changed or removed; every reader of the log
passes over the events they name (see :class:`guanghe.events.EventLog`), so the daily cycle
stops counting and settling them from its next run. Ingesting the event again changes nothing:
it is already logged, and stays quarantined.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from guanghe.errors import InvalidInput, NotFound
from guanghe.events.log import EventLog
from guanghe.events.schema import TOMBSTONE_SCHEMA
from guanghe.text import check_text

MAX_REASON_CHARS = 1_000
MAX_BY_CHARS = 200


@dataclass(frozen=True, slots=True)
class Tombstone:
    """One quarantined event: who took it out of use, when and why."""

    event_id: str
    quarantined_at: dt.datetime
    quarantined_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class QuarantineResult:
    """The tombstones written, and those the events already had (left as they were)."""

    added: list[Tombstone]
    already: list[Tombstone]


def quarantine_events(
    log: EventLog, event_ids: Sequence[str], *, reason: str, by: str, at: dt.datetime
) -> QuarantineResult:
    """Quarantine the logged events ``event_ids``; all of them or, if one is not in the log
    (:class:`NotFound`), none.

    An event already quarantined keeps its first tombstone (returned in ``already``).
    """
    reason, by = reason.strip(), by.strip()
    if not event_ids:
        raise InvalidInput("name at least one event to quarantine")
    if not reason or not by:
        raise InvalidInput("a quarantine needs a reason and who asks for it")
    check_text(reason, field="reason", max_chars=MAX_REASON_CHARS)
    check_text(by, field="by", max_chars=MAX_BY_CHARS)
    if at.tzinfo is None:
        raise InvalidInput("the quarantine time needs a time zone")
    wanted = list(dict.fromkeys(event_ids))
    loggable = [e for e in wanted if _is_utf8(e)]  # no logged id holds a lone surrogate
    with log.writer() as writer:
        ids = pa.table({"event_id": pa.array(loggable, pa.string())})
        logged = set(writer.existing(ids)["event_id"].to_pylist())
        missing = [e for e in wanted if e not in logged]
        if missing:
            shown = ", ".join(ascii(e) for e in missing[:5])
            raise NotFound(f"{len(missing)} event(s) not in the event log: {shown}")
        earlier = {t.event_id: t for t in tombstones(log)}
        added = [Tombstone(e, at, by, reason) for e in wanted if e not in earlier]
        if added:
            writer.add_tombstones(pa.Table.from_pylist(_rows(added), schema=TOMBSTONE_SCHEMA))
    return QuarantineResult(added, [earlier[e] for e in wanted if e in earlier])


def tombstones(log: EventLog) -> list[Tombstone]:
    """The first tombstone of every quarantined event, oldest first."""
    first: dict[str, Tombstone] = {}
    for row in log.tombstones().to_pylist():
        first.setdefault(row["event_id"], Tombstone(**row))
    return list(first.values())


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _rows(stones: list[Tombstone]) -> list[dict[str, object]]:
    return [
        {
            "event_id": t.event_id,
            "quarantined_at": t.quarantined_at.astimezone(dt.UTC),
            "quarantined_by": t.quarantined_by,
            "reason": t.reason,
        }
        for t in stones
    ]
