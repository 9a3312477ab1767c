"""The texts of works in bulk, for capabilities that read the stream of works (hotspots)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.store import Work, select_rows

_CHUNK = 1_000


@dataclass(frozen=True, slots=True)
class WorkText:
    """What a work says about itself: title and hashtags, with its vertical and time."""

    id: int
    creator_id: int
    vertical_id: int
    published_at: dt.datetime
    title: str
    hashtags: tuple[str, ...]


_COLUMNS = (
    Work.id,
    Work.creator_id,
    Work.vertical_id,
    Work.published_at,
    Work.title,
    Work.hashtags,
)


def _text(row: tuple[object, ...]) -> WorkText:
    hashtags = row[5] if isinstance(row[5], list) else []
    return WorkText(
        int(str(row[0])),
        int(str(row[1])),
        int(str(row[2])),
        row[3],  # type: ignore[arg-type]
        str(row[4]),
        tuple(str(t) for t in hashtags),
    )


def works_published(
    session: Session, start: dt.datetime, end: dt.datetime, *, creator_id: int | None = None
) -> list[WorkText]:
    """Works published in ``[start, end)`` (of one creator if given), oldest first."""
    query = select(*_COLUMNS).where(Work.published_at >= start, Work.published_at < end)
    if creator_id is not None:
        query = query.where(Work.creator_id == creator_id)
    rows = select_rows(session, query.order_by(Work.published_at, Work.id))
    return [_text(tuple(row)) for row in rows]


def works_with_ids(session: Session, work_ids: Sequence[int]) -> list[WorkText]:
    """The works among ``work_ids`` that exist, in id order."""
    found: list[WorkText] = []
    for chunk in _chunks(sorted(set(work_ids))):
        rows = select_rows(session, select(*_COLUMNS).where(Work.id.in_(chunk)))
        found.extend(_text(tuple(row)) for row in rows)
    return sorted(found, key=lambda w: w.id)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]
