"""Bringing works that reached the store without the publication check into the fingerprint
index.

Two ways in, both in publication order and both idempotent (a work with an attribution row is
done):

* :func:`register_works`: works known to be originals (the synthetic platform's, a trusted
  catalogue) are fingerprinted and attributed as originals at their publication time.
* :func:`backfill_works`: works of unknown provenance (bulk imports, any path that skipped
  the check) are checked against every work published before them, then fingerprinted; a copy
  is attributed to its original as at publication, a suspect opens a review case.

Works indexed before covers kept keypoints (rows with a negative tag) have their cover's
keypoint rows added by :func:`backfill_keypoints`, in work order, also idempotently (a work
with a keypoint row is done); a cover in which ORB finds no keypoint has none to add (as at
publication), is reported, and is recorded as scanned so that no later backfill reads it again.

A work whose cover cannot be read is not indexed and is reported, never skipped in silence.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, insert, select, tuple_
from sqlalchemy.orm import Session

from guanghe.originality.attribution import (
    OriginalityCheck,
    check_originality,
    fingerprint_values,
    record_attribution,
    record_fingerprints,
    verdict_values,
)
from guanghe.originality.registry import FingerprintIndex
from guanghe.store import (
    CopyMatch,
    CoverKeypointScan,
    OriginalityDecision,
    Work,
    WorkFingerprint,
    WorkOriginality,
    WorkTextSignature,
)

#: Works checked per batch (one transaction each, so a long backfill resumes where it stopped).
BACKFILL_BATCH: Final = 200
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BackfillBatch:
    """What one :func:`backfill_works` call did; ``after`` is where the next batch starts
    (None when no unindexed work is left past it)."""

    checked: int
    duplicates: int
    suspects: int
    unreadable: tuple[int, ...]
    after: tuple[dt.datetime, int] | None


def count_unindexed(session: Session) -> int:
    """Works with a cover and no fingerprints or attribution yet."""
    query = (
        select(func.count())
        .select_from(Work)
        .where(
            Work.cover_path.is_not(None),
            ~select(WorkOriginality.work_id).where(WorkOriginality.work_id == Work.id).exists(),
        )
    )
    return int(session.scalar(query) or 0)


def _missing_keypoints() -> Any:
    """Indexed works with a cover and no keypoint row (fingerprinted before keypoints were),
    except covers already scanned and found to have none."""
    return (
        select(Work.id, Work.cover_path)
        .where(
            Work.cover_path.is_not(None),
            select(WorkOriginality.work_id).where(WorkOriginality.work_id == Work.id).exists(),
            ~select(WorkFingerprint.work_id)
            .where(WorkFingerprint.work_id == Work.id, WorkFingerprint.tag < 0)
            .exists(),
            ~select(CoverKeypointScan.work_id).where(CoverKeypointScan.work_id == Work.id).exists(),
        )
        .order_by(Work.id)
    )


def count_missing_keypoints(session: Session) -> int:
    """Indexed works with a cover and no keypoint rows, not yet scanned."""
    query = select(func.count()).select_from(_missing_keypoints().order_by(None).subquery())
    return int(session.scalar(query) or 0)


@dataclass(frozen=True, slots=True)
class KeypointBatch:
    """What one :func:`backfill_keypoints` call did: works given keypoint rows, rows added,
    covers with no keypoint found and unreadable covers; ``after`` is the work id the next
    batch starts after (None when none is left past it)."""

    filled: int
    rows: int
    without_keypoints: tuple[int, ...]
    unreadable: tuple[int, ...]
    after: int | None


def backfill_keypoints(
    session: Session,
    covers_dir: Path,
    *,
    now: dt.datetime,
    after: int | None = None,
    limit: int = BACKFILL_BATCH,
) -> KeypointBatch:
    """Add the cover keypoint rows (those :func:`fingerprint_values` makes at publication) of
    up to ``limit`` indexed works without any, with ids above ``after``; a cover with none is
    recorded as scanned at ``now``. The caller commits; the keypoint index picks the rows up
    as it catches up with the table."""
    query = _missing_keypoints()
    if after is not None:
        query = query.where(Work.id > after)
    rows = session.execute(query.limit(limit)).all()
    filled, added, without, unreadable = 0, 0, [], []
    for work_id, relpath in rows:
        cover = _load_cover(covers_dir, work_id, str(relpath))
        if cover is None:
            unreadable.append(int(work_id))
            continue
        values = fingerprint_values(work_id, cover=cover).fingerprints
        keypoints = [row for row in values if row["tag"] < 0]
        if not keypoints:
            without.append(int(work_id))
            continue
        session.execute(insert(WorkFingerprint), keypoints)
        filled += 1
        added += len(keypoints)
    if without:
        session.execute(
            insert(CoverKeypointScan), [{"work_id": w, "scanned_at": now} for w in without]
        )
    last = int(rows[-1].id) if len(rows) == limit else None
    return KeypointBatch(filled, added, tuple(without), tuple(unreadable), last)


def _load_cover(covers_dir: Path, work_id: int, relpath: str) -> Image.Image | None:
    try:
        with Image.open(covers_dir / relpath) as image:
            return image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        _log.warning("cover of work %s unreadable: %s", work_id, exc)
        return None


def _text(title: str, caption: str, hashtags: list[str] | None) -> str:
    return " ".join((title, caption, *(hashtags or [])))


def backfill_works(
    session: Session,
    index: FingerprintIndex,
    covers_dir: Path,
    *,
    now: dt.datetime,
    after: tuple[dt.datetime, int] | None = None,
    limit: int = BACKFILL_BATCH,
) -> BackfillBatch:
    """Check and index up to ``limit`` unindexed works published after the key ``after``
    (``(published_at, id)``), oldest first, each against the works published before it.
    Decisions are dated ``now``; the caller commits."""
    query = select(
        Work.id,
        Work.published_at,
        Work.cover_path,
        Work.creator_id,
        Work.title,
        Work.caption,
        Work.hashtags,
    ).where(
        Work.cover_path.is_not(None),
        ~select(WorkOriginality.work_id).where(WorkOriginality.work_id == Work.id).exists(),
    )
    if after is not None:
        query = query.where(tuple_(Work.published_at, Work.id) > tuple_(*after))
    rows = session.execute(query.order_by(Work.published_at, Work.id).limit(limit)).all()
    checked, duplicates, suspects, unreadable = 0, 0, 0, []
    for row in rows:
        cover = _load_cover(covers_dir, row.id, str(row.cover_path))
        if cover is None:
            unreadable.append(int(row.id))
            continue
        text = _text(row.title, row.caption, row.hashtags)
        check = check_originality(
            session,
            index,
            covers_dir,
            creator_id=row.creator_id,
            cover=cover,
            text=text,
            published_at=row.published_at,
        )
        record_fingerprints(session, row.id, cover=cover, text=text)
        record_attribution(session, row.id, check, now=now, context="checked by the backfill")
        session.flush()
        checked += 1
        duplicates += check.verdict == "duplicate"
        suspects += check.verdict == "suspect"
    last = (rows[-1].published_at, int(rows[-1].id)) if len(rows) == limit else None
    return BackfillBatch(checked, duplicates, suspects, tuple(unreadable), last)


@dataclass
class _PendingRows:
    """Column values of registered works' rows, not yet inserted."""

    fingerprints: list[dict[str, Any]] = field(default_factory=list)
    signatures: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)

    def insert(self, session: Session) -> None:
        """Insert the pending rows (one executemany per table) and forget them."""
        for model, rows in (
            (WorkFingerprint, self.fingerprints),
            (WorkTextSignature, self.signatures),
            (WorkOriginality, self.verdicts),
            (OriginalityDecision, self.decisions),
        ):
            if rows:
                session.execute(insert(model), rows)
                rows.clear()


