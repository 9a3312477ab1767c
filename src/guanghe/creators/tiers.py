"""Writing the day's assessment to the store: each creator's stage, and tier history rows
where the tier changed. The caller (the cycle step) owns the transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

import pyarrow as pa
from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from guanghe.notifications import NoticeDraft, notify_many
from guanghe.store import Creator, CreatorTierHistory, select_rows
from guanghe.store.bulk import execute_many

#: Rows are inserted through the table (Core executemany), not the ORM's bulk insert.
_TIER_HISTORY = cast(Table, CreatorTierHistory.__table__)


@dataclass(frozen=True, slots=True)
class AssessmentWrite:
    """What :func:`record_assessment` changed."""

    stages_changed: int
    tiers_changed: int


def record_assessment(
    session: Session, date: dt.date, assessment: pa.Table, *, now: dt.datetime
) -> AssessmentWrite:
    """Set ``creators.stage`` and keep tier history for the assessment of ``date``.

    A history row (``since = date``) is written when the tier differs from the creator's tier
    before ``date``; re-running a date replaces that date's row, or removes it when the tier
    turns out unchanged, so the result depends only on the date and the history before it.
    A creator whose tier changed gets a ``tier_change`` notice (once per date), written at
    ``now`` in this transaction.
    """
    ids = assessment["creator_id"].to_pylist()
    stages = assessment["stage"].to_pylist()
    tiers = assessment["tier"].to_pylist()
    qualities = assessment["quality"].to_pylist()
    current: dict[int, str] = dict(select_rows(session, select(Creator.id, Creator.stage)).all())
    stage_updates = [
        {"id": cid, "stage": stage}
        for cid, stage in zip(ids, stages, strict=True)
        if cid in current and current[cid] != stage
    ]
    if stage_updates:
        session.execute(update(Creator), stage_updates)
    before = _tiers_before(session, date)
    same_day = set(
        session.scalars(
            select(CreatorTierHistory.creator_id).where(CreatorTierHistory.since == date)
        )
    )
    stale = [cid for cid in ids if cid in same_day]
    for chunk in _chunks(stale):
        session.execute(
            delete(CreatorTierHistory).where(
                CreatorTierHistory.since == date, CreatorTierHistory.creator_id.in_(chunk)
            )
        )
    rows = [
        {"creator_id": cid, "since": date, "tier": tier, "stage": stage, "quality": quality}
        for cid, tier, stage, quality in zip(ids, tiers, stages, qualities, strict=True)
        if cid in current and before.get(cid) != tier
    ]
    if rows:
        execute_many(session.connection(), insert(_TIER_HISTORY), rows)
    _notify_tier_changes(session, date, rows, before, now=now)
    return AssessmentWrite(stages_changed=len(stage_updates), tiers_changed=len(rows))


def _notify_tier_changes(
    session: Session,
    date: dt.date,
    rows: list[dict[str, object]],
    before: dict[int, str],
    *,
    now: dt.datetime,
) -> None:
    """Tell each creator whose tier changed (not a first assessment), once per day."""
    notify_many(
        session,
        [
            NoticeDraft(
                int(str(row["creator_id"])),
                "tier_change",
                f"Your growth tier is now {row['tier']}",
                f"From {date.isoformat()} your tier is {row['tier']} "
                f"(it was {before[int(str(row['creator_id']))]}); see your growth page for the "
                "rights it unlocks.",
                dedupe_key=f"tier:{date.isoformat()}",
                data={
                    "day": date.isoformat(),
                    "tier": row["tier"],
                    "previous_tier": before[int(str(row["creator_id"]))],
                },
            )
            for row in rows
            if int(str(row["creator_id"])) in before
        ],
        now=now,
    )


def _tiers_before(session: Session, date: dt.date) -> dict[int, str]:
    """Each creator's tier on the day before ``date`` (absent: never assessed)."""
    latest = (
        select(
            CreatorTierHistory.creator_id,
            func.max(CreatorTierHistory.since).label("since"),
        )
        .where(CreatorTierHistory.since < date)
        .group_by(CreatorTierHistory.creator_id)
        .subquery()
    )
    query = select(CreatorTierHistory.creator_id, CreatorTierHistory.tier).join(
        latest,
        (latest.c.creator_id == CreatorTierHistory.creator_id)
        & (latest.c.since == CreatorTierHistory.since),
    )
    return dict(session.execute(query).all())


def _chunks(ids: list[int], size: int = 5_000) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