def register_works(session: Session, covers_dir: Path, work_ids: list[int]) -> int:
    """Fingerprint works known to be originals (the synthetic platform's, a trusted
    catalogue), attributed as originals at their publication time, in publication order;
    works already indexed or without a readable cover are skipped. Returns how many were
    registered; the caller commits."""
    rows = session.execute(
        select(Work.id, Work.published_at, Work.cover_path, Work.title, Work.caption, Work.hashtags)
        .where(
            Work.id.in_(work_ids),
            Work.cover_path.is_not(None),
            ~select(WorkOriginality.work_id).where(WorkOriginality.work_id == Work.id).exists(),
        )
        .order_by(Work.published_at, Work.id)
    ).all()
    registered = 0
    check = OriginalityCheck("original", None, None, None, None, "registered from the catalogue")
    # A work with a match in force has it ended by its new verdict (record_attribution); the
    # others (all of them, ordinarily) need no match sync, so their rows are inserted in bulk,
    # in the same order as one at a time.
    matched = set(
        session.scalars(
            select(CopyMatch.copy_work_id).where(
                CopyMatch.copy_work_id.in_([row.id for row in rows]),
                CopyMatch.ended_at.is_(None),
            )
        )
    )
    pending = _PendingRows()
    for work_id, published_at, relpath, title, caption, hashtags in rows:
        cover = _load_cover(covers_dir, work_id, str(relpath))
        if cover is None:
            continue
        text = _text(title, caption, hashtags)
        if work_id in matched:
            pending.insert(session)
            record_fingerprints(session, work_id, cover=cover, text=text)
            record_attribution(session, work_id, check, now=published_at, context="registered")
        else:
            values = fingerprint_values(work_id, cover=cover, text=text)
            pending.fingerprints.extend(values.fingerprints)
            pending.signatures.extend([] if values.signature is None else [values.signature])
            verdict, decision = verdict_values(
                work_id, check, now=published_at, context="registered"
            )
            pending.verdicts.append(verdict)
            pending.decisions.append(decision)
        registered += 1
    pending.insert(session)
    session.flush()
    return registered
